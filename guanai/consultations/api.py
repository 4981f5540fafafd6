"""The professionals' JSON API of their conversations, at /api/v1/consultations."""

from guanai.core.api import Router

router = Router(tags=["咨询服务"])
