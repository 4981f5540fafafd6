"""Every page and every API operation declares its permission; one that does not is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path

from config.api import api
from guanai.core.access import Permission, declared_permission, public
from guanai.core.api import Router


def walk_patterns(patterns: list[Any], namespaces: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from walk_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and "api" not in namespaces:
            yield str(pattern.pattern), pattern.callback


def api_operations() -> Iterator[tuple[str, str, Any]]:
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield prefix + route, ",".join(operation.methods), operation.view_func


def test_every_page_declares_its_permission() -> None:
    pages = list(walk_patterns(get_resolver().url_patterns))
    assert len(pages) >= 10
    undeclared = [route for route, view in pages if declared_permission(view) is None]
    assert undeclared == []


def test_every_api_operation_declares_its_permission() -> None:
    operations = list(api_operations())
    assert {(route, methods) for route, methods, _ in operations} >= {
        ("/me", "GET"),
        ("/regions/{code}", "GET"),
        ("/regions/{code}/children", "GET"),
        ("/committees/", "GET"),
        ("/committees/{committee_id}", "GET"),
    }
    undeclared = [
        (route, methods) for route, methods, view in operations if declared_permission(view) is None
    ]
    assert undeclared == []


def test_every_api_operation_has_an_operation_id() -> None:
    schema = api.get_openapi_schema()
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    assert all(not op_id.startswith("guanai_") for op_id in ids)


# A page without a declaration, mounted only for the tests below.
def undeclared_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("secret")


@public
def public_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


urlpatterns = [
    path("undeclared/", undeclared_view),
    path("open/", public_view),
    path("", include("config.urls")),
]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.django_db
def test_a_page_that_declares_nothing_is_refused_even_to_the_province_admin(
    clients: dict[str, Client],
) -> None:
    for persona in ("anonymous", "province_admin", "system_admin"):
        response = clients[persona].get("/undeclared/")
        assert response.status_code == 403
        assert b"secret" not in response.content
    assert clients["anonymous"].get("/open/").content == b"hello"


def test_an_api_operation_that_declares_nothing_refuses_every_call(rf: Any) -> None:
    router = Router()

    @router.get("/x")
    def undeclared(request: HttpRequest) -> dict[str, str]:
        return {"secret": "value"}

    operation = router.path_operations["/x"].operations[0]
    assert operation.view_func is not undeclared
    assert declared_permission(operation.view_func) is None
    with pytest.raises(Exception, match="未声明") as raised:
        operation.view_func(rf.get("/x"))
    assert getattr(raised.value, "status", None) == 403


def test_permissions_are_all_used_by_some_role() -> None:
    from guanai.core.access import ROLE_PERMISSIONS

    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted | {Permission.PUBLIC, Permission.SIGNED_IN} == set(Permission)
