from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from guanai.accounts.selectors import actor_for_user
from guanai.core.access import ANONYMOUS, Actor

ACTIVE_ASSIGNMENT_SESSION_KEY = "guanai_active_assignment"


def session_actor(request: HttpRequest) -> Actor:
    user = request.user
    if not user.is_authenticated:
        return ANONYMOUS
    return actor_for_user(user, assignment_id=request.session.get(ACTIVE_ASSIGNMENT_SESSION_KEY))


class ActorMiddleware:
    """Sets `request.actor`: the signed-in user under their active role assignment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: session_actor(request))  # type: ignore[attr-defined]
        return self.get_response(request)
