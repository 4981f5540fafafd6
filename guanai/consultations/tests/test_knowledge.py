"""The knowledge base's services and selectors: professionals write in their own field, only the author
edits (over the version they started from), drafts and withdrawn articles are never public, supervisors of
the author's region withdraw with a reason; search ranks by bigram hits, suggestions read a typed
description; view counts; the audit trail."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from guanai.accounts.selectors import actor_for_user
from guanai.audit.models import AuditEvent
from guanai.consultations.knowledge import (
    SEARCH_PAGE_SIZE,
    article_create,
    article_get_published,
    article_may_withdraw,
    article_publish,
    article_read,
    article_search,
    article_suggestions,
    article_update,
    article_withdraw,
    own_article_get,
    own_articles,
    search_terms,
)
from guanai.consultations.models import Article
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ArticleFactory, make_professional
from guanai.consultations.vocabulary import ArticleState, Kind, Topic
from guanai.core.access import Actor
from guanai.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from guanai.core.testing import COUNTY_B, count_queries
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

COMMUNITY_A = "330127100001"
COMMUNITY_B = "330182001020"


@pytest.fixture
def actors(personas: dict[str, Any], persona_professionals: dict[str, Volunteer]) -> dict[str, Actor]:
    return {name: actor_for_user(user) for name, user in personas.items()}


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


def draft(actor: Actor, **fields: Any) -> Article:
    values: dict[str, Any] = {
        "kind": Kind.PSYCHOLOGICAL,
        "topic": Topic.STUDY_PRESSURE,
        "question": "考试前总是紧张怎么办？",
        "answer": "紧张是正常的反应。可以试试规律作息、适度运动。",
        "keywords": "考试，紧张、焦虑",
    }
    values.update(fields)
    return article_create(actor=actor, **values)


def published(author: Volunteer, days_ago: int, **fields: Any) -> Article:
    article: Article = ArticleFactory.create(
        author=author, published_at=NOW - datetime.timedelta(days=days_ago), **fields
    )
    return article


# --- Writing --------------------------------------------------------------------------------------------


def test_a_counsellor_writes_a_draft_with_its_search_text(
    actors: dict[str, Actor], counsellor: Volunteer
) -> None:
    article = draft(
        actors["counsellor"], question="  考试前  总是紧张怎么办？ ", keywords="考试，紧张、 焦虑 "
    )

    article.refresh_from_db()
    assert (article.author_id, article.state, article.published_at, article.version) == (
        counsellor.pk,
        ArticleState.DRAFT,
        None,
        1,
    )
    assert article.question == "考试前 总是紧张怎么办？"
    assert article.keywords == "考试 紧张 焦虑"
    # NFKC folds the full-width ？ to "?", in the text and in every query alike.
    assert (
        article.search_text
        == "考试前 总是紧张怎么办?\n考试 紧张 焦虑\n紧张是正常的反应。可以试试规律作息、适度运动。"
    )
    event = AuditEvent.objects.get(action="knowledge.create")
    assert (event.target_id, event.region_code, event.actor_username) == (
        str(article.pk),
        COMMUNITY_A,
        "p-counsellor",
    )
    assert event.changed_fields == ["kind", "topic", "question", "answer", "keywords"]


def test_the_search_text_is_folded_to_half_width_lower_case(actors: dict[str, Actor]) -> None:
    article = draft(actors["counsellor"], question="ＱＱ群里被人骂怎么办", keywords="QQ")
    assert article.search_text.startswith("qq群里被人骂怎么办\nqq\n")


def test_a_professional_writes_only_in_their_own_field(actors: dict[str, Actor]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        draft(actors["lawyer"])
    assert raised.value.fields == {
        "kind": ["只能撰写本人专业领域的问答（律师写法律问答，心理咨询师写心理问答）"]
    }
    article = draft(
        actors["lawyer"], kind=Kind.LEGAL, topic=Topic.SCHOOL_BULLYING, question="被同学欺负可以报警吗？"
    )
    assert article.kind == Kind.LEGAL


def test_the_fields_are_checked_together(actors: dict[str, Actor]) -> None:
    with pytest.raises(ValidationFailed) as raised:
        draft(
            actors["counsellor"],
            topic=Topic.SCHOOL_BULLYING,
            question="怎么办",
            answer="  ",
            keywords="词" * 201,
        )
    assert raised.value.fields == {
        "topic": ["请选择与类别对应的问题类型"],
        "question": ["问题至少 5 个字"],
        "answer": ["请填写解答"],
        "keywords": ["关键词不超过 200 个字"],
    }
    with pytest.raises(ValidationFailed) as raised:
        draft(actors["counsellor"], kind="medical")
    assert raised.value.fields == {"kind": ["请选择类别"]}
    assert not Article.objects.exists()


@pytest.mark.parametrize("persona", ["volunteer", "county_a_admin", "province_admin", "auditor"])
def test_only_professionals_write(actors: dict[str, Actor], persona: str) -> None:
    with pytest.raises(PermissionDeniedError):
        draft(actors[persona])


def test_a_counsellor_role_without_a_volunteer_record_may_not_write(personas: dict[str, Any]) -> None:
    actor = actor_for_user(personas["counsellor"])  # no persona_professionals: no volunteer record
    with pytest.raises(PermissionDeniedError) as raised:
        draft(actor)
    assert raised.value.message == "只有在册的律师或心理咨询师志愿者可以撰写知识问答。"
    assert list(own_articles(actor=actor)) == []


def test_the_author_edits_over_the_version_they_started_from(actors: dict[str, Actor]) -> None:
    article = draft(actors["counsellor"])

    updated = article_update(
        actor=actors["counsellor"],
        article_id=article.pk,
        version=1,
        kind=Kind.PSYCHOLOGICAL,
        topic=Topic.EMOTIONAL_DISTRESS,
        question="考试前总是紧张怎么办？",
        answer="先深呼吸，再把复习计划拆成小步。",
        keywords="考试 紧张 焦虑",
    )

    updated.refresh_from_db()
    assert (updated.version, updated.topic, updated.answer) == (
        2,
        Topic.EMOTIONAL_DISTRESS,
        "先深呼吸，再把复习计划拆成小步。",
    )
    assert updated.search_text.endswith("\n先深呼吸,再把复习计划拆成小步。")  # NFKC: full-width comma
    event = AuditEvent.objects.get(action="knowledge.update")
    assert event.changed_fields == ["topic", "answer"]


def test_a_stale_version_is_a_conflict_and_changes_nothing(actors: dict[str, Actor]) -> None:
    article = draft(actors["counsellor"])
    edit: dict[str, Any] = {
        "kind": Kind.PSYCHOLOGICAL,
        "topic": Topic.STUDY_PRESSURE,
        "question": "考试前总是紧张怎么办？",
        "keywords": "",
    }
    article_update(
        actor=actors["counsellor"], article_id=article.pk, version=1, answer="第一次修改的解答。", **edit
    )

    with pytest.raises(ConflictError) as raised:
        article_update(
            actor=actors["counsellor"], article_id=article.pk, version=1, answer="另一窗口的解答。", **edit
        )

    assert raised.value.message == "该问答已在别处修改（当前版本 2，您编辑的是版本 1），请刷新后重新修改。"
    article.refresh_from_db()
    assert (article.version, article.answer) == (2, "第一次修改的解答。")


def test_only_the_author_edits_publishes_and_sees_a_draft(actors: dict[str, Actor]) -> None:
    other = make_professional(username="another-counsellor", kind=Kind.PSYCHOLOGICAL)
    assert other.user is not None
    other_actor = actor_for_user(other.user)
    article = draft(actors["counsellor"])

    with pytest.raises(NotFoundError):
        article_update(
            actor=other_actor,
            article_id=article.pk,
            version=1,
            kind=Kind.PSYCHOLOGICAL,
            topic=Topic.STUDY_PRESSURE,
            question="被别人改掉的问题",
            answer="被别人改掉的解答",
        )
    with pytest.raises(NotFoundError):
        article_publish(actor=other_actor, article_id=article.pk)
    with pytest.raises(NotFoundError):
        own_article_get(actor=other_actor, article_id=article.pk)
    with pytest.raises(NotFoundError):
        article_withdraw(actor=other_actor, article_id=article.pk)
    article.refresh_from_db()
    assert (article.version, article.state) == (1, ArticleState.DRAFT)
    assert own_article_get(actor=actors["counsellor"], article_id=article.pk) == article


def test_publishing_makes_an_article_public(actors: dict[str, Actor]) -> None:
    article = draft(actors["counsellor"])

    article_publish(actor=actors["counsellor"], article_id=article.pk)

    article.refresh_from_db()
    assert (article.state, article.published_at, article.version) == (ArticleState.PUBLISHED, NOW, 2)
    assert article_get_published(article_id=article.pk) == article
    assert list(article_search(query="紧张")) == [article]
    with pytest.raises(ConflictError):
        article_publish(actor=actors["counsellor"], article_id=article.pk)
    assert AuditEvent.objects.filter(action="knowledge.publish").count() == 1


def test_drafts_and_withdrawn_articles_are_never_public(
    actors: dict[str, Actor], counsellor: Volunteer
) -> None:
    unpublished = draft(actors["counsellor"])
    withdrawn = published(counsellor, 3, state=ArticleState.WITHDRAWN)
    for article in (unpublished, withdrawn):
        with pytest.raises(NotFoundError):
            article_get_published(article_id=article.pk)
        with pytest.raises(NotFoundError):
            article_read(article_id=article.pk)
    assert list(article_search(query="考试紧张")) == []
    assert list(article_search(query="")) == []
    assert article_suggestions(text="考试前很紧张，睡不着") == []
    assert Article.objects.filter(view_count__gt=0).count() == 0


def test_reading_counts_each_view(counsellor: Volunteer) -> None:
    article = published(counsellor, 1)

    assert article_read(article_id=article.pk).view_count == 1
    assert article_read(article_id=article.pk).view_count == 2
    assert article_get_published(article_id=article.pk).view_count == 2


# --- Withdrawing ------------------------------------------------------------------------------------------


def test_the_author_withdraws_and_publishes_again(actors: dict[str, Actor], counsellor: Volunteer) -> None:
    article = published(counsellor, 2)

    article_withdraw(actor=actors["counsellor"], article_id=article.pk)

    article.refresh_from_db()
    assert (article.state, article.version) == (ArticleState.WITHDRAWN, 2)
    event = AuditEvent.objects.get(action="knowledge.withdraw")
    assert (event.detail, event.region_code) == ({"by_author": True}, COMMUNITY_A)
    assert not Notification.objects.exists()
    with pytest.raises(ConflictError):
        article_withdraw(actor=actors["counsellor"], article_id=article.pk)
    article_publish(actor=actors["counsellor"], article_id=article.pk)
    assert article_get_published(article_id=article.pk).published_at == NOW


@pytest.mark.parametrize("persona", ["county_a_admin", "province_admin"])
def test_a_supervisor_of_the_authors_region_withdraws_with_a_reason_told_to_the_author(
    actors: dict[str, Actor], counsellor: Volunteer, persona: str
) -> None:
    article = published(counsellor, 2, question="孩子厌学怎么办？")
    assert article_may_withdraw(actor=actors[persona], article=article)

    with pytest.raises(ValidationFailed) as raised:
        article_withdraw(actor=actors[persona], article_id=article.pk, reason="  ")
    assert raised.value.fields == {"reason": ["请填写撤回原因，作者会收到通知"]}

    article_withdraw(actor=actors[persona], article_id=article.pk, reason="引用的法条已修订")

    article.refresh_from_db()
    assert article.state == ArticleState.WITHDRAWN
    notice = Notification.objects.get(user=counsellor.user)
    assert (notice.kind, notice.title, notice.body, notice.link) == (
        "notice",
        "您的知识问答已被撤回",
        "“孩子厌学怎么办？”已由管理员撤回，原因：引用的法条已修订。修改后可重新发布。",
        "/knowledge/mine/",
    )
    event = AuditEvent.objects.get(action="knowledge.withdraw")
    assert (event.detail, event.region_code, event.actor_role) == (
        {"by_author": False},
        COMMUNITY_A,
        actors[persona].role,
    )


def test_a_supervisor_elsewhere_or_of_a_draft_finds_nothing_to_withdraw(
    actors: dict[str, Actor], counsellor: Volunteer
) -> None:
    elsewhere = published(counsellor, 2)
    unpublished = draft(actors["counsellor"])
    assert not article_may_withdraw(actor=actors["county_b_admin"], article=elsewhere)
    with pytest.raises(NotFoundError):
        article_withdraw(actor=actors["county_b_admin"], article_id=elsewhere.pk, reason="不妥")
    with pytest.raises(NotFoundError):
        article_withdraw(actor=actors["county_a_admin"], article_id=unpublished.pk, reason="不妥")
    # An author of county B is within county B's supervision.
    author_b = make_professional(
        username="counsellor-b", kind=Kind.PSYCHOLOGICAL, region=COUNTY_B, home=COMMUNITY_B
    )
    theirs = published(author_b, 1)
    assert article_may_withdraw(actor=actors["county_b_admin"], article=theirs)
    assert not article_may_withdraw(actor=actors["county_a_admin"], article=theirs)
    assert Article.objects.filter(state=ArticleState.WITHDRAWN).count() == 0


@pytest.mark.parametrize("persona", ["volunteer", "township_worker", "auditor"])
def test_who_neither_writes_nor_supervises_may_not_withdraw(
    actors: dict[str, Actor], counsellor: Volunteer, persona: str
) -> None:
    article = published(counsellor, 2)
    assert not article_may_withdraw(actor=actors[persona], article=article)
    with pytest.raises(PermissionDeniedError):
        article_withdraw(actor=actors[persona], article_id=article.pk, reason="不妥")


# --- Search ------------------------------------------------------------------------------------------------


def test_search_terms_are_bigrams_single_characters_and_latin_words() -> None:
    assert search_terms("考试紧张") == ["考试", "试紧", "紧张"]
    assert search_terms("被 打，ＱＱ群 12355") == ["被", "打", "qq", "群", "12355"]
    assert search_terms("被 打", single_characters=False) == []
    assert search_terms("紧张紧张") == ["紧张", "张紧"]


@pytest.fixture
def library(counsellor: Volunteer) -> dict[str, Article]:
    """Five published articles and a draft, for the exact order of search and suggestions."""
    return {
        "exam": published(
            counsellor,
            10,
            question="考试前总是紧张怎么办？",
            keywords="考试 紧张",
            answer="紧张是正常的反应，试试深呼吸。",
        ),
        "sleep": published(
            counsellor,
            9,
            topic=Topic.EMOTIONAL_DISTRESS,
            question="晚上睡不着怎么办？",
            keywords="失眠",
            answer="考试前一晚紧张得睡不着，可以听听轻音乐。",
        ),
        "sleep_newer": published(
            counsellor,
            2,
            topic=Topic.EMOTIONAL_DISTRESS,
            question="半夜醒来再也睡不着？",
            keywords="失眠 早醒",
            answer="考试临近时容易紧张，早醒也常见。",
        ),
        "friends": published(
            counsellor,
            5,
            topic=Topic.PEER_RELATIONS,
            question="和同学闹矛盾了怎么办？",
            keywords="同伴 矛盾",
            answer="先冷静下来，再找机会好好谈谈。",
        ),
        "qq": published(
            counsellor,
            4,
            topic=Topic.PEER_RELATIONS,
            question="在QQ群里被同学孤立怎么办？",
            keywords="网络 孤立",
            answer="保存聊天记录，告诉信任的大人。",
        ),
        "draft": ArticleFactory.create(
            author=counsellor,
            state=ArticleState.DRAFT,
            published_at=None,
            question="考试紧张的草稿",
            keywords="考试 紧张",
        ),
    }


def test_search_ranks_by_bigram_hits_question_first_then_newest(library: dict[str, Article]) -> None:
    # 考试 and 紧张 in the question of "exam"; in the answers of the two sleep articles (newest first).
    page = article_search(query="考试紧张")
    assert [article.question for article in page] == [
        "考试前总是紧张怎么办？",
        "半夜醒来再也睡不着？",
        "晚上睡不着怎么办？",
    ]
    assert [article.score for article in page] == [6, 2, 2]


def test_a_question_hit_outweighs_an_answer_hit(library: dict[str, Article]) -> None:
    # 紧张 in the question of "exam" (1 + 2) beats 早醒 and 紧张 in the keywords and answer (1 + 1).
    page = article_search(query="早醒紧张")
    assert [(article.question, article.score) for article in page] == [
        ("考试前总是紧张怎么办？", 3),
        ("半夜醒来再也睡不着？", 2),
        ("晚上睡不着怎么办？", 1),
    ]


def test_search_filters_by_kind_and_topic(library: dict[str, Article]) -> None:
    assert [a.question for a in article_search(query="紧张", topic=Topic.EMOTIONAL_DISTRESS)] == [
        "半夜醒来再也睡不着？",
        "晚上睡不着怎么办？",
    ]
    assert list(article_search(query="紧张", kind=Kind.LEGAL)) == []


def test_a_latin_query_matches_whole_words(library: dict[str, Article], counsellor: Volunteer) -> None:
    published(counsellor, 1, question="QQQ是什么？", keywords="", answer="一个不相关的词。")
    assert [a.question for a in article_search(query="ＱＱ")] == ["在QQ群里被同学孤立怎么办？"]


def test_search_without_a_query_lists_the_newest_published(library: dict[str, Article]) -> None:
    assert [a.question for a in article_search(query="  ")] == [
        "半夜醒来再也睡不着？",
        "在QQ群里被同学孤立怎么办？",
        "和同学闹矛盾了怎么办？",
        "晚上睡不着怎么办？",
        "考试前总是紧张怎么办？",
    ]


def test_search_pages(counsellor: Volunteer) -> None:
    for day in range(SEARCH_PAGE_SIZE + 5):
        published(counsellor, day + 1)
    first = article_search(query="考试")
    second = article_search(query="考试", page=2)
    assert (first.paginator.count, len(first), len(second), second.number) == (25, 20, 5, 2)
    assert article_search(query="考试", page="not a page").number == 1


# --- Suggestions -------------------------------------------------------------------------------------------


def test_a_typed_description_suggests_the_closest_articles(library: dict[str, Article]) -> None:
    text = "我最近考试压力很大，一到晚上就紧张得睡不着，怎么办？"
    with count_queries() as queries:
        suggestions = article_suggestions(text=text, kind=Kind.PSYCHOLOGICAL)
    assert len(queries) == 2
    # 晚上 (held by one article: weight 3), 睡不 and 不着 (two: weight 2), each ×3 in a question; 考试 and
    # 紧张 (one each: weight 3); 怎么办 is a stop word, and the answers are not read.
    assert [(article.question, article.score) for article in suggestions] == [  # type: ignore[attr-defined]
        ("晚上睡不着怎么办？", 21),
        ("考试前总是紧张怎么办？", 18),
        ("半夜醒来再也睡不着？", 12),
    ]
    assert [article.question for article in article_suggestions(text=text, limit=1)] == ["晚上睡不着怎么办？"]
    assert article_suggestions(text=text, kind=Kind.LEGAL) == []


def test_one_informative_term_is_enough_when_it_is_the_only_one(library: dict[str, Article]) -> None:
    assert [a.question for a in article_suggestions(text="被孤立了")] == ["在QQ群里被同学孤立怎么办？"]


def test_suggestions_read_questions_and_keywords_not_answers(library: dict[str, Article]) -> None:
    assert [a.question for a in article_suggestions(text="早醒怎么调整")] == ["半夜醒来再也睡不着？"]
    assert article_suggestions(text="想听轻音乐") == []  # only in an answer


def test_nothing_is_suggested_for_too_little_or_unrelated_text(library: dict[str, Article]) -> None:
    assert article_suggestions(text="") == []
    assert article_suggestions(text="我") == []
    assert article_suggestions(text="今天天气晴朗") == []
    assert article_suggestions(text="考试", limit=0) == []


def test_a_term_most_articles_hold_suggests_nothing(counsellor: Volunteer) -> None:
    for day in range(20):
        published(counsellor, day + 1, question=f"孩子的问题{day}", keywords="", answer="孩子需要陪伴。")
    published(counsellor, 30, question="孩子失眠怎么办", keywords="失眠", answer="孩子失眠要规律作息。")
    assert article_suggestions(text="孩子孩子") == []
    assert [a.question for a in article_suggestions(text="孩子失眠")] == ["孩子失眠怎么办"]
