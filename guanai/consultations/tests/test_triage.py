"""Crisis triage: Chinese phrasings of suicide, self-harm, abuse and danger are signals; everyday sentences
(idioms with 死, 打篮球, 打电话) are not; the topic 自伤或轻生念头 always is; the rule list is a file that a
setting replaces, read once, and a malformed one fails loudly naming its line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st
from opencc_purepy import OpenCC

from guanai.consultations import triage
from guanai.consultations.triage import crisis_signals, is_crisis, normalise, normalised_forms
from guanai.consultations.vocabulary import Topic

# (phrase, the category it must signal). Each phrase is complete: what follows it cannot turn it into
# one of the idioms the rules leave out (the property test below relies on it).
POSITIVES: list[tuple[str, str]] = [
    # Suicide
    ("我不想活了", "suicide"),
    ("我真的好想死。", "suicide"),
    ("想 死了", "suicide"),
    ("想……死了", "suicide"),
    ("想😭死了", "suicide"),
    ("我想死，你们别管我", "suicide"),
    ("活着没意思", "suicide"),
    ("感觉活着真的没有意思", "suicide"),
    ("我想自杀", "suicide"),
    ("最近总有轻生的念头", "suicide"),
    ("我想结束自己的生命", "suicide"),
    ("昨晚吃了一整瓶安眠药", "suicide"),
    ("我站在楼顶想跳下去", "suicide"),
    ("我想跳楼了", "suicide"),
    ("我想去死了", "suicide"),
    ("真想死了算了", "suicide"),
    ("如果我消失了大家会更好", "suicide"),
    ("没有我他们会更轻松", "suicide"),
    ("我已经写好遗书了", "suicide"),
    ("想一死了之", "suicide"),
    ("我真的活不下去了", "suicide"),
    ("我想紫砂了", "suicide"),
    ("晚上想上吊", "suicide"),
    ("我不想活在这个世界上了", "suicide"),
    ("我从来没想过自杀", "suicide"),  # negation is not undone, by choice
    # Self-harm
    ("我又割腕了", "self_harm"),
    ("我偷偷自残", "self_harm"),
    ("用刀划自己的手", "self_harm"),
    ("难受的时候忍不住划手了", "self_harm"),
    ("我想伤害自己", "self_harm"),
    ("一生气就用头撞墙", "self_harm"),
    # Abuse and violence
    ("爸爸又打我了", "abuse"),
    ("他打我了", "abuse"),
    ("妈妈经常打我，很疼", "abuse"),
    ("我今天又被打了", "abuse"),
    ("在学校被同学打了", "abuse"),
    ("我被家暴了", "abuse"),
    ("后妈虐待我", "abuse"),
    ("他们把我关起来", "abuse"),
    ("爸爸喝醉了不给我饭吃", "abuse"),
    ("被爸爸用皮带抽了", "abuse"),
    ("我在家经常挨打", "abuse"),
    ("继父一喝酒就揍我", "abuse"),
    # Sexual abuse
    ("我被性侵了", "sexual_abuse"),
    ("有个老师猥亵我", "sexual_abuse"),
    ("他摸我下面", "sexual_abuse"),
    ("他让我脱衣服拍照", "sexual_abuse"),
    ("网友逼我发裸照", "sexual_abuse"),
    # Immediate danger
    ("有人要杀我", "danger"),
    ("我被绑架了", "danger"),
    ("我现在很危险", "danger"),
    ("有人一直跟踪我", "danger"),
    ("孩子离家出走了，联系不上", "danger"),
    ("他拿着刀威胁我", "danger"),
    ("救救我", "danger"),
    ("他说要打死我", "danger"),
    # Traditional characters, full-width forms
    ("我想自殺", "suicide"),
    ("我被綁架了", "danger"),
    ("我想跳樓了", "suicide"),
    ("他們把我關起來", "abuse"),
    ("想　死了", "suicide"),
]

NEGATIVES: list[str] = [
    "笑死我了",
    "今天热死了",
    "跑完步累死了",
    "吓死我了",
    "饿死了，快开饭吧",
    "这道题难死了",
    "背单词只能死记硬背",
    "放学后我们去打篮球",
    "周末在家打游戏",
    "晚上给妈妈打电话",
    "好想死你们了",
    "他打我电话我没接",
    "这次比赛被打败了",
    "写作业的时候不想被打扰",
    "我被这部电影打动了",
    "商场里都是跳楼价",
    "我不想活在别人的期待里",
    "我想离家出走",
    "上课老是忍不住划手机",
    "这是最后一根救命稻草",
    "他是我的救命恩人",
    "妈妈给我买了紫砂壶",
    "他踢我出群了",
    "医生抽我的血化验",
    "我们班打败了三班",
    "考试没考好，心情很低落",
    "爸爸妈妈经常吵架",
    "同学不和我玩，我很孤单",
    "我想当一名医生",
    "打针的时候有点疼",
    "这个周末我们去爬山",
    "每天练琴很辛苦",
    "我和同桌闹矛盾了",
    "老师说我的字写得好",
]


@pytest.mark.parametrize(("phrase", "category"), POSITIVES)
def test_crisis_phrasing_signals_its_category(phrase: str, category: str) -> None:
    signals = crisis_signals(phrase)
    assert signals, phrase
    assert category in signals, (phrase, signals)
    assert signals == sorted(set(signals))
    assert is_crisis(phrase)


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_ordinary_sentence_signals_nothing(sentence: str) -> None:
    assert crisis_signals(sentence) == []
    assert is_crisis(sentence) is False


def test_there_are_enough_phrasings() -> None:
    assert len(POSITIVES) >= 40
    assert len(NEGATIVES) >= 25
    assert {category for _, category in POSITIVES} == {
        "suicide",
        "self_harm",
        "abuse",
        "sexual_abuse",
        "danger",
    }


def test_several_categories_are_named_once_each_and_sorted() -> None:
    text = "爸爸打我，我不想活了，还割腕了。爸爸打我。"
    assert crisis_signals(text) == ["abuse", "self_harm", "suicide"]


def test_the_self_harm_topic_always_signals() -> None:
    assert crisis_signals("", topic=Topic.SELF_HARM) == ["topic_self_harm"]
    assert crisis_signals("最近学习很累", topic=Topic.SELF_HARM) == ["topic_self_harm"]
    assert crisis_signals("我想自杀", topic=Topic.SELF_HARM) == ["suicide", "topic_self_harm"]
    assert is_crisis("", topic=Topic.SELF_HARM)


def test_other_topics_add_nothing() -> None:
    assert crisis_signals("最近学习很累", topic=Topic.STUDY_PRESSURE) == []
    assert crisis_signals("", topic=Topic.DOMESTIC_VIOLENCE) == []
    assert crisis_signals("我被家暴了", topic=Topic.DOMESTIC_VIOLENCE) == ["abuse"]


def test_normalisation_folds_width_case_traditional_and_separators() -> None:
    assert normalise("ＡＢＣ　想……死！") == "abc想死"
    assert normalise("跳樓 自殺") == "跳楼自杀"
    assert normalised_forms("我想死，你们\u200b别管我") == ("我想死你们别管我", "我想死\n你们\n别管我")


def test_an_idiom_exception_does_not_hide_a_signal_across_punctuation() -> None:
    # Without separators this reads 想死你们…, the idiom "I miss you"; with them it does not.
    assert crisis_signals("我想死，你们别管我") == ["suicide"]
    assert crisis_signals("我想死你们了") == []


# --- Traditional characters ---------------------------------------------------------------------


def _rule_words() -> set[str]:
    """The runs of Chinese characters in the shipped patterns, and each of their characters."""
    text = triage.BUILT_IN_RULES.read_text(encoding="utf-8")
    patterns = [line.partition(":")[2] for line in text.splitlines() if line and not line.startswith("#")]
    words = {word for pattern in patterns for word in re.findall(r"[\u4e00-\u9fff]+", pattern)}
    return words | {character for word in words for character in word}


@pytest.mark.parametrize("configuration", ["s2t", "s2tw", "s2hk"])
def test_every_traditional_form_of_the_rules_reads_simplified(configuration: str) -> None:
    converter = OpenCC(configuration)
    missed = {
        word: converter.convert(word) for word in _rule_words() if normalise(converter.convert(word)) != word
    }
    assert missed == {}


@pytest.mark.parametrize(("phrase", "category"), POSITIVES)
def test_crisis_phrasing_in_traditional_characters_signals_too(phrase: str, category: str) -> None:
    traditional = OpenCC("s2t").convert(phrase)
    assert category in crisis_signals(traditional), (traditional, crisis_signals(traditional))


# --- The property: surrounding text never hides a signal -----------------------------------------

CHINESE = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=30)
CONTEXT = st.one_of(
    CHINESE,
    st.builds(lambda text, mark: text + mark, CHINESE, st.sampled_from(["，", "。", "！", " ", "……", "\n"])),
)


@settings(max_examples=500, deadline=None)
@given(before=CONTEXT, positive=st.sampled_from(POSITIVES), after=CONTEXT)
def test_a_crisis_phrase_inside_any_chinese_text_still_signals(
    before: str, positive: tuple[str, str], after: str
) -> None:
    phrase, category = positive
    assert category in crisis_signals(before + phrase + after)


# --- The rule file ---------------------------------------------------------------------------------


@pytest.fixture
def rules_path(tmp_path: Path, settings: Any) -> Path:
    """A rules file named by the setting; the rules in force again after the test."""
    path = tmp_path / "rules.txt"
    path.write_text("# 校园欺凌\n\nbullying: 欺负我|孤立我\nbullying: 勒索\nthreat: 威胁\n", encoding="utf-8")
    settings.GUANAI_CRISIS_RULES_FILE = str(path)
    return path


def test_a_configured_file_replaces_the_built_in_rules(rules_path: Path) -> None:
    assert crisis_signals("他们 欺负我，还威胁我") == ["bullying", "threat"]
    assert crisis_signals("高年级勒索我") == ["bullying"]
    assert crisis_signals("我不想活了") == []
    assert crisis_signals("", topic=Topic.SELF_HARM) == ["topic_self_harm"]


def test_the_file_is_read_once_and_again_when_the_setting_changes(rules_path: Path, settings: Any) -> None:
    assert crisis_signals("他欺负我") == ["bullying"]
    rules_path.write_text("other: 欺负我\n", encoding="utf-8")
    assert crisis_signals("他欺负我") == ["bullying"]
    settings.GUANAI_CRISIS_RULES_FILE = ""
    assert crisis_signals("他欺负我") == []
    assert crisis_signals("我不想活了") == ["suicide"]
    settings.GUANAI_CRISIS_RULES_FILE = str(rules_path)
    assert crisis_signals("他欺负我") == ["other"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ok: 欺负\nbullying 欺负我\n", "line 2: expected 'name: pattern'"),
        ("# comment\n\nBullying: 欺负\n", "line 3: rule name 'Bullying'"),
        ("bullying: (欺负\n", "line 1: rule 'bullying' is not a valid pattern"),
        ("bullying:\n", "line 1: rule 'bullying' has no pattern"),
        ("ok: 欺负\n\nanything: 欺?\n", "line 3: rule 'anything' matches empty text"),
        ("# only a comment\n\n", "holds no rule"),
    ],
)
def test_a_malformed_file_fails_loudly_naming_the_line(
    tmp_path: Path, settings: Any, content: str, message: str
) -> None:
    path = tmp_path / "rules.txt"
    path.write_text(content, encoding="utf-8")
    settings.GUANAI_CRISIS_RULES_FILE = str(path)
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)) as raised:
        crisis_signals("他欺负我")
    assert str(path) in str(raised.value)


def test_a_missing_file_fails_loudly(tmp_path: Path, settings: Any) -> None:
    settings.GUANAI_CRISIS_RULES_FILE = str(tmp_path / "absent.txt")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        crisis_signals("他欺负我")


def test_the_shipped_rules_compile_into_the_five_categories() -> None:
    names = [rule.name for rule in triage.load_rules(triage.BUILT_IN_RULES)]
    assert names == ["abuse", "danger", "self_harm", "sexual_abuse", "suicide"]
