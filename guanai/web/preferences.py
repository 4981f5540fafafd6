"""Elder mode (长辈模式) and the interface language: remembered on the account when signed in, in the
session before that (so an elder can switch it on at the login page)."""

from __future__ import annotations

from django.http import HttpRequest

ELDER_MODE_SESSION_KEY = "guanai_elder_mode"


def elder_mode_on(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(user.elder_mode)
    return bool(request.session.get(ELDER_MODE_SESSION_KEY, False))
