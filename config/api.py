"""The one NinjaAPI, at /api/v1. Each app contributes a router; each router refuses operations that
declare no permission (guanai.core.api.Router)."""

from __future__ import annotations

from ninja import NinjaAPI

from guanai.accounts.api import router as accounts_router
from guanai.audit.api import router as audit_router
from guanai.audit.services import audit_access_denied
from guanai.cafes.api import router as cafes_router
from guanai.committees.api import router as committees_router
from guanai.consultations.api import router as consultations_router
from guanai.consultations.duty_api import router as consultation_duty_router
from guanai.consultations.knowledge_api import router as knowledge_router
from guanai.consultations.public_api import router as public_consultations_router
from guanai.consultations.supervision_api import router as consultation_supervision_router
from guanai.core.api import (
    RENDERER,
    BearerTokenAuth,
    Router,
    SessionActorAuth,
    install_error_handlers,
)
from guanai.dashboards.api import router as dashboards_router
from guanai.mentoring.api import router as mentoring_router
from guanai.minors.api import router as minors_router
from guanai.pairings.api import router as pairings_router
from guanai.pairings.visits_api import router as visits_router
from guanai.regions.api import router as regions_router
from guanai.rights.api import router as rights_router
from guanai.volunteers.api import router as volunteers_router
from guanai.volunteers.api import teams_router


class GuanaiAPI(NinjaAPI):
    def add_router(self, prefix: str, router: object, **kwargs: object) -> None:
        if not isinstance(router, Router):
            raise TypeError(
                "every router must be a guanai.core.api.Router, which refuses undeclared operations"
            )
        super().add_router(prefix, router, **kwargs)  # type: ignore[arg-type]


api = GuanaiAPI(
    title="智慧关工委 API",
    version="1",
    description="guanai — 关工委信息平台的 JSON 接口。错误统一为 {code, message, fields}。",
    urls_namespace="api",
    auth=[BearerTokenAuth(), SessionActorAuth()],
    default_router=Router(),
    renderer=RENDERER,
)


install_error_handlers(api, on_denied=lambda request: audit_access_denied(request=request))

api.add_router("", accounts_router)
api.add_router("/regions", regions_router)
api.add_router("/committees", committees_router)
api.add_router("/audit", audit_router)
api.add_router("/minors", minors_router)
api.add_router("/volunteers", volunteers_router)
api.add_router("/teams", teams_router)
# Pairings and their follow-up declare full paths (/pairings/…, /minors/{id}/volunteer-suggestions,
# /visits/…, /mandatory-reports/…): they reach across the registry and the volunteers.
api.add_router("", pairings_router)
api.add_router("", visits_router)
api.add_router("/mentoring-cases", mentoring_router)
api.add_router("/cafes", cafes_router)
# Online legal and psychological help: the public intake, the professionals' conversations, the queue and
# duty rosters and the supervisors' figures (these two declare full paths), the knowledge base.
api.add_router("/public", public_consultations_router)
api.add_router("", consultation_duty_router)
api.add_router("", consultation_supervision_router)
api.add_router("/consultations", consultations_router)
api.add_router("/knowledge", knowledge_router)
api.add_router("/dashboards", dashboards_router)
# Data-subject requests about a child declare full paths (/subject-requests/…, /minors/{id}/subject-requests).
api.add_router("", rights_router)
