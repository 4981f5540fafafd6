"""The knowledge base's JSON API, at /api/v1/knowledge: public search, reading and suggestions; the
professionals' writing, publishing and withdrawing (a supervisor of the author's region withdraws too).
The same services as the pages (`guanai.consultations.knowledge`)."""

import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Status

from guanai.consultations.knowledge import (
    ANSWER_MAX_LENGTH,
    KEYWORDS_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SEARCH_PAGE_SIZE,
    SUGGESTION_MAX_LIMIT,
    article_create,
    article_publish,
    article_read,
    article_search,
    article_suggestions,
    article_update,
    article_withdraw,
    own_articles,
    suggestion_rate_check,
)
from guanai.consultations.knowledge_forms import SUGGEST_TEXT_MAX_LENGTH
from guanai.consultations.models import Article
from guanai.core.access import Permission, request_actor, requires
from guanai.core.api import MAX_OFFSET, Router, responses
from guanai.core.schema import Schema

router = Router(tags=["知识库"])

KindValue = Literal["legal", "psychological"]
TOPIC_DESCRIPTION = (
    "法律：school_bullying 校园欺凌、guardianship 监护与抚养、domestic_violence 家庭暴力、"
    "online_harm 网络侵害、labour_rights 劳动权益、suspected_offence 涉嫌违法犯罪、legal_other 其他；"
    "心理：study_pressure 学习压力、parent_child 亲子关系、emotional_distress 情绪困扰、"
    "peer_relations 同伴关系、self_harm 自伤或轻生念头、psychological_other 其他"
)
EXCERPT_LENGTH = 80


class ArticleIn(Schema):
    kind: KindValue = Field(..., description="只能是本人专业领域：律师写 legal，心理咨询师写 psychological")
    topic: str = Field(..., max_length=24, description=TOPIC_DESCRIPTION)
    question: str = Field(..., max_length=QUESTION_MAX_LENGTH, description="5 到 200 个字")
    answer: str = Field(..., max_length=ANSWER_MAX_LENGTH)
    keywords: str = Field("", max_length=KEYWORDS_MAX_LENGTH, description="空格或逗号分隔")


class ArticleUpdateIn(ArticleIn):
    version: int = Field(..., ge=1, description="开始修改时读到的版本；已被修改过时返回 409")


class WithdrawIn(Schema):
    reason: str = Field("", max_length=REASON_MAX_LENGTH, description="管理员撤回时必填，作者会收到通知")


class ArticleOut(Schema):
    id: int
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    question: str
    answer: str
    keywords: str
    state: Literal["draft", "published", "withdrawn"]
    state_label: str
    published_at: datetime.datetime | None
    view_count: int
    version: int
    updated_at: datetime.datetime


class ArticleSummaryOut(Schema):
    id: int
    kind: str
    kind_label: str
    topic: str
    topic_label: str
    question: str
    excerpt: str = Field(..., description="解答的开头")
    published_at: datetime.datetime | None
    view_count: int


class ArticlePageOut(Schema):
    count: int
    page: int
    pages: int
    items: list[ArticleSummaryOut]


class MinePageOut(Schema):
    count: int
    items: list[ArticleOut]


class SuggestionsOut(Schema):
    items: list[ArticleSummaryOut]


class SearchFilter(Schema):
    q: str = Field("", max_length=100, description="搜索词；中文按相邻两字匹配，问题中出现的排在前面")
    kind: KindValue | None = None
    topic: str = Field("", max_length=24)
    page: int = Field(1, ge=1)


class SuggestionFilter(Schema):
    text: str = Field("", max_length=SUGGEST_TEXT_MAX_LENGTH, description="求助者正在填写的问题描述")
    kind: KindValue | None = None
    limit: int = Field(5, ge=1, le=SUGGESTION_MAX_LIMIT)


class MineFilter(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _article_out(article: Article) -> ArticleOut:
    return ArticleOut(
        id=article.pk,
        kind=article.kind,
        kind_label=str(article.get_kind_display()),
        topic=article.topic,
        topic_label=str(article.get_topic_display()),
        question=article.question,
        answer=article.answer,
        keywords=article.keywords,
        state=article.state,  # type: ignore[arg-type]
        state_label=str(article.get_state_display()),
        published_at=article.published_at,
        view_count=article.view_count,
        version=article.version,
        updated_at=article.updated_at,
    )


def _summary_out(article: Article) -> ArticleSummaryOut:
    excerpt = " ".join(article.answer.split())
    return ArticleSummaryOut(
        id=article.pk,
        kind=article.kind,
        kind_label=str(article.get_kind_display()),
        topic=article.topic,
        topic_label=str(article.get_topic_display()),
        question=article.question,
        excerpt=excerpt if len(excerpt) <= EXCERPT_LENGTH else excerpt[: EXCERPT_LENGTH - 1] + "…",
        published_at=article.published_at,
        view_count=article.view_count,
    )


@router.get(
    "",
    auth=None,
    response=responses(ArticlePageOut),
    operation_id="knowledge_search",
    summary="搜索知识问答",
    description=(
        f"已发布的问答，每页 {SEARCH_PAGE_SIZE} 条。有搜索词时按命中的词数排序（问题中命中的权重更高），"
        "同分时新发布的在前；没有搜索词时按发布时间倒序。任何人都可以查看。"
    ),
)
@requires(Permission.PUBLIC)
def knowledge_search(request: HttpRequest, filters: Query[SearchFilter]) -> ArticlePageOut:
    page = article_search(query=filters.q, kind=filters.kind or "", topic=filters.topic, page=filters.page)
    if filters.page > page.paginator.num_pages:
        return ArticlePageOut(
            count=page.paginator.count, page=filters.page, pages=page.paginator.num_pages, items=[]
        )
    return ArticlePageOut(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        items=[_summary_out(article) for article in page],
    )


@router.get(
    "/suggestions",
    auth=None,
    response=responses(SuggestionsOut),
    operation_id="knowledge_suggestions",
    summary="按求助描述推荐问答",
    description=(
        "求助者填写问题描述时推荐可能有帮助的已发布问答，最相关的在前。按地址限制频率（超出返回 429）。"
    ),
)
@requires(Permission.PUBLIC)
def knowledge_suggestions(request: HttpRequest, filters: Query[SuggestionFilter]) -> SuggestionsOut:
    suggestion_rate_check(request)
    articles = article_suggestions(text=filters.text, kind=filters.kind or "", limit=filters.limit)
    return SuggestionsOut(items=[_summary_out(article) for article in articles])


@router.get(
    "/mine",
    response=responses(MinePageOut),
    operation_id="knowledge_mine",
    summary="我的知识问答",
    description="本人撰写的全部问答（草稿、已发布、已撤回），最近修改的在前。",
)
@requires(Permission.KNOWLEDGE_WRITE)
def knowledge_mine(request: HttpRequest, filters: Query[MineFilter]) -> MinePageOut:
    articles = own_articles(actor=request_actor(request))
    page = articles[filters.offset : filters.offset + filters.limit]
    return MinePageOut(count=articles.count(), items=[_article_out(article) for article in page])


@router.get(
    "/{int:article_id}",
    auth=None,
    response=responses(ArticleOut),
    operation_id="knowledge_get",
    summary="阅读一条问答",
    description="已发布的问答，任何人都可以阅读，阅读次数加一；草稿和已撤回的问答返回 404。",
)
@requires(Permission.PUBLIC)
def knowledge_get(request: HttpRequest, article_id: int) -> ArticleOut:
    return _article_out(article_read(article_id=article_id))


@router.post(
    "",
    response=responses(ArticleOut, status=201),
    operation_id="knowledge_create",
    summary="撰写问答（草稿）",
    description="律师和心理咨询师志愿者撰写本人专业领域的问答，保存为草稿，发布后才公开。",
)
@requires(Permission.KNOWLEDGE_WRITE)
def knowledge_create(request: HttpRequest, payload: ArticleIn) -> Status[ArticleOut]:
    article = article_create(actor=request_actor(request), request=request, **payload.model_dump())
    return Status(201, _article_out(article))


@router.put(
    "/{int:article_id}",
    response=responses(ArticleOut),
    operation_id="knowledge_update",
    summary="修改问答",
    description=(
        "只有作者可以修改；version 不是当前版本时返回 409，不做任何修改。已发布的问答修改后立即公开。"
    ),
)
@requires(Permission.KNOWLEDGE_WRITE)
def knowledge_update(request: HttpRequest, article_id: int, payload: ArticleUpdateIn) -> ArticleOut:
    article = article_update(
        actor=request_actor(request), article_id=article_id, request=request, **payload.model_dump()
    )
    return _article_out(article)


@router.post(
    "/{int:article_id}/publish",
    response=responses(ArticleOut),
    operation_id="knowledge_publish",
    summary="发布问答",
    description="作者发布草稿或已撤回的问答；已发布的再次发布返回 409。",
)
@requires(Permission.KNOWLEDGE_WRITE)
def knowledge_publish(request: HttpRequest, article_id: int) -> ArticleOut:
    return _article_out(article_publish(actor=request_actor(request), article_id=article_id, request=request))


@router.post(
    "/{int:article_id}/withdraw",
    response=responses(ArticleOut),
    operation_id="knowledge_withdraw",
    summary="撤回问答",
    description=(
        "作者，或作者居住地所在辖区的管理员（须填写原因，作者会收到通知）撤回已发布的问答。"
        "其他人看不到的问答返回 404。"
    ),
)
# The author (KNOWLEDGE_WRITE) or a supervisor (CONSULTATION_SUPERVISE): the service decides.
@requires(Permission.SIGNED_IN)
def knowledge_withdraw(request: HttpRequest, article_id: int, payload: WithdrawIn) -> ArticleOut:
    article = article_withdraw(
        actor=request_actor(request), article_id=article_id, reason=payload.reason, request=request
    )
    return _article_out(article)
