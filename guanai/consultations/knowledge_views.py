"""The knowledge base's pages. Public, phone-sized and fit for elder mode: the search (`/knowledge/`), an
article (`/knowledge/<id>/`, published ones only) and the suggestions the intake form asks for while the
requester types (`/knowledge/suggest/`, an htmx partial). For the professionals, under their tab strip:
我的知识问答 (`/knowledge/mine/`), writing and editing, publishing and withdrawing; a supervisor withdraws
from the article's page. Thin: parse, call `guanai.consultations.knowledge`, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.consultations.knowledge import (
    article_create,
    article_get_published,
    article_may_withdraw,
    article_publish,
    article_read,
    article_search,
    article_suggestions,
    article_update,
    article_withdraw,
    author_kinds,
    knowledge_author,
    own_article_get,
    own_articles,
    suggestion_rate_check,
)
from guanai.consultations.knowledge_forms import (
    ArticleForm,
    KnowledgeSearchForm,
    SuggestForm,
    WithdrawForm,
)
from guanai.consultations.models import Article
from guanai.consultations.routing import professional_for
from guanai.consultations.vocabulary import Kind, hotlines
from guanai.core.access import Permission, permission_required, public, request_actor
from guanai.core.errors import ConflictError, RateLimited, ValidationFailed
from guanai.web.forms import put_errors

MINE_PAGE_SIZE = 50


def _answered_by(article: Article) -> str:
    """Who answered, as the public pages say it: the field, never the professional's name."""
    return _("律师志愿者") if article.kind == Kind.LEGAL else _("心理咨询师志愿者")


# --- Public ---------------------------------------------------------------------------------------------


@require_GET
@public
def list_page(request: HttpRequest) -> HttpResponse:
    form = KnowledgeSearchForm(request.GET or None)
    filters = form.filters() if form.is_bound else {"query": "", "kind": "", "topic": ""}
    page = article_search(**filters, page=request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "query": filters["query"],
        "list_url": reverse("knowledge:list"),
        "hotlines": hotlines(),
    }
    if getattr(request, "htmx", False):
        return render(request, "consultations/knowledge/partials/_results.html", context)
    return render(request, "consultations/knowledge/list.html", context)


def _detail_context(request: HttpRequest, article: Article, withdraw_form: WithdrawForm) -> dict[str, Any]:
    actor = request_actor(request)
    return {
        "article": article,
        "answered_by": _answered_by(article),
        "may_withdraw": article_may_withdraw(actor=actor, article=article),
        "withdraw_form": withdraw_form,
        "hotlines": hotlines(),
    }


@require_GET
@public
def detail_page(request: HttpRequest, article_id: int) -> HttpResponse:
    article = article_read(article_id=article_id)
    return render(
        request, "consultations/knowledge/detail.html", _detail_context(request, article, WithdrawForm())
    )


@require_GET
@public
def suggest(request: HttpRequest) -> HttpResponse:
    """The partial under the intake form's description: articles that may already answer it."""
    template = "consultations/partials/_suggestions.html"
    try:
        suggestion_rate_check(request)
    except RateLimited:
        # htmx leaves the last suggestions in place on an error status: nothing for the requester to do.
        return render(request, template, {"suggestions": []}, status=429)
    arguments = SuggestForm(request.GET).arguments()
    suggestions = article_suggestions(text=arguments["text"], kind=arguments["kind"])
    return render(request, template, {"suggestions": suggestions})


# --- Professionals ----------------------------------------------------------------------------------------


@require_GET
@permission_required(Permission.KNOWLEDGE_WRITE)
def mine_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    page = Paginator(own_articles(actor=actor), MINE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "professional": professional_for(actor),
        "page": page,
        "list_url": reverse("knowledge:mine"),
        "active": "knowledge",
    }
    return render(request, "consultations/knowledge/mine.html", context)


def _article_form(author_kinds_: list[str], *args: Any, **kwargs: Any) -> ArticleForm:
    form = ArticleForm(*args, **kwargs)
    kind_field = form.fields["kind"]
    kind_field.choices = [(kind, label) for kind, label in Kind.choices if kind in author_kinds_]  # type: ignore[attr-defined]
    if len(author_kinds_) == 1 and not form.is_bound:
        form.initial.setdefault("kind", author_kinds_[0])
    return form


@require_http_methods(["GET", "POST"])
@permission_required(Permission.KNOWLEDGE_WRITE)
def create_page(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    kinds = author_kinds(knowledge_author(actor=actor))
    status = 200
    if request.method == "POST":
        form = _article_form(kinds, request.POST)
        if form.is_valid():
            try:
                article = article_create(actor=actor, request=request, **form.service_arguments())
                if "publish" in request.POST:
                    article_publish(actor=actor, article_id=article.pk, request=request)
            except ValidationFailed as error:
                put_errors(form, error)
                status = 422
            else:
                if "publish" in request.POST:
                    messages.success(request, _("问答已发布，所有人都可以看到。"))
                else:
                    messages.success(request, _("草稿已保存。发布后才会公开。"))
                return HttpResponseRedirect(reverse("knowledge:mine"))
        else:
            status = 422
    else:
        form = _article_form(kinds)
    context = {"form": form, "article": None, "active": "knowledge"}
    return render(request, "consultations/knowledge/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@permission_required(Permission.KNOWLEDGE_WRITE)
def edit_page(request: HttpRequest, article_id: int) -> HttpResponse:
    actor = request_actor(request)
    article = own_article_get(actor=actor, article_id=article_id)
    kinds = author_kinds(knowledge_author(actor=actor))
    status = 200
    if request.method == "POST":
        form = _article_form(kinds, request.POST)
        if form.is_valid():
            try:
                article_update(
                    actor=actor,
                    article_id=article.pk,
                    version=form.cleaned_data["version"] or 0,
                    request=request,
                    **form.service_arguments(),
                )
            except ValidationFailed as error:
                put_errors(form, error)
                status = 422
            except ConflictError as error:
                put_errors(form, error)
                status = 409
            else:
                messages.success(request, _("修改已保存。"))
                return HttpResponseRedirect(reverse("knowledge:mine"))
        else:
            status = 422
    else:
        form = _article_form(
            kinds,
            initial={
                "kind": article.kind,
                "topic": article.topic,
                "question": article.question,
                "answer": article.answer,
                "keywords": article.keywords,
                "version": article.version,
            },
        )
    context = {"form": form, "article": article, "active": "knowledge"}
    return render(request, "consultations/knowledge/form.html", context, status=status)


@require_POST
@permission_required(Permission.KNOWLEDGE_WRITE)
def publish(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        article_publish(actor=request_actor(request), article_id=article_id, request=request)
    except ConflictError as error:
        messages.warning(request, error.message)
    else:
        messages.success(request, _("问答已发布，所有人都可以看到。"))
    return HttpResponseRedirect(reverse("knowledge:mine"))


@require_POST
# The author (KNOWLEDGE_WRITE) or a supervisor of the author's region (CONSULTATION_SUPERVISE): the
# service decides, and refuses everyone else.
@permission_required(Permission.SIGNED_IN)
def withdraw(request: HttpRequest, article_id: int) -> HttpResponse:
    actor = request_actor(request)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        article = article_withdraw(actor=actor, article_id=article_id, reason=reason, request=request)
    except ValidationFailed as error:
        # A supervisor left out the reason: the article's page again, with the words of the error.
        put_errors(form, error)
        published = article_get_published(article_id=article_id)
        return render(
            request,
            "consultations/knowledge/detail.html",
            _detail_context(request, published, form),
            status=422,
        )
    except ConflictError as error:
        messages.warning(request, error.message)
        return HttpResponseRedirect(reverse("knowledge:mine"))
    messages.success(request, _("问答已撤回，不再公开显示。"))
    if actor.user is not None and article.author.user_id == actor.user.pk:
        return HttpResponseRedirect(reverse("knowledge:mine"))
    return HttpResponseRedirect(reverse("knowledge:list"))
