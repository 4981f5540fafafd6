"""The supervisors' JSON API (full paths: /api/v1/consultations/statistics, …): metadata only."""

from guanai.core.api import Router

router = Router(tags=["咨询服务监管"])
