"""The forms of the knowledge base's pages: the public search (words, kind, topic), the suggestions asked for
by the intake form while typing, the professional's article form, and a supervisor's reason to withdraw."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanai.consultations.knowledge import (
    ANSWER_MAX_LENGTH,
    KEYWORDS_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    REASON_MAX_LENGTH,
)
from guanai.consultations.vocabulary import TOPICS_BY_KIND, Kind, Topic
from guanai.web.forms import (
    CONTROL,
    SELECT,
    DescribedErrors,
    select_field,
    text_area_field,
    text_field,
    with_blank,
)

# Suggestions read the intake's description, which is at most this long.
SUGGEST_TEXT_MAX_LENGTH = 2000


def topic_choices() -> list[tuple[Any, Any]]:
    """The topics grouped under their kind (an optgroup each), as a select shows them."""
    labels = dict(Topic.choices)
    return [
        (kind_label, [(topic, labels[topic]) for topic in TOPICS_BY_KIND[kind]])
        for kind, kind_label in Kind.choices
    ]


class KnowledgeSearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索问题"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                **CONTROL,
                "type": "search",
                "autocomplete": "off",
                "enterkeyhint": "search",
                "placeholder": _("例如：考试紧张、被同学欺负"),
            }
        ),
    )
    kind = select_field(_("类别"), Kind.choices, blank=_("全部类别"))
    topic = forms.ChoiceField(
        label=_("问题类型"),
        required=False,
        choices=with_blank(topic_choices(), _("全部问题类型")),
        widget=forms.Select(attrs=SELECT),
    )

    def filters(self) -> dict[str, str]:
        """query, kind and topic for `article_search`; an invalid filter reads as none."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "query": data.get("q", "") or "",
            "kind": data.get("kind", "") or "",
            "topic": data.get("topic", "") or "",
        }


class SuggestForm(forms.Form):
    """What the intake form sends while the requester types: `text` and the chosen `kind`."""

    text = forms.CharField(required=False, max_length=SUGGEST_TEXT_MAX_LENGTH, strip=True)
    kind = forms.ChoiceField(required=False, choices=with_blank(Kind.choices))

    def arguments(self) -> dict[str, str]:
        """text and kind for `article_suggestions`; a text too long is read up to the limit."""
        text = (self.data.get("text") or "")[:SUGGEST_TEXT_MAX_LENGTH]
        kind = self.data.get("kind") or ""
        return {"text": text, "kind": kind if kind in Kind.values else ""}


class ArticleForm(DescribedErrors, forms.Form):
    kind = forms.ChoiceField(
        label=_("类别"), choices=Kind.choices, widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    topic = forms.ChoiceField(
        label=_("问题类型"),
        choices=with_blank(topic_choices()),
        widget=forms.Select(attrs=SELECT),
        help_text=_("请选择与类别对应的问题类型。"),
    )
    question = text_field(
        pgettext_lazy("knowledge base question", "问题"),
        max_length=QUESTION_MAX_LENGTH,
        required=True,
        help_text=_("用求助者的话来写，例如“考试前总是紧张怎么办？”"),
    )
    answer = text_area_field(
        _("解答"),
        max_length=ANSWER_MAX_LENGTH,
        rows=12,
        required=True,
        help_text=_("写给孩子、家长和老师看：少用术语；需要时写明求助电话 12355、110、120。"),
    )
    keywords = text_field(
        _("关键词"),
        max_length=KEYWORDS_MAX_LENGTH,
        help_text=_("用空格或逗号分隔，帮助求助者搜到这条问答，例如“失眠 早醒 焦虑”。"),
        autocomplete="off",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in ("kind", "topic", "question", "answer", "keywords")}


class WithdrawForm(DescribedErrors, forms.Form):
    reason = forms.CharField(
        label=_("撤回原因"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={**CONTROL, "autocomplete": "off"}),
        help_text=_("管理员撤回时必填，作者会收到通知。"),
    )
