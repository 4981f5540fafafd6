"""Labels computed once per language: the text of a bit set or a code, for the rows of a list.

A 50-row list translates the same few lazy labels hundreds of times (each `str()` of a lazy text asks the
active translation); `per_language` remembers a function's answer for each language and argument.

Asking which language is active costs about 5 µs (Django keeps it in an asgiref `Local`): a list of 50
volunteers, with four labels a row, spent a millisecond on that alone. `one_language()` reads it once for
the rows of a list; inside it the labels use that language. Nothing inside may switch languages
(`translation.override`): build the rows in it and nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.utils import translation

P = ParamSpec("P")
T = TypeVar("T")
# The language pinned by `one_language`, as a 1-tuple (the language may be None); None when not pinned.
_pinned: ContextVar[tuple[str | None] | None] = ContextVar("guanai_labels_language", default=None)


@contextmanager
def one_language() -> Iterator[None]:
    """The labels asked for inside use the language active now, read once."""
    token = _pinned.set((translation.get_language(),))
    try:
        yield
    finally:
        _pinned.reset(token)


def per_language(function: Callable[P, T]) -> Callable[P, T]:
    """Memoise `function` (hashable arguments, a str or list of str as the answer) per active language.
    A list answer is copied on the way out, so a caller that changes it changes only its own copy."""

    @functools.lru_cache(maxsize=4096)
    def remembered(language: str | None, *args: Hashable) -> T:
        # In the language of the key, whatever is active: a wrong pin can never file one language's
        # labels under another's.
        with translation.override(language):
            return function(*args)  # type: ignore[call-arg, arg-type]

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        if kwargs:
            return function(*args, **kwargs)
        pinned = _pinned.get()
        answer = remembered(pinned[0] if pinned is not None else translation.get_language(), *args)
        return list(answer) if isinstance(answer, list) else answer  # type: ignore[return-value]

    return wrapper
