"""Facts about a request that several modules need."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or — behind N trusted proxies (GUANAI_TRUSTED_PROXY_COUNT) —
    the address the outermost trusted proxy saw. Never a value the client could choose itself."""
    trusted = getattr(settings, "GUANAI_TRUSTED_PROXY_COUNT", 0)
    if trusted > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= trusted:
            return forwarded[-trusted]
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
