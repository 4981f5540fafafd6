"""The queue, accepting, declining and reassigning requests, and the duty rosters (full paths:
/api/v1/consultations/queue, /api/v1/consultations/{id}/accept, /api/v1/duty-slots, …)."""

from guanai.core.api import Router

router = Router(tags=["咨询值班"])
