"""The knowledge base (知识库): questions and answers on minors' rights and mental health, written by the
professionals (lawyers, counsellors) and published for everyone; searched on /knowledge/ and suggested to a
requester while they describe their problem on the intake form.

Writing. Only a professional writes (`routing.professional_for`: an active volunteer with the legal or
psychological specialty, acting as lawyer or counsellor), and only in their own field (a lawyer answers
legal questions). An article is a draft until its author publishes it; only the author edits it, over the
version they started from (a stale version is a conflict and overwrites nothing); an edit of a published
article is live at once. The author withdraws their article; so may a supervisor (CONSULTATION_SUPERVISE)
of a region containing the author's home — a wrong or harmful answer must not wait for its author — who
gives a reason, sent to the author. A withdrawn article can be corrected and published again. Drafts and
withdrawn articles are never shown to anyone but their author: to everyone else they do not exist (404).
Every write is an audit event (knowledge.create, .update, .publish, .withdraw) of the author's region.

Searching. Chinese has no spaces, so text is matched by character bigrams: "考试紧张" is 考试, 试紧, 紧张;
a lone character is itself; Latin letters and digits make whole words ("qq", "12355"). `article_search`
looks for them in `search_text` (question, keywords and answer, NFKC and lower-cased, kept by the
services) and ranks published articles by the number found, a term found in the question counting
`QUESTION_WEIGHT` more, then the newest first: a stable order.

Suggesting. `article_suggestions` reads a whole description, which is long and full of words every
article has (孩子, 怎么办) and of bigrams across word boundaries that mean nothing (试很 in 考试很紧张). It
looks in the question and keywords only and weighs each term by how rare it is there, so that 失眠 counts
more than 孩子; its docstring says why this stays cheap at the size the knowledge base is designed for.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import Combinable
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from guanai import audit
from guanai.consultations.models import Article
from guanai.consultations.routing import professional_for, volunteer_kinds
from guanai.consultations.vocabulary import TOPICS_BY_KIND, ArticleState, Kind
from guanai.core import region_codes
from guanai.core.access import Actor, Permission
from guanai.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimited,
    ValidationFailed,
)
from guanai.notifications.models import Notification
from guanai.notifications.services import notify
from guanai.volunteers.models import Volunteer

__all__ = [
    "article_create",
    "article_get_published",
    "article_may_withdraw",
    "article_publish",
    "article_read",
    "article_search",
    "article_suggestions",
    "article_update",
    "article_withdraw",
    "author_kinds",
    "knowledge_author",
    "own_article_get",
    "own_articles",
    "search_terms",
    "suggestion_rate_check",
]

QUESTION_MIN_LENGTH = 5
QUESTION_MAX_LENGTH = 200
ANSWER_MAX_LENGTH = 10000
KEYWORDS_MAX_LENGTH = 200
REASON_MAX_LENGTH = 200
SEARCH_PAGE_SIZE = 20
# A term found in the question counts this much more than one found only in the keywords or the answer.
QUESTION_WEIGHT = 2
SEARCH_MAX_TERMS = 16
# A description is read as at most this many distinct terms, spread over the whole of it.
SUGGESTION_MAX_TERMS = 24
SUGGESTION_MAX_LIMIT = 10
# Below this many published articles every term is informative; above it, a term found in more than half
# of them (孩子, 怎么办 in a children's knowledge base) tells nothing and is left out.
COMMON_TERM_MIN_ARTICLES = 20
# Bigrams of the words every question and description is made of (怎么办, 为什么, 我们, 孩子): in a
# knowledge base of questions they match nearly everything. Only suggestions leave them out; a search
# for them finds what was asked.
# fmt: off
STOP_BIGRAMS = frozenset(
    (
        "怎么", "么办", "什么", "为什", "么样", "如何", "怎样", "可以", "应该",
        "需要", "我们", "你们", "他们", "她们", "自己", "一个", "一些", "没有",
        "不是", "就是", "还是", "但是", "因为", "所以", "如果", "这个", "那个",
        "这样", "那样", "现在", "时候", "知道", "觉得", "有点", "一直", "已经",
        "非常", "特别", "孩子", "老师", "请问", "谢谢", "您好", "你好",
    )
)
# fmt: on
# Typing asks for suggestions every few hundred milliseconds; this only stops a script.
SUGGEST_RATE_PER_IP = "120/m"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]+|[a-z0-9]+")
_KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；/|]+")


# --- Terms -----------------------------------------------------------------------------------------------


def folded(text: str) -> str:
    """NFKC and lower case: how both the text searched and the query are compared."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_latin(term: str) -> bool:
    return term[0].isascii()


def search_terms(text: str, *, single_characters: bool = True) -> list[str]:
    """The distinct terms of `text` in order: bigrams of each run of Chinese characters (a run of one is
    itself unless `single_characters` is off), and whole words of Latin letters and digits."""
    terms: dict[str, None] = {}
    for token in _TOKEN.findall(folded(text)):
        if _is_latin(token):
            terms.setdefault(token)
        elif len(token) == 1:
            if single_characters:
                terms.setdefault(token)
        else:
            for start in range(len(token) - 1):
                terms.setdefault(token[start : start + 2])
    return list(terms)


def _spread(terms: list[str], count: int) -> list[str]:
    """At most `count` of `terms`, evenly spread, so a long text is read from its start to its end."""
    if len(terms) <= count:
        return terms
    return [terms[(index * len(terms)) // count] for index in range(count)]


def _has(field: str, term: str) -> Q:
    """`field` holds `term`; a Latin term as a whole word (not "app" inside "happy")."""
    if _is_latin(term):
        return Q(**{f"{field}__iregex": f"(^|[^a-z0-9]){term}([^a-z0-9]|$)"})
    return Q(**{f"{field}__contains": term})


def _in_heading(term: str) -> Q:
    """The question or the keywords hold `term`: the short columns written to be found."""
    return _has("question", term) | _has("keywords", term)


def _any(conditions: Sequence[Q]) -> Q:
    return functools.reduce(operator.or_, conditions)


def _sum_of_cases(cases: Sequence[Sequence[tuple[Q, int]]]) -> Combinable:
    """The sum, over `cases`, of the weight of the first condition of each that holds (0 if none)."""
    return functools.reduce(
        operator.add,
        (
            Case(
                *(When(condition, then=Value(weight)) for condition, weight in whens),
                default=Value(0),
                output_field=IntegerField(),
            )
            for whens in cases
        ),
    )


def _search_text(*, question: str, keywords: str, answer: str) -> str:
    return folded(f"{question}\n{keywords}\n{answer}")


# --- Reading --------------------------------------------------------------------------------------------


def _published(kind: str = "", topic: str = "") -> QuerySet[Article]:
    articles = Article.objects.published()
    if kind:
        articles = articles.filter(kind=kind)
    if topic:
        articles = articles.filter(topic=topic)
    return articles


def article_search(*, query: str, kind: str = "", topic: str = "", page: int | str | None = 1) -> Page[Any]:
    """Published articles for the search box, one page of SEARCH_PAGE_SIZE.

    With a query: those whose search_text holds any of its terms, with `score` the number of terms held,
    a term in the question counting QUESTION_WEIGHT more, best first, then the newest. Without one: all,
    the newest first. The WHERE clause (any term) stops at the first term found, and only the rows it
    keeps are scored; each term costs the database one substring scan of the published texts (about
    10 ns a byte in PostgreSQL: some tens of milliseconds per term at 2,000 articles of a thousand
    characters), so a query is read as at most SEARCH_MAX_TERMS terms, and the texts are scanned once
    (the ids and scores of every match, then the page's articles by key). Each article of the page has
    its `score`."""
    articles = _published(kind, topic)
    terms = search_terms(query)[:SEARCH_MAX_TERMS]
    if not terms:
        return Paginator(articles.order_by("-published_at", "-id"), SEARCH_PAGE_SIZE).get_page(page)
    ranked = (
        articles.filter(_any([_has("search_text", term) for term in terms]))
        .annotate(
            score=_sum_of_cases(
                [[(_has("search_text", term), 1)] for term in terms]
                + [[(_has("question", term), QUESTION_WEIGHT)] for term in terms]
            )
        )
        .order_by("-score", "-published_at", "-id")
    )
    # One pass finds and scores the matches (ids and scores only); the page's articles are then read by
    # their keys. A paginated queryset would scan the texts twice: once more to count.
    result = Paginator(list(ranked.values_list("pk", "score")), SEARCH_PAGE_SIZE).get_page(page)
    scores = dict(result.object_list)
    articles_by_id = Article.objects.published().in_bulk(list(scores))
    found = []
    for article_id, score in scores.items():
        article = articles_by_id.get(article_id)
        if article is not None:  # not withdrawn in between
            article.score = score  # type: ignore[attr-defined]
            found.append(article)
    result.object_list = found  # type: ignore[assignment]  # the rows the ids and scores stand for
    return result


def article_suggestions(*, text: str, kind: str = "", limit: int = 5) -> list[Article]:
    """Published articles suggested for a description being typed (the intake form), the best first.

    The terms are the description's bigrams (and Latin words) but the STOP_BIGRAMS, at most
    SUGGESTION_MAX_TERMS of them spread over it. They are looked for in each article's question and
    keywords — what its author wrote for it to be found — not in the answer. A first query counts, for
    every term, the articles holding it; a term no article holds is dropped (most bigrams across word
    boundaries), so is one held by more than half of them once there are COMMON_TERM_MIN_ARTICLES. Each
    remaining term weighs 1 + log2(articles / holders): a rare term counts more. A second query keeps the
    articles holding two of the terms (one, if only one is left), scores each term found by its weight,
    QUESTION_WEIGHT times more in the question, and returns the best `limit`, the newest first among
    equals.

    Why it scales: the knowledge base is written by hand; it is designed for up to about 2,000 published
    articles. Both queries are one pass over the published rows of the kind (index state/kind/topic),
    evaluated in the database, and test only the question and the keywords: short columns kept in the
    row (a question is at most 200 characters), so a pass costs about a microsecond per row and term,
    where a substring scan of whole answers would cost tens of microseconds and make every keystroke of
    a long description take seconds. Nothing but the `limit` articles returned comes back to Python, and
    nothing is cached, so an edit or a withdrawal shows at once. Well beyond 2,000 articles, a table of
    bigrams per article (an inverted index) would replace the passes.
    """
    limit = max(0, min(limit, SUGGESTION_MAX_LIMIT))
    terms = [term for term in search_terms(text, single_characters=False) if term not in STOP_BIGRAMS]
    terms = _spread(terms, SUGGESTION_MAX_TERMS)
    if not terms or not limit:
        return []
    articles = _published(kind)
    counts = articles.aggregate(
        total=Count("pk"),
        **{f"term_{index}": Count("pk", filter=_in_heading(term)) for index, term in enumerate(terms)},
    )
    total: int = counts["total"]
    common = total // 2 if total >= COMMON_TERM_MIN_ARTICLES else total
    weights = {
        term: 1 + int(math.log2(total / holders))
        for index, term in enumerate(terms)
        if 0 < (holders := counts[f"term_{index}"]) <= common
    }
    if not weights:
        return []
    ranked = (
        articles.filter(_any([_in_heading(term) for term in weights]))
        .annotate(
            hits=_sum_of_cases([[(_in_heading(term), 1)] for term in weights]),
            score=_sum_of_cases(
                [
                    [
                        (_has("question", term), (1 + QUESTION_WEIGHT) * weight),
                        (_has("keywords", term), weight),
                    ]
                    for term, weight in weights.items()
                ]
            ),
        )
        .filter(Q(hits__gte=min(2, len(weights))))
        .order_by("-score", "-published_at", "-id")
    )
    return list(ranked[:limit])


def article_get_published(*, article_id: int) -> Article:
    """A published article, for anyone; a draft or a withdrawn one does not exist."""
    article = Article.objects.published().filter(pk=article_id).first()
    if article is None:
        raise NotFoundError()
    return article


def article_read(*, article_id: int) -> Article:
    """A published article opened by a reader: its view count goes up by one (an F() update, so that
    readers at the same moment are all counted) and the article is returned with the new count."""
    if not Article.objects.published().filter(pk=article_id).update(view_count=F("view_count") + 1):
        raise NotFoundError()
    return article_get_published(article_id=article_id)


def own_articles(*, actor: Actor) -> QuerySet[Article]:
    """我的知识问答: the signed-in professional's articles in every state, the latest edited first."""
    if not actor.has(Permission.KNOWLEDGE_WRITE):
        raise PermissionDeniedError()
    volunteer = professional_for(actor)
    if volunteer is None:
        return Article.objects.none()
    return Article.objects.filter(author=volunteer).order_by("-updated_at", "-id")


def own_article_get(*, actor: Actor, article_id: int) -> Article:
    """One of the signed-in professional's own articles, in any state; another's does not exist."""
    article = own_articles(actor=actor).filter(pk=article_id).first()
    if article is None:
        raise NotFoundError()
    return article


def _withdrawable(actor: Actor) -> QuerySet[Article]:
    """Articles the actor may withdraw: their own; a supervisor's, the published ones of authors living
    inside the supervisor's region. PermissionDeniedError for whoever may do neither."""
    may_write = actor.has(Permission.KNOWLEDGE_WRITE)
    may_supervise = actor.has(Permission.CONSULTATION_SUPERVISE) and actor.region_code is not None
    if not (may_write or may_supervise):
        raise PermissionDeniedError()
    scope = Q(pk__in=[])
    volunteer = professional_for(actor) if may_write else None
    if volunteer is not None:
        scope |= Q(author=volunteer)
    if may_supervise:
        scope |= Q(state=ArticleState.PUBLISHED) & region_codes.within_q(
            "author__region_id", actor.region_code or ""
        )
    return Article.objects.filter(scope)


def article_may_withdraw(*, actor: Actor, article: Article) -> bool:
    """Whether the actor may withdraw this published article (to show the button)."""
    if article.state != ArticleState.PUBLISHED:
        return False
    try:
        return _withdrawable(actor).filter(pk=article.pk).exists()
    except PermissionDeniedError:
        return False


def suggestion_rate_check(request: HttpRequest) -> None:
    """Suggestions are public and asked for while typing: a loose limit per address stops scripts."""
    if is_ratelimited(request, group="knowledge-suggest", key="ip", rate=SUGGEST_RATE_PER_IP, increment=True):
        raise RateLimited()


# --- Writing --------------------------------------------------------------------------------------------


def knowledge_author(*, actor: Actor) -> Volunteer:
    """The signed-in professional as an author (their volunteer record); PermissionDeniedError for
    anyone else, with words saying why to a lawyer or counsellor who has no record."""
    if not actor.has(Permission.KNOWLEDGE_WRITE):
        raise PermissionDeniedError()
    volunteer = professional_for(actor)
    if volunteer is None:
        raise PermissionDeniedError(_("只有在册的律师或心理咨询师志愿者可以撰写知识问答。"))
    return volunteer


def author_kinds(author: Volunteer) -> list[str]:
    """The kinds an author writes in, in the order of `Kind`."""
    kinds = volunteer_kinds(author)
    return [kind for kind in Kind.values if kind in kinds]


def _validated(
    author: Volunteer, *, kind: str, topic: str, question: str, answer: str, keywords: str
) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    question = " ".join(question.split())
    answer = answer.strip()
    keywords = " ".join(_KEYWORD_SEPARATORS.split(keywords)).strip()
    if kind not in Kind.values:
        errors["kind"] = [_("请选择类别")]
    elif kind not in volunteer_kinds(author):
        errors["kind"] = [_("只能撰写本人专业领域的问答（律师写法律问答，心理咨询师写心理问答）")]
    if kind in TOPICS_BY_KIND and topic not in TOPICS_BY_KIND[kind]:
        errors["topic"] = [_("请选择与类别对应的问题类型")]
    if len(question) < QUESTION_MIN_LENGTH:
        errors["question"] = [_("问题至少 %(count)d 个字") % {"count": QUESTION_MIN_LENGTH}]
    elif len(question) > QUESTION_MAX_LENGTH:
        errors["question"] = [_("问题不超过 %(count)d 个字") % {"count": QUESTION_MAX_LENGTH}]
    if not answer:
        errors["answer"] = [_("请填写解答")]
    elif len(answer) > ANSWER_MAX_LENGTH:
        errors["answer"] = [_("解答不超过 %(count)d 个字") % {"count": ANSWER_MAX_LENGTH}]
    if len(keywords) > KEYWORDS_MAX_LENGTH:
        errors["keywords"] = [_("关键词不超过 %(count)d 个字") % {"count": KEYWORDS_MAX_LENGTH}]
    if errors:
        raise ValidationFailed(fields=errors)
    return {
        "kind": kind,
        "topic": topic,
        "question": question,
        "answer": answer,
        "keywords": keywords,
        "search_text": _search_text(question=question, keywords=keywords, answer=answer),
    }


def _locked_own(author: Volunteer, article_id: int) -> Article:
    article = Article.objects.select_for_update().filter(pk=article_id, author=author).first()
    if article is None:
        raise NotFoundError()
    return article


@transaction.atomic
def article_create(
    *,
    actor: Actor,
    kind: str,
    topic: str,
    question: str,
    answer: str,
    keywords: str = "",
    request: HttpRequest | None = None,
) -> Article:
    """A new draft by the signed-in professional, in their own field."""
    author = knowledge_author(actor=actor)
    values = _validated(author, kind=kind, topic=topic, question=question, answer=answer, keywords=keywords)
    article = Article.objects.create(author=author, state=ArticleState.DRAFT, **values)
    audit.record(
        actor=actor,
        action="knowledge.create",
        target=article,
        region_code=author.region_id,
        changes=["kind", "topic", "question", "answer", "keywords"],
        request=request,
    )
    return article


@transaction.atomic
def article_update(
    *,
    actor: Actor,
    article_id: int,
    version: int,
    kind: str,
    topic: str,
    question: str,
    answer: str,
    keywords: str = "",
    request: HttpRequest | None = None,
) -> Article:
    """Save the author's edit over the version they started from; an older version is a conflict (saved
    meanwhile in another window) and changes nothing. A published article stays published."""
    author = knowledge_author(actor=actor)
    article = _locked_own(author, article_id)
    if article.version != version:
        raise ConflictError(
            _("该问答已在别处修改（当前版本 %(current)d，您编辑的是版本 %(yours)d），请刷新后重新修改。")
            % {"current": article.version, "yours": version}
        )
    values = _validated(author, kind=kind, topic=topic, question=question, answer=answer, keywords=keywords)
    changed = [
        name for name, value in values.items() if name != "search_text" and getattr(article, name) != value
    ]
    for name, value in values.items():
        setattr(article, name, value)
    article.version += 1
    article.save(update_fields=[*values, "version", "updated_at"])
    audit.record(
        actor=actor,
        action="knowledge.update",
        target=article,
        region_code=author.region_id,
        changes=changed,
        request=request,
    )
    return article


@transaction.atomic
def article_publish(*, actor: Actor, article_id: int, request: HttpRequest | None = None) -> Article:
    """The author publishes a draft, or a withdrawn article again: from now on everyone reads it."""
    author = knowledge_author(actor=actor)
    article = _locked_own(author, article_id)
    if article.state == ArticleState.PUBLISHED:
        raise ConflictError(_("该问答已经发布"))
    article.state = ArticleState.PUBLISHED
    article.published_at = timezone.now()
    article.version += 1
    article.save(update_fields=["state", "published_at", "version", "updated_at"])
    audit.record(
        actor=actor,
        action="knowledge.publish",
        target=article,
        region_code=author.region_id,
        changes=["state", "published_at"],
        request=request,
    )
    return article


@transaction.atomic
def article_withdraw(
    *, actor: Actor, article_id: int, reason: str = "", request: HttpRequest | None = None
) -> Article:
    """Take a published article off the public pages: its author, or a supervisor of a region containing
    the author's home, who states a reason; the author is told it in their inbox."""
    article = (
        _withdrawable(actor)
        .select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise NotFoundError()
    author = article.author
    by_author = actor.user is not None and author.user_id == actor.user.pk
    reason = " ".join(reason.split())
    if not by_author and not reason:
        raise ValidationFailed(fields={"reason": [_("请填写撤回原因，作者会收到通知")]})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            fields={"reason": [_("撤回原因不超过 %(count)d 个字") % {"count": REASON_MAX_LENGTH}]}
        )
    if article.state != ArticleState.PUBLISHED:
        raise ConflictError(_("只有已发布的问答可以撤回"))
    article.state = ArticleState.WITHDRAWN
    article.version += 1
    article.save(update_fields=["state", "version", "updated_at"])
    if not by_author and author.user is not None:
        notify(
            users=[author.user],
            kind=Notification.Kind.NOTICE,
            title=_("您的知识问答已被撤回"),
            body=_("“%(question)s”已由管理员撤回，原因：%(reason)s。修改后可重新发布。")
            % {"question": article.question[:60], "reason": reason},
            link=reverse("knowledge:mine"),
        )
    audit.record(
        actor=actor,
        action="knowledge.withdraw",
        target=article,
        region_code=author.region_id,
        changes=["state"],
        detail={"by_author": by_author},
        request=request,
    )
    return article
