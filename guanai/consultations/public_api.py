"""The public JSON API of online help, at /api/v1/public/consultations: intake without an account, and
the requester's reading and writing back with the retrieval code (header X-Retrieval-Code)."""

from guanai.core.api import Router

router = Router(tags=["网上求助（公众）"])
