"""The API's base schema: django-ninja's, without its per-object wrapper where nothing needs it.

Ninja's `Schema` hands every value it validates to pydantic through a `DjangoGetter`, which lets a schema
read Django objects (managers become lists, files their URLs, `resolve_*` methods run). The project's
views build their responses from schema instances and keyword arguments, so the wrapper only cost time:
about a quarter of a 50-row list request, because ninja validated every row twice — once when the view
built it and again when the page was validated as the response (bench/RESULTS.md, "Load"). Here a dict
or an already validated schema instance goes to pydantic directly (an instance of the expected class is
taken as it is, pydantic's default); anything else — a model instance, a schema with resolvers — still
goes through ninja's wrapper, so behaviour is unchanged.

No `from __future__ import annotations` here: ninja and pydantic read the annotations at runtime.
"""

from typing import Any

from ninja import Schema as NinjaSchema
from ninja.schema import DjangoGetter
from pydantic import BaseModel, ModelWrapValidatorHandler, ValidationInfo, model_validator


class Schema(NinjaSchema):
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, dict | BaseModel) and not cls._ninja_resolvers:
            return handler(values)
        # As ninja does (ninja.schema.Schema._run_root_validator).
        if cls.model_config.get("extra") == "forbid" or cls.model_config.get("validate_assignment", False):
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))
