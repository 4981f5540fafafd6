"""The knowledge base's JSON API, at /api/v1/knowledge."""

from guanai.core.api import Router

router = Router(tags=["知识库"])
