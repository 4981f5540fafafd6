"""The knowledge base's pages: the public search, article and suggestions (phone-sized, elder mode, the
hotlines, no professional's name), the professional's 我的知识问答 with writing, editing, publishing and
withdrawing, a supervisor's withdrawal with a reason, and the authorization matrix of every page."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from guanai.consultations import knowledge
from guanai.consultations.models import Article
from guanai.consultations.tests.conftest import NOW
from guanai.consultations.tests.factories import ArticleFactory
from guanai.consultations.vocabulary import ArticleState, Kind, Topic
from guanai.core.testing import Check, assert_authorization_matrix, count_queries
from guanai.notifications.models import Notification
from guanai.volunteers.models import Volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]

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
PROFESSIONALS = ("lawyer", "counsellor")
DRAFT_QUESTION = "草稿：还没写完的问题"
ARTICLE_FORM = {
    "kind": Kind.PSYCHOLOGICAL,
    "topic": Topic.STUDY_PRESSURE,
    "question": "考试前总是紧张怎么办？",
    "answer": "紧张是正常的反应。可以试试深呼吸。",
    "keywords": "考试 紧张",
}


@pytest.fixture
def counsellor(persona_professionals: dict[str, Volunteer]) -> Volunteer:
    return persona_professionals["counsellor"]


def published(author: Volunteer, days_ago: int = 1, **fields: Any) -> Article:
    article: Article = ArticleFactory.create(
        author=author, published_at=NOW - datetime.timedelta(days=days_ago), **fields
    )
    return article


def a_draft(author: Volunteer, **fields: Any) -> Article:
    article: Article = ArticleFactory.create(
        author=author, state=ArticleState.DRAFT, published_at=None, question=DRAFT_QUESTION, **fields
    )
    return article


# --- Public pages ----------------------------------------------------------------------------------------


def test_the_search_page_lists_published_articles_never_drafts(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    article = published(counsellor, question="考试前总是紧张怎么办？")
    a_draft(counsellor)

    response = clients["anonymous"].get("/knowledge/?q=考试紧张")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="/knowledge/{article.pk}/"' in body
    assert "找到 1 条与“考试紧张”有关的问答" in body
    assert DRAFT_QUESTION not in body
    assert 'id="hotlines"' in body
    assert 'href="/help/ask/"' in body
    assert counsellor.name not in body


def test_the_search_answers_htmx_with_the_results_alone(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    published(counsellor, question="和同学闹矛盾了怎么办？", keywords="同伴", topic=Topic.PEER_RELATIONS)

    response = clients["anonymous"].get(
        "/knowledge/?q=矛盾&topic=peer_relations", headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert "<html" not in body
    assert "和同学闹矛盾了怎么办？" in body
    assert "没有找到相关的问答" not in clients["anonymous"].get("/knowledge/?q=矛盾").content.decode()
    assert "没有找到相关的问答" in clients["anonymous"].get("/knowledge/?q=矛盾&kind=legal").content.decode()


def test_the_search_page_reads_a_constant_number_of_queries(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    for day in range(3):
        published(counsellor, day + 1)
    with count_queries() as few:
        clients["anonymous"].get("/knowledge/?q=考试")
    for day in range(12):
        published(counsellor, day + 10)
    with count_queries() as many:
        clients["anonymous"].get("/knowledge/?q=考试")
    assert len(many) == len(few)


def test_an_article_page_counts_the_view_and_names_no_one(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    article = published(counsellor, question="晚上睡不着怎么办？", answer="第一段。\n\n第二段。")

    clients["anonymous"].get(f"/knowledge/{article.pk}/")
    response = clients["volunteer"].get(f"/knowledge/{article.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<p>第一段。</p>\n\n<p>第二段。</p>" in body
    assert "心理咨询师志愿者解答" in body
    assert "2026年11月29日 发布" in body
    assert "阅读 2 次" in body
    assert counsellor.name not in body
    assert 'id="withdraw-form"' not in body
    assert Article.objects.get(pk=article.pk).view_count == 2


def test_a_draft_or_withdrawn_article_is_not_found_even_by_its_author(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    for article in (a_draft(counsellor), published(counsellor, state=ArticleState.WITHDRAWN)):
        for persona in ("anonymous", "counsellor", "province_admin"):
            response = clients[persona].get(f"/knowledge/{article.pk}/")
            assert response.status_code == 404
            assert article.question not in response.content.decode()


def test_the_public_pages_follow_elder_mode(clients: dict[str, Client], counsellor: Volunteer) -> None:
    article = published(counsellor)
    client = clients["anonymous"]
    client.post("/preferences/elder-mode/", {"enabled": "1", "next": "/knowledge/"})
    for path in ("/knowledge/", f"/knowledge/{article.pk}/"):
        body = client.get(path).content.decode()
        assert '<html lang="zh-hans" class="elder-mode">' in body
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
        # One column on a phone: full-width controls, no table on a public page.
        assert "<table" not in body


def test_typing_a_description_suggests_articles(clients: dict[str, Client], counsellor: Volunteer) -> None:
    article = published(counsellor, question="晚上睡不着怎么办？", keywords="失眠")
    published(counsellor, question="和同学闹矛盾了怎么办？", keywords="同伴", topic=Topic.PEER_RELATIONS)

    response = clients["anonymous"].get(
        "/knowledge/suggest/",
        {"text": "最近晚上总是睡不着", "kind": "psychological"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="/knowledge/{article.pk}/" target="_blank" rel="noopener"' in body
    assert "和同学闹矛盾了" not in body
    assert "这些解答也许对你有帮助" in body
    empty = clients["anonymous"].get("/knowledge/suggest/", {"text": "", "kind": "nonsense"})
    assert (empty.status_code, empty.content.decode().strip()) == (200, "")
    assert (
        clients["anonymous"].get("/knowledge/suggest/", {"text": "睡不着", "kind": "legal"}).content.strip()
        == b""
    )


def test_suggestions_are_rate_limited_per_address(
    clients: dict[str, Client], counsellor: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knowledge, "SUGGEST_RATE_PER_IP", "2/m")
    published(counsellor, question="晚上睡不着怎么办？", keywords="失眠")
    statuses = [
        clients["anonymous"].get("/knowledge/suggest/", {"text": "睡不着"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


# --- The professional's pages -------------------------------------------------------------------------


def test_my_articles_lists_every_state_under_the_tab_strip(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    draft = a_draft(counsellor)
    live = published(counsellor, question="已发布的问答")

    body = clients["counsellor"].get("/knowledge/mine/").content.decode()

    assert 'id="professional-tabs"' in body
    assert 'class="nav-link active" aria-current="page" href="/knowledge/mine/"' in body
    assert DRAFT_QUESTION in body
    assert "已发布的问答" in body
    assert f'action="/knowledge/{draft.pk}/publish/"' in body
    assert f'action="/knowledge/{live.pk}/withdraw/"' in body
    assert DRAFT_QUESTION not in clients["lawyer"].get("/knowledge/mine/").content.decode()


def test_a_counsellor_without_a_volunteer_record_is_told_why(clients: dict[str, Client]) -> None:
    response = clients["counsellor"].get("/knowledge/mine/")
    assert response.status_code == 200
    assert 'id="not-a-professional"' in response.content.decode()
    assert clients["counsellor"].get("/knowledge/new/").status_code == 403


def test_writing_saves_a_draft_or_publishes_at_once(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    form = clients["counsellor"].get("/knowledge/new/").content.decode()
    assert 'value="psychological" class="form-check-input"' in form
    assert 'id="id_kind_0" required checked' in form
    assert 'value="legal"' not in form

    draft = clients["counsellor"].post("/knowledge/new/", ARTICLE_FORM)
    live = clients["counsellor"].post(
        "/knowledge/new/", {**ARTICLE_FORM, "question": "第二个问题是什么", "publish": "1"}
    )

    assert (draft.status_code, draft["Location"]) == (302, "/knowledge/mine/")
    assert live.status_code == 302
    assert list(Article.objects.order_by("id").values_list("question", "state", "author_id")) == [
        ("考试前总是紧张怎么办？", ArticleState.DRAFT, counsellor.pk),
        ("第二个问题是什么", ArticleState.PUBLISHED, counsellor.pk),
    ]


def test_a_form_with_mistakes_comes_back_with_them(clients: dict[str, Client], counsellor: Volunteer) -> None:
    response = clients["counsellor"].post(
        "/knowledge/new/", {**ARTICLE_FORM, "topic": Topic.SCHOOL_BULLYING, "question": "怎么办"}
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "请选择与类别对应的问题类型" in body
    assert "问题至少 5 个字" in body
    assert not Article.objects.exists()


def test_editing_over_a_stale_version_is_refused(clients: dict[str, Client], counsellor: Volunteer) -> None:
    article = a_draft(counsellor)
    assert (
        'name="version" value="1"'
        in clients["counsellor"].get(f"/knowledge/{article.pk}/edit/").content.decode()
    )

    saved = clients["counsellor"].post(f"/knowledge/{article.pk}/edit/", {**ARTICLE_FORM, "version": "1"})
    stale = clients["counsellor"].post(
        f"/knowledge/{article.pk}/edit/", {**ARTICLE_FORM, "answer": "另一窗口", "version": "1"}
    )

    assert saved.status_code == 302
    assert stale.status_code == 409
    assert "该问答已在别处修改（当前版本 2，您编辑的是版本 1）" in stale.content.decode()
    article.refresh_from_db()
    assert (article.version, article.question, article.answer) == (
        2,
        ARTICLE_FORM["question"],
        ARTICLE_FORM["answer"],
    )


def test_publishing_and_withdrawing_from_my_articles(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    article = a_draft(counsellor)

    assert clients["counsellor"].post(f"/knowledge/{article.pk}/publish/").status_code == 302
    again = clients["counsellor"].post(f"/knowledge/{article.pk}/publish/", follow=True)
    assert "该问答已经发布" in again.content.decode()
    assert clients["anonymous"].get(f"/knowledge/{article.pk}/").status_code == 200

    withdrawn = clients["counsellor"].post(f"/knowledge/{article.pk}/withdraw/")
    assert (withdrawn.status_code, withdrawn["Location"]) == (302, "/knowledge/mine/")
    assert clients["anonymous"].get(f"/knowledge/{article.pk}/").status_code == 404


def test_a_supervisor_withdraws_from_the_article_page_with_a_reason(
    clients: dict[str, Client], counsellor: Volunteer
) -> None:
    article = published(counsellor, question="孩子厌学怎么办？")
    page = clients["county_a_admin"].get(f"/knowledge/{article.pk}/").content.decode()
    assert f'action="/knowledge/{article.pk}/withdraw/"' in page
    assert (
        'id="withdraw-form"'
        not in clients["county_b_admin"].get(f"/knowledge/{article.pk}/").content.decode()
    )

    missing = clients["county_a_admin"].post(f"/knowledge/{article.pk}/withdraw/", {"reason": ""})
    assert missing.status_code == 422
    assert "请填写撤回原因，作者会收到通知" in missing.content.decode()

    done = clients["county_a_admin"].post(
        f"/knowledge/{article.pk}/withdraw/", {"reason": "引用的法条已修订"}
    )
    assert (done.status_code, done["Location"]) == (302, "/knowledge/")
    assert Article.objects.get(pk=article.pk).state == ArticleState.WITHDRAWN
    assert Notification.objects.get(user=counsellor.user).body.endswith(
        "原因：引用的法条已修订。修改后可重新发布。"
    )


# --- Who may open what ---------------------------------------------------------------------------------


def test_authorization_matrix_of_every_page(clients: dict[str, Client], counsellor: Volunteer) -> None:
    live = published(counsellor, question="已发布的问答：考试紧张")
    draft = a_draft(counsellor)
    secret = (DRAFT_QUESTION,)

    def each(method: str, path: str, statuses: dict[str, int], **options: Any) -> list[Check]:
        # Refusals first: the one persona whose write succeeds goes last, so the others meet the
        # article as it was.
        order = sorted(
            PERSONAS, key=lambda persona: statuses[persona] in (200, 201) or persona == "counsellor"
        )
        return [Check(persona, method, path, statuses[persona], **options) for persona in order]

    def writers(allowed: int, *, lawyer: int, anonymous: int = 302) -> dict[str, int]:
        statuses = dict.fromkeys(PERSONAS, 403)
        statuses.update(anonymous=anonymous, counsellor=allowed, lawyer=lawyer)
        return statuses

    everyone = dict.fromkeys(PERSONAS, 200)
    nobody = dict.fromkeys(PERSONAS, 404)
    edit_form = {**ARTICLE_FORM, "version": "1"}
    withdraw_statuses = {
        **dict.fromkeys(PERSONAS, 403),
        "anonymous": 302,
        "lawyer": 404,
        "county_b_admin": 404,
        "county_a_admin": 422,  # may withdraw, but gave no reason: nothing changes
        "province_admin": 422,
        "counsellor": 302,
    }
    checks = [
        *each("GET", "/knowledge/", everyone, must_not_contain=secret),
        *each("GET", "/knowledge/?q=草稿", everyone, must_not_contain=secret),
        *each("GET", f"/knowledge/{live.pk}/", everyone, must_not_contain=(counsellor.name,)),
        *each("GET", f"/knowledge/{draft.pk}/", nobody, must_not_contain=secret),
        *each("GET", "/knowledge/suggest/?text=草稿还没写完的问题", everyone, must_not_contain=secret),
        *each("GET", "/knowledge/mine/", writers(200, lawyer=200)),
        *each("GET", "/knowledge/new/", writers(200, lawyer=200)),
        *each("GET", f"/knowledge/{draft.pk}/edit/", writers(200, lawyer=404)),
        *each("POST", "/knowledge/new/", writers(302, lawyer=422), form=ARTICLE_FORM),
        *each("POST", f"/knowledge/{draft.pk}/edit/", writers(302, lawyer=404), form=edit_form),
        *each("POST", f"/knowledge/{draft.pk}/publish/", writers(302, lawyer=404)),
        *each("POST", f"/knowledge/{live.pk}/withdraw/", withdraw_statuses, form={"reason": ""}),
    ]
    assert assert_authorization_matrix(clients, checks) == len(checks)
    assert Article.objects.count() == 3  # the counsellor's new draft only
    live.refresh_from_db()
    draft.refresh_from_db()
    assert (live.state, draft.state, draft.version) == (ArticleState.WITHDRAWN, ArticleState.PUBLISHED, 3)
