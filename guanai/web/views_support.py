"""What the pages of every app share: a posted form saved through its service (say what was done and go on,
or show the form again with the service's refusal on its fields), and a list narrowed by its filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect

from guanai.core.access import Actor
from guanai.core.errors import DomainError, NotFoundError, ValidationFailed
from guanai.web.forms import put_errors

Saved = TypeVar("Saved")
Listed = TypeVar("Listed")


def form_submit(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], Saved],
    *,
    success: str | Callable[[Saved], str],
    then: str | Callable[[Saved], str],
    refusals: tuple[type[DomainError], ...] = (ValidationFailed,),
) -> HttpResponseRedirect | None:
    """A posted form saved: `save` called with the valid form's data, then a success message (`success`,
    or `success(saved)` of what `save` returned) and a redirect to `then` (or `then(saved)`). None when
    there is nothing to save (not a POST, or a form with errors) or when the service refused (one of
    `refusals`): its errors are then on the form's fields, and the page shows the form again:
    `form_submit(...) or <the page>`."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = save(form.cleaned_data)
    except refusals as error:
        put_errors(form, error)
        return None
    messages.success(request, success(saved) if callable(success) else success)
    return HttpResponseRedirect(then(saved) if callable(then) else then)


def filtered_list(select: Callable[..., Listed], *, actor: Actor, filters: Any) -> tuple[Listed, str]:
    """`select(actor=, filters=)`, the list narrowed by the filters, and no error; when the selector
    refuses a filter (a region outside the actor's, a malformed code), the whole list, `select(actor=)`,
    and why, for the page to show above it."""
    try:
        return select(actor=actor, filters=filters), ""
    except (ValidationFailed, NotFoundError) as failure:
        return select(actor=actor), failure.summary
