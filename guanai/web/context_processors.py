from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from guanai.core.access import request_actor
from guanai.regions.selectors import region_breadcrumb
from guanai.web.navigation import navigation_for
from guanai.web.preferences import elder_mode_on


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the page shell needs on every page: the actor, the region breadcrumb, the modules."""
    actor = request_actor(request)
    section = request.path.strip("/").split("/", 1)[0]
    return {
        "actor": actor,
        "region_breadcrumb": region_breadcrumb(code=actor.region_code) if actor.region_code else [],
        "navigation": navigation_for(actor),
        "current_section": section,
        "elder_mode": elder_mode_on(request),
        "idle_seconds": settings.SESSION_COOKIE_AGE,
        "idle_warning_seconds": settings.GUANAI_IDLE_WARNING_SECONDS,
    }
