"""The knowledge base's JSON API: public search, reading and suggestions; writing, editing (409 on a stale
version), publishing and withdrawing; and the authorization matrix of every operation."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.test import Client

from guanai.consultations import knowledge
from guanai.consultations.models import Article
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ArticleFactory
from guanai.consultations.vocabulary import ArticleState, Kind, Topic
from guanai.core.testing import Check, assert_authorization_matrix
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

API = "/api/v1/knowledge"
PERSONAS = (
    "anonymous",
    "lawyer",
    "counsellor",
    "county_a_admin",
    "county_b_admin",
    "volunteer",
    "township_worker",
    "province_admin",
    "auditor",
)
NEW_ARTICLE = {
    "kind": Kind.PSYCHOLOGICAL,
    "topic": Topic.STUDY_PRESSURE,
    "question": "考试前总是紧张怎么办？",
    "answer": "紧张是正常的反应。可以试试深呼吸。",
    "keywords": "考试，紧张",
}
DRAFT_QUESTION = "草稿：还没写完的问题"


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


def published(author: Volunteer, days_ago: int = 1, **fields: Any) -> Article:
    article: Article = ArticleFactory.create(
        author=author, published_at=NOW - datetime.timedelta(days=days_ago), **fields
    )
    return article


def a_draft(author: Volunteer) -> Article:
    article: Article = ArticleFactory.create(
        author=author, state=ArticleState.DRAFT, published_at=None, question=DRAFT_QUESTION
    )
    return article


def post(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(path, data=json.dumps(data or {}), content_type="application/json")


def test_anyone_searches_the_published_articles(clients: dict[str, Client], counsellor: Volunteer) -> None:
    exam = published(counsellor, 3, question="考试前总是紧张怎么办？", keywords="考试 紧张")
    published(counsellor, 2, question="晚上睡不着怎么办？", keywords="失眠", answer="考试前会睡不着。")
    a_draft(counsellor)

    found = clients["anonymous"].get(API, {"q": "考试紧张"}).json()

    assert (found["count"], found["page"], found["pages"]) == (2, 1, 1)
    assert [item["question"] for item in found["items"]] == ["考试前总是紧张怎么办？", "晚上睡不着怎么办？"]
    assert found["items"][0] == {
        "id": exam.pk,
        "kind": "psychological",
        "kind_label": "心理咨询",
        "topic": "study_pressure",
        "topic_label": "学习压力",
        "question": "考试前总是紧张怎么办？",
        "excerpt": "紧张是正常的反应。可以试试规律作息、适度运动，把大目标拆成小目标。",
        "published_at": "2026-11-27T02:00:00Z",
        "view_count": 0,
    }
    assert clients["anonymous"].get(API, {"q": "考试", "kind": "legal"}).json()["count"] == 0
    assert clients["anonymous"].get(API, {"page": 5}).json() == {
        "count": 2,
        "page": 5,
        "pages": 1,
        "items": [],
    }
    assert clients["anonymous"].get(API, {"kind": "medical"}).status_code == 422


def test_reading_an_article_counts_the_view(clients: dict[str, Client], counsellor: Volunteer) -> None:
    article = published(counsellor)
    draft = a_draft(counsellor)

    first = clients["anonymous"].get(f"{API}/{article.pk}").json()
    second = clients["volunteer"].get(f"{API}/{article.pk}").json()

    assert (first["view_count"], second["view_count"], second["state"], second["version"]) == (
        1,
        2,
        "published",
        1,
    )
    missing = clients["counsellor"].get(f"{API}/{draft.pk}")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_suggestions_for_a_typed_description(
    clients: dict[str, Client], counsellor: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = published(counsellor, question="晚上睡不着怎么办？", keywords="失眠")
    published(counsellor, question="被同学孤立怎么办？", keywords="孤立", topic=Topic.PEER_RELATIONS)

    response = clients["anonymous"].get(
        f"{API}/suggestions", {"text": "我一到晚上就睡不着", "kind": "psychological", "limit": "3"}
    )

    assert [item["id"] for item in response.json()["items"]] == [article.pk]
    assert clients["anonymous"].get(f"{API}/suggestions", {"text": ""}).json() == {"items": []}
    monkeypatch.setattr(knowledge, "SUGGEST_RATE_PER_IP", "1/m")
    assert clients["anonymous"].get(f"{API}/suggestions", {"text": "睡不着"}).status_code == 200
    limited = clients["anonymous"].get(f"{API}/suggestions", {"text": "睡不着"})
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")


def test_a_counsellor_writes_edits_publishes_and_withdraws(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    client = clients["counsellor"]

    created = post(client, API, NEW_ARTICLE)
    assert created.status_code == 201
    article = created.json()
    assert (article["state"], article["keywords"], article["version"], article["published_at"]) == (
        "draft",
        "考试 紧张",
        1,
        None,
    )
    path = f"{API}/{article['id']}"

    edited = client.put(
        path,
        data=json.dumps({**NEW_ARTICLE, "answer": "先深呼吸。", "version": 1}),
        content_type="application/json",
    )
    assert (edited.status_code, edited.json()["version"], edited.json()["answer"]) == (200, 2, "先深呼吸。")
    stale = client.put(
        path,
        data=json.dumps({**NEW_ARTICLE, "answer": "旧窗口", "version": 1}),
        content_type="application/json",
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "conflict")

    assert post(client, f"{path}/publish").json()["state"] == "published"
    assert post(client, f"{path}/publish").status_code == 409
    assert client.get(f"{API}/mine").json()["items"][0]["published_at"] == "2026-11-30T02:00:00Z"

    withdrawn = post(client, f"{path}/withdraw")
    assert (withdrawn.status_code, withdrawn.json()["state"]) == (200, "withdrawn")
    assert clients["anonymous"].get(path).status_code == 404
    assert Article.objects.get().answer == "先深呼吸。"


def test_writing_is_checked(clients: dict[str, Client], counsellor: Volunteer) -> None:
    wrong_field = post(clients["lawyer"], API, NEW_ARTICLE)
    assert (wrong_field.status_code, wrong_field.json()["fields"]) == (
        422,
        {"kind": ["只能撰写本人专业领域的问答（律师写法律问答，心理咨询师写心理问答）"]},
    )
    wrong_topic = post(
        clients["counsellor"], API, {**NEW_ARTICLE, "topic": "school_bullying", "question": "问"}
    )
    assert wrong_topic.json()["fields"] == {
        "topic": ["请选择与类别对应的问题类型"],
        "question": ["问题至少 5 个字"],
    }
    assert post(clients["counsellor"], API, {**NEW_ARTICLE, "kind": "medical"}).status_code == 422
    assert not Article.objects.exists()


def test_a_supervisor_withdraws_with_a_reason(clients: dict[str, Client], counsellor: Volunteer) -> None:
    article = published(counsellor)
    path = f"{API}/{article.pk}/withdraw"

    without = post(clients["county_a_admin"], path, {"reason": " "})
    assert (without.status_code, without.json()["fields"]) == (
        422,
        {"reason": ["请填写撤回原因，作者会收到通知"]},
    )
    assert post(clients["county_b_admin"], path, {"reason": "不妥"}).status_code == 404

    done = post(clients["province_admin"], path, {"reason": "引用的法条已修订"})
    assert (done.status_code, done.json()["state"]) == (200, "withdrawn")


def test_authorization_matrix_of_every_operation(clients: dict[str, Client], counsellor: Volunteer) -> None:
    live = published(counsellor, question="已发布的问答：考试紧张")
    draft = a_draft(counsellor)
    secret = (DRAFT_QUESTION,)

    def each(method: str, path: str, statuses: dict[str, int], **options: Any) -> list[Check]:
        # Refusals first; the counsellor, whose write succeeds, last.
        order = sorted(PERSONAS, key=lambda persona: persona == "counsellor")
        return [Check(persona, method, path, statuses[persona], **options) for persona in order]

    def writers(allowed: int, *, lawyer: int) -> dict[str, int]:
        statuses = dict.fromkeys(PERSONAS, 403)
        statuses.update(anonymous=401, counsellor=allowed, lawyer=lawyer)
        return statuses

    everyone = dict.fromkeys(PERSONAS, 200)
    withdraw_statuses = {
        **writers(200, lawyer=404),
        "county_b_admin": 404,
        "county_a_admin": 422,  # may withdraw, but gave no reason: nothing changes
        "province_admin": 422,
    }
    update = {**NEW_ARTICLE, "version": 1}
    checks = [
        *each("GET", API, everyone, must_not_contain=secret),
        *each("GET", f"{API}?q=草稿", everyone, must_not_contain=secret),
        *each("GET", f"{API}/{live.pk}", everyone, must_not_contain=(counsellor.name,)),
        *each("GET", f"{API}/{draft.pk}", dict.fromkeys(PERSONAS, 404), must_not_contain=secret),
        *each("GET", f"{API}/suggestions?text=还没写完的问题", everyone, must_not_contain=secret),
        *each("GET", f"{API}/mine", writers(200, lawyer=200)),
        *each("POST", API, writers(201, lawyer=422), data=NEW_ARTICLE),
        *each("PUT", f"{API}/{draft.pk}", writers(200, lawyer=404), data=update),
        *each("POST", f"{API}/{draft.pk}/publish", writers(200, lawyer=404), data={}),
        *each("POST", f"{API}/{live.pk}/withdraw", withdraw_statuses, data={"reason": ""}),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert Article.objects.count() == 3
    live.refresh_from_db()
    draft.refresh_from_db()
    assert (live.state, draft.state, draft.version) == (ArticleState.WITHDRAWN, ArticleState.PUBLISHED, 3)


def test_every_operation_is_named_knowledge(clients: dict[str, Client]) -> None:
    schema = clients["anonymous"].get("/api/v1/openapi.json").json()
    operations = sorted(
        operation["operationId"]
        for path, methods in schema["paths"].items()
        if path.startswith(API)
        for operation in methods.values()
    )
    assert operations == [
        "knowledge_create",
        "knowledge_get",
        "knowledge_mine",
        "knowledge_publish",
        "knowledge_search",
        "knowledge_suggestions",
        "knowledge_update",
        "knowledge_withdraw",
    ]
