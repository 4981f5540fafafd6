from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from guanai.core.labels import one_language, per_language

ACTIVE = gettext_lazy("在岗")  # a label of the catalogue, translated in English


def make_label() -> tuple[list[int], Callable[[int], list[str]]]:
    calls: list[int] = []

    @per_language
    def label(value: int) -> list[str]:
        calls.append(value)
        return [f"{value}:{ACTIVE}"]

    return calls, label


def test_the_answer_is_remembered_per_language_and_copied_on_the_way_out() -> None:
    calls, label = make_label()
    with translation.override("zh-hans"):
        first = label(1)
        first.append("changed by the caller")
        assert label(1) == ["1:在岗"]
    with translation.override("en"):
        assert label(1) == ["1:Active"]
    assert calls == [1, 1]


def test_inside_one_language_the_labels_use_the_language_active_when_it_began() -> None:
    calls, label = make_label()
    with translation.override("en"), one_language():
        assert [label(2), label(2)] == [["2:Active"], ["2:Active"]]
    with translation.override("zh-hans"):
        assert label(2) == ["2:在岗"]
    assert calls == [2, 2]


def test_a_language_switched_inside_the_pin_never_files_labels_under_the_wrong_language() -> None:
    _calls, label = make_label()
    with translation.override("en"), one_language(), translation.override("zh-hans"):
        assert label(3) == ["3:Active"]  # the pinned language, computed in it
    with translation.override("zh-hans"):
        assert label(3) == ["3:在岗"]
    with translation.override("en"):
        assert label(3) == ["3:Active"]


def test_the_pin_ends_with_its_block_even_on_an_error() -> None:
    _calls, label = make_label()
    with translation.override("en"):
        with pytest.raises(RuntimeError), one_language():
            raise RuntimeError
        with translation.override("zh-hans"):
            assert label(4) == ["4:在岗"]
