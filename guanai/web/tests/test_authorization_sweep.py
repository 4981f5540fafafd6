"""The authorization sweep: every page and every API operation, found by walking the URL configuration
and the API's routers (a new endpoint joins without anyone remembering), called as anonymous and as
every persona, with the objects of two counties present (`sweep_world`). Pages are called with GET and
with an empty POST (less the methods the view declares it does not take), API operations with their
method and an empty JSON body; path parameters are filled with county A's objects, and with county B's
for an actor outside county B who holds the permission.

For every request: no 5xx; nobody outside a county sees its marker text; an actor lacking the declared
permission is refused (401, 403, 404, 405, 400/422 of an empty body, or sent to the login page),
whatever the method; an actor holding it who names another county's object is refused in the same way,
changes nothing and sees nothing of it (only the public's code-asking pages, `CODE_ASKING_FLOWS`, answer
with a redirect to their form: listed, not failed).

Every request runs inside a savepoint rolled back afterwards, so each sees the same world and a write
that is allowed cannot disturb the next one. "Nothing changed" is decided by `database_fingerprint()`:
always for another county's object not refused outright; for a refusal, whenever the request executed
a write statement on a table that is not volatile (a request that wrote nothing changed nothing)."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.api import api
from guanai.accounts.selectors import actor_for_user
from guanai.core import region_codes
from guanai.core.access import ANONYMOUS as ANONYMOUS_ACTOR
from guanai.core.access import Actor, Permission, declared_permission
from guanai.core.testing import ANONYMOUS, COUNTY_A, COUNTY_B, PERSONAS, VOLATILE_MODELS, database_fingerprint
from guanai.web.tests.sweep_world import MARKER_A, MARKER_B, World, build_world

API_PREFIX = "/api/v1"
# What a refusal may answer. 400 and 422 come from the API validating an empty body before the
# operation runs (so before any object is looked up): still nothing is done.
REFUSALS = {400, 401, 403, 404, 405, 422}
NONEXISTENT_ID = 987654321
# The public's own requests and applications, opened by a reference or an application number: for any
# number, known or not, they answer with the form that asks for its retrieval code or the mobile number's
# SMS code (a redirect), so that no answer tells whether it exists. Listed, not failed; every other page and
# operation refuses another county's object outright.
CODE_ASKING_FLOWS = ("/help/my/", "/join/status/")
# Parameters that are not ids of the world: a fixed, harmless value.
FIXED_VALUES: dict[str, str] = {"field": "id_number", "decision": "approve"}
# Parameters the world has no object for: filled with an id (or token) that does not exist.
NONEXISTENT_TOKEN = "nonexistent-token-0000000000"

# At least as many as found when the sweep was written (pages, API operations); fewer means an
# endpoint was lost or the walk broke.
MINIMUM_PAGES = 180
MINIMUM_API_OPERATIONS = 125

# Holes found by the sweep and not yet fixed: (actor, method, path template, county of the objects)
# → what is wrong. Each makes that actor's sweep an expected failure until fixed.
KNOWN_HOLES: dict[tuple[str, str, str, str], str] = {}

_PARAMETER = re.compile(
    r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\{(?:(?P<api_converter>\w+):)?(?P<api_name>\w+)\}"
)
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_WRITE_STATEMENT = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "page" or "api"
    method: str
    template: str  # the full path with its parameters, e.g. /minors/<int:minor_id>/
    view: Any

    @property
    def permission(self) -> Permission | None:
        return declared_permission(self.view)

    @property
    def parameters(self) -> list[str]:
        return [m.group("name") or m.group("api_name") for m in _PARAMETER.finditer(self.template)]


def _pattern_text(pattern: Any) -> str:
    """The route of a pattern; a regular expression's named groups become <name> parameters."""
    text = str(pattern)
    if text.startswith("^"):
        text = _NAMED_GROUP.sub(r"<\1>", text.lstrip("^").rstrip("$"))
    return text


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = prefix + _pattern_text(pattern.pattern)
            if not inner.startswith(API_PREFIX.lstrip("/")):
                yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield "/" + prefix + _pattern_text(pattern.pattern), pattern.callback


def _page_methods(view: Any) -> list[str]:
    """GET and POST, less what the view declares it does not take: a class-based view's
    `http_method_names`, or the list closed over by `require_http_methods` (`require_POST`, ...)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return [m.upper() for m in ("get", "post") if m in view_class.http_method_names]
    function: Any = view
    while function is not None:
        allowed = inspect.getclosurevars(function).nonlocals.get("request_method_list")
        if allowed is not None:
            return [m for m in ("GET", "POST") if m in allowed]
        function = getattr(function, "__wrapped__", None)
    return ["GET", "POST"]


def discover_endpoints() -> list[Endpoint]:
    endpoints = [
        Endpoint("page", method, route, view)
        for route, view in _walk(get_resolver().url_patterns)
        for method in _page_methods(view)
    ]
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    endpoints.append(
                        Endpoint("api", method, API_PREFIX + prefix + route, operation.view_func)
                    )
    return endpoints


def fill(endpoint: Endpoint, world: World, county: str) -> tuple[str, list[str], bool]:
    """The path with its parameters filled from `county`'s objects; the parameters that could not be
    filled; whether any parameter named an object of the county."""
    ids = world.counties[county].ids
    unfilled: list[str] = []
    names_object = False

    def value(match: re.Match[str]) -> str:
        nonlocal names_object
        name = match.group("name") or match.group("api_name")
        converter = match.group("converter") or match.group("api_converter") or "str"
        if name in ids:
            names_object = True
            return str(ids[name])
        if name in FIXED_VALUES:
            return FIXED_VALUES[name]
        unfilled.append(name)
        return str(NONEXISTENT_ID) if converter == "int" or name.endswith("_id") else NONEXISTENT_TOKEN

    return _PARAMETER.sub(value, endpoint.template), unfilled, names_object


# --- One actor's sweep ---------------------------------------------------------------------------


def _actor(name: str, personas: dict[str, Any]) -> Actor:
    return ANONYMOUS_ACTOR if name == ANONYMOUS else actor_for_user(personas[name])


def _is_foreign(actor: Actor, county: str) -> bool:
    """Whether the county lies wholly outside the actor's region (anonymous: every county)."""
    code = actor.region_code
    if code is None:
        return True
    return not (region_codes.is_within(code, county) or region_codes.is_within(county, code))


def _body(response: HttpResponseBase) -> str:
    # A download is streamed: read it whole (the files are small here) so that a marker in it is seen.
    streaming = getattr(response, "streaming", False)
    raw = b"".join(response.streaming_content) if streaming else response.content  # type: ignore[attr-defined]
    return raw.decode("utf-8", errors="replace")


def _call(client: Client, endpoint: Endpoint, path: str) -> HttpResponseBase:
    method = endpoint.method.lower()
    if endpoint.method == "GET":
        return client.get(path)
    if endpoint.kind == "api":
        body = None if endpoint.method == "DELETE" else json.dumps({})
        return getattr(client, method)(path, data=body, content_type="application/json")
    return getattr(client, method)(path, data={})


# Rows that change on requests by design, beside `VOLATILE_MODELS`: django-axes logs every sign-in and
# sign-out (a persona's POST /logout/ is meant for them and answers with a redirect to the login page).
SWEEP_VOLATILE_MODELS = VOLATILE_MODELS | {"axes.accesslog"}


def _volatile_tables() -> set[str]:
    return {apps.get_model(label)._meta.db_table for label in SWEEP_VOLATILE_MODELS}


def _changed(baseline: dict[str, str]) -> list[str]:
    after = database_fingerprint()
    return sorted(
        label
        for label in baseline
        if label not in SWEEP_VOLATILE_MODELS and baseline[label] != after.get(label)
    )


@dataclass
class SweepResult:
    requests: int
    statuses: Counter[int]
    failures: list[str]
    holes: list[str]
    # Requests naming another county's objects that were not refused outright (a redirect back with an
    # error, a form shown again), yet changed nothing and showed nothing of the county.
    soft: list[str]
    # How many bodies showed each county's marker: the control that the markers are visible at all.
    seen: Counter[str]


def sweep(
    *, actor_name: str, client: Client, actor: Actor, world: World, endpoints: list[Endpoint]
) -> SweepResult:
    login_path = reverse("web:login")
    volatile = _volatile_tables()
    baseline = database_fingerprint()
    forbidden_markers = [
        objects.marker for county, objects in world.counties.items() if _is_foreign(actor, county)
    ]
    client.raise_request_exception = False
    result = SweepResult(requests=0, statuses=Counter(), failures=[], holes=[], soft=[], seen=Counter())
    for endpoint in endpoints:
        permitted = endpoint.permission is not None and actor.has(endpoint.permission)
        for county in (COUNTY_A, COUNTY_B):
            path, _unfilled, names_object = fill(endpoint, world, county)
            foreign_object = names_object and _is_foreign(actor, county)
            # County B's objects only where they make a difference: to an actor outside county B
            # holding the permission (without it, the declared permission refuses before any object is
            # looked up; inside both counties, county A's objects ask the same).
            if county == COUNTY_B and not (foreign_object and permitted):
                continue
            cookies = copy.deepcopy(client.cookies)
            cache.clear()  # rate limits count in the cache; thousands of requests come from one address
            problems: list[str] = []
            with transaction.atomic():
                with CaptureQueriesContext(connection) as queries:
                    response = _call(client, endpoint, path)
                body = _body(response)
                status = response.status_code
                location = response.get("Location", "")
                refused = status in REFUSALS or (status == 302 and location.startswith(login_path))
                if status >= 500:
                    problems.append(f"answered {status}")
                problems += [f"shows {marker}" for marker in forbidden_markers if marker in body]
                result.seen.update(
                    objects.marker for objects in world.counties.values() if objects.marker in body
                )
                if not permitted and not refused:
                    problems.append(f"lacks {endpoint.permission}, yet answered {status}")
                elif foreign_object and not refused:
                    changed = _changed(baseline)
                    if changed:
                        problems.append(f"another county's object, answered {status} and changed {changed}")
                    elif endpoint.template.startswith(CODE_ASKING_FLOWS):
                        result.soft.append(f"{endpoint.method} {path} → {status} {location}".rstrip())
                    else:
                        problems.append(f"another county's object, answered {status} instead of a refusal")
                elif refused:
                    written = {
                        match.group(1)
                        for query in queries.captured_queries
                        if (match := _WRITE_STATEMENT.match(query["sql"]))
                    }
                    if written - volatile and (changed := _changed(baseline)):
                        problems.append(f"refused with {status} but changed {changed}")
                transaction.set_rollback(True)
            client.cookies = cookies
            result.requests += 1
            result.statuses[status] += 1
            for problem in problems:
                line = (
                    f"{actor_name} {endpoint.method} {path} ({endpoint.template}, county {county}): {problem}"
                )
                key = (actor_name, endpoint.method, endpoint.template, county)
                (result.holes if key in KNOWN_HOLES else result.failures).append(line)
    return result


# --- The tests -----------------------------------------------------------------------------------


@pytest.fixture
def private_media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"


def test_the_sweep_discovers_every_page_and_api_operation(db: None) -> None:
    endpoints = discover_endpoints()
    pages = {e.template for e in endpoints if e.kind == "page"}
    operations = {(e.method, e.template) for e in endpoints if e.kind == "api"}
    print(f"\nsweep: {len(pages)} pages, {len(operations)} API operations, {len(endpoints)} endpoint-methods")
    assert len(pages) >= MINIMUM_PAGES
    assert len(operations) >= MINIMUM_API_OPERATIONS
    assert ("/minors/<int:minor_id>/", "page") in {(e.template, e.kind) for e in endpoints}
    assert ("GET", "/api/v1/minors/{int:minor_id}") in operations


def test_every_parameter_is_filled_or_listed(personas: dict[str, Any], private_media: None) -> None:
    world = build_world(personas)
    unfilled: dict[str, list[str]] = {}
    for endpoint in discover_endpoints():
        _path, names, _names_object = fill(endpoint, world, COUNTY_A)
        if names:
            unfilled[endpoint.template] = names
    print("\nsweep: endpoints with a parameter filled by a nonexistent id:")
    for template, names in sorted(unfilled.items()):
        print(f"  {template}: {', '.join(names)}")
    # The world holds an object for every other parameter; a new kind of parameter shows up here.
    assert {name for names in unfilled.values() for name in names} <= UNFILLABLE


# Tokens are not objects of the world: an invitation's link and an upload awaiting its import are held by
# their holder alone (and the link's page is public by design).
UNFILLABLE = {"token"}


# The admins see their counties' markers on many pages (committees, minors, volunteers, teams, cafés,
# pairings, visits, reports, ...): at least this many bodies (89, 29 and 78/25 when written; county B's
# admin is sent county A's objects only, so sees their own on the lists alone).
OWN_MARKER_SEEN: dict[str, dict[str, int]] = {
    "county_a_admin": {MARKER_A: 80},
    "county_b_admin": {MARKER_B: 25},
    "province_admin": {MARKER_A: 70, MARKER_B: 20},
}


@pytest.mark.parametrize("actor_name", [ANONYMOUS, *PERSONAS])
def test_authorization_sweep(
    actor_name: str, personas: dict[str, Any], clients: dict[str, Client], private_media: None
) -> None:
    world = build_world(personas)
    result = sweep(
        actor_name=actor_name,
        client=clients[actor_name],
        actor=_actor(actor_name, personas),
        world=world,
        endpoints=discover_endpoints(),
    )
    print(
        f"\nsweep {actor_name}: {result.requests} requests, statuses {dict(sorted(result.statuses.items()))}"
    )
    print(f"  bodies showing each marker: {dict(result.seen)}")
    for line in result.soft:
        print(f"  not refused outright, nothing changed: {line}")
    assert result.requests >= MINIMUM_PAGES + MINIMUM_API_OPERATIONS
    # The markers are seen where they belong, so that their absence elsewhere means something.
    for marker, at_least in OWN_MARKER_SEEN.get(actor_name, {}).items():
        assert result.seen[marker] >= at_least, marker
    assert not result.failures, f"{len(result.failures)} failures:\n" + "\n".join(result.failures)
    if result.holes:
        reasons = [KNOWN_HOLES[key] for key in KNOWN_HOLES if key[0] == actor_name]
        pytest.xfail("known holes: " + "; ".join(reasons))
