"""The database went away: a 503 that says so, in Chinese, with no stack trace — never a 500.

Put first in MIDDLEWARE, so that it sees what every other middleware and the view answered:

    "guanai.web.unavailable.DatabaseUnavailableMiddleware",

A view's error comes through `process_exception`. An error raised in another middleware (the session
saved on the way out, the actor loaded on the way in) has already been turned into Django's 500 page by
the time this middleware sees the response, so `got_request_exception` marks the request and the 500 is
replaced here. The JSON API answers its own 503 (`guanai.core.api.install_error_handlers`); what reaches
this middleware under /api/ gets the same JSON shape.

Nothing half-done is left behind: every write is a service in `transaction.atomic`, so a write that
answered 503 rolled back as a whole, and one that answered 2xx/302 had committed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

from guanai.core.api import DATABASE_UNAVAILABLE_RETRY_AFTER, database_unavailable_message

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = DATABASE_UNAVAILABLE_RETRY_AFTER
API_PREFIX = "/api/"
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
_MARK = "_guanai_database_unavailable"


def is_database_unavailable(error: BaseException | None) -> bool:
    """Connection refused, server closed the connection, connection already closed, database locked:
    errors that are over when the database is back, unlike a programming error."""
    return isinstance(error, UNAVAILABLE_ERRORS)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a page (rendered without the database) for the rest."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {"code": "database_unavailable", "message": database_unavailable_message(), "fields": {}},
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        # No request context: the context processors would ask the database for the actor and menu.
        page = loader.render_to_string("web/503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark_unavailable(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent by Django inside its `except` block, so the error is the one being handled.
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_unavailable, dispatch_uid="guanai.web.unavailable")


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False) and response.status_code >= 500:
            return database_unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)
