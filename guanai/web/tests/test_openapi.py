from pathlib import Path

from django.conf import settings

from guanai.web.management.commands.export_openapi import openapi_document


def test_the_committed_openapi_document_matches_the_api() -> None:
    committed = (Path(settings.BASE_DIR) / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(), "the API changed: run `make openapi` and commit docs/openapi.json"


def test_the_openapi_document_is_served_as_committed() -> None:
    import json

    from django.test import Client

    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    committed = json.loads((Path(settings.BASE_DIR) / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert response.json() == committed
    assert {"/api/v1/me", "/api/v1/regions/{code}", "/api/v1/committees/"} <= set(committed["paths"])
