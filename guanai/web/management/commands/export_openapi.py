from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def openapi_document() -> str:
    from config.api import api

    return json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "写出 OpenAPI 文档 (Write the OpenAPI document that is committed as docs/openapi.json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", nargs="?", default="docs/openapi.json")

    def handle(self, *args: Any, **options: Any) -> None:
        Path(options["out"]).write_text(openapi_document(), encoding="utf-8")
        self.stdout.write(f"wrote {options['out']}")
