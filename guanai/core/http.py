"""Facts about a request that several modules need."""

from __future__ import annotations

import ipaddress

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


UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a bucket for requests without a usable address, never bound


def ratelimit_ip(request: HttpRequest) -> str:
    """The address rate limits count by (RATELIMIT_IP_META_KEY): the client's address when it is one, else
    one shared bucket — a request without a usable address (a misconfigured proxy, a test client) is
    limited together with every other such request rather than failing with a server error."""
    address = client_ip(request) or ""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return UNKNOWN_ADDRESS
    return address


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:300]
