"""Labels computed once per language: the text of a bit set or a code, for the rows of a list.

A 50-row list translates the same few lazy labels hundreds of times (each `str()` of a lazy text asks the
active translation); `per_language` remembers a function's answer for each language and argument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

from django.utils import translation

P = ParamSpec("P")
T = TypeVar("T")


def per_language(function: Callable[P, T]) -> Callable[P, T]:
    """Memoise `function` (hashable arguments, a str or list of str as the answer) per active language.
    A list answer is copied on the way out, so a caller that changes it changes only its own copy."""

    @functools.lru_cache(maxsize=4096)
    def remembered(language: str | None, *args: Hashable) -> T:
        return function(*args)  # type: ignore[call-arg, arg-type]

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if kwargs:
            return function(*args, **kwargs)
        answer = remembered(translation.get_language(), *args)
        return list(answer) if isinstance(answer, list) else answer  # type: ignore[return-value]

    return wrapper
