"""Crisis triage (危机识别): does a request, or a requester's later message, signal self-harm, suicide, abuse
or immediate danger? Such a request is urgent at once (DOMAIN.md §8): the requester sees 12355, 110 and
120, every professional on duty is alerted, and it escalates if nobody accepts it in time.

    crisis_signals(text, topic=...)  the names of the rules the text matches, sorted, each once
    is_crisis(text, topic=...)       whether there is any

The rules are a plain UTF-8 text file, `crisis_rules.txt` beside this module, or the file named by
`settings.GUANAI_CRISIS_RULES_FILE` (which replaces it): one rule a line, `name: pattern`, the pattern a
Python regular expression; `#` starts a comment line; blank lines are skipped; several lines may share a
name. The file is read and compiled once per process and read again when the setting changes (tests); a
malformed file fails loudly with ImproperlyConfigured naming the file and the line. The topic 自伤或轻生念头
(`self_harm`) always signals, as "topic_self_harm": whoever chose it told us in so many words.

The text is normalised before the rules see it, so the rules are written once, in simplified characters
without spaces or punctuation:

- NFKC (full-width Ｌ and ４ become L and 4), then lower case;
- traditional characters become simplified ones (殺 → 杀, 樓 → 楼), by a small table that covers every
  character of the shipped rules (a test checks it against OpenCC, which is a development dependency
  only, too heavy to load at run time for a few hundred characters);
- whitespace, punctuation, symbols and emoji are dropped, so "想 死", "想……死" and "想😭死" read 想死.
  Dropping them could also let an exception meant for an idiom swallow a real signal: 想死(?!你) must not
  miss "我想死，你们别管我", which would read 想死你们…. So each rule is tried on a second form too, where
  every such run is one line break; a rule matches when it matches either form.

What the rules choose, and why (a crisis line's trade-off):

- A missed crisis can cost a life; a false alarm costs a counsellor a few minutes. The rules lean
  towards matching, and nothing is done about negation: "我从来没想过自杀" is a signal. A child who
  writes the word is often testing whether anyone listens; reading it at once is right either way.
- The only exceptions are everyday idioms, each written as a look-ahead beside its rule and listed
  there: 笑死了, 热死了, 累死了 match nothing (no rule holds a bare 死); 想死你了 (I miss you), 死记硬背,
  跳楼价 (a fire sale), 划手机, 打电话, 打我电话, 被打败, 被打扰, 踢我出群, 救命稻草 do not match.
- "我不想活在别人的期待里" does not match: 不想活 followed by 在 + someone's 期待/期望/眼光/阴影/安排 is the
  idiom of not living by others' expectations. "我不想活在这个世界上" still matches: the exception names
  the expectations, not 活在.
- "我想离家出走" alone does not match (a common wish, answered in the ordinary queue); a child who has
  gone (孩子离家出走了, 联系不上孩子) does.
- Known limits: words about someone else or about a story match too ("小说里的人物跳楼", "新闻里说有人
  自杀", "预防自杀讲座"); hyperbole such as "我妈会杀了我的" matches; a crisis told without any of the
  words ("我把药都存起来了") is missed, which is why the topic counts on its own and why professionals
  mark a request urgent themselves. Pinyin and English are not read, except the online spelling 紫砂.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from guanai.consultations.vocabulary import Topic

RULES_SETTING = "GUANAI_CRISIS_RULES_FILE"
BUILT_IN_RULES = Path(__file__).with_name("crisis_rules.txt")
TOPIC_SIGNAL = "topic_self_harm"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")
BOUNDARY = "\n"

# Traditional → simplified, for every character of the shipped rules that has a traditional form, alone
# or in the words of the rules (松 is 松 alone, 鬆 in 輕鬆), in OpenCC's s2t, s2tw and s2hk;
# guanai/consultations/tests/test_triage.py checks the coverage.
_TRADITIONAL = (
    "來個們傷價兒兩別劃勁動圍壓壺姦媽學尋對師帶幾廁強後戶捱掃揚撈撫擊擾敗敵斷書會東樓標橋機櫃權殘殺毆沒準濕煙燒燙爺牆"
    "現環甚發簽籠級結給綁經總繫繼纏罵義聯聽脅脫腫臉臥臺菸著藥褲褻見視親記評試話誘說説譽讓販賞賣趕蹤車軌輕農這進遺還針"
    "錢鍋鎖鐵長門開間關陰陽隊隨險隱離電頂頓頭頻飯餓騷體髮鬆鯊麼"
)
_SIMPLIFIED = (
    "来个们伤价儿两别划劲动围压壶奸妈学寻对师带几厕强后户挨扫扬捞抚击扰败敌断书会东楼标桥机柜权残杀殴没准湿烟烧烫爷墙"
    "现环什发签笼级结给绑经总系继缠骂义联听胁脱肿脸卧台烟着药裤亵见视亲记评试话诱说说誉让贩赏卖赶踪车轨轻农这进遗还针"
    "钱锅锁铁长门开间关阴阳队随险隐离电顶顿头频饭饿骚体发松鲨么"
)
_TO_SIMPLIFIED = str.maketrans(_TRADITIONAL, _SIMPLIFIED)

# Unicode categories that separate words rather than make them: spaces, punctuation, symbols (emoji
# among them), control and format characters (zero-width joiners).
_SEPARATOR_CATEGORIES = ("Z", "P", "S", "C")


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]


_rules: tuple[Rule, ...] | None = None


def crisis_rules() -> tuple[Rule, ...]:
    """The configured rules, read and compiled once per process (one pattern per name)."""
    global _rules
    if _rules is None:
        _rules = load_rules(rules_file())
    return _rules


def reset_rules() -> None:
    global _rules
    _rules = None


@receiver(setting_changed)
def _forget_rules_when_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting == RULES_SETTING:
        reset_rules()


def rules_file() -> Path:
    configured = getattr(settings, RULES_SETTING, "") or ""
    return Path(configured) if configured else BUILT_IN_RULES


def load_rules(path: Path) -> tuple[Rule, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImproperlyConfigured(f"crisis rules {path} cannot be read: {error}") from error
    return parse_rules(text, source=str(path))


def parse_rules(text: str, *, source: str = "crisis rules") -> tuple[Rule, ...]:
    """Compile `name: pattern` lines; lines of one name become one alternation."""
    patterns: dict[str, list[str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, pattern = line.partition(":")
        name, pattern = name.strip(), pattern.strip()
        where = f"{source} line {number}"
        if not separator:
            raise ImproperlyConfigured(f"{where}: expected 'name: pattern', got {_shown(line)!r}")
        if not NAME_PATTERN.fullmatch(name):
            raise ImproperlyConfigured(
                f"{where}: rule name {_shown(name)!r} must be lower-case letters, digits and '_'"
            )
        if not pattern:
            raise ImproperlyConfigured(f"{where}: rule {name!r} has no pattern")
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            raise ImproperlyConfigured(f"{where}: rule {name!r} is not a valid pattern: {error}") from error
        # A pattern that matches nothing at all would make every request a crisis: surely a typo.
        if compiled.search("") is not None:
            raise ImproperlyConfigured(f"{where}: rule {name!r} matches empty text")
        patterns.setdefault(name, []).append(pattern)
    if not patterns:
        raise ImproperlyConfigured(f"{source} holds no rule; expected lines of 'name: pattern'")
    return tuple(
        Rule(name=name, pattern=re.compile("|".join(f"(?:{pattern})" for pattern in alternatives)))
        for name, alternatives in sorted(patterns.items())
    )


def _is_separator(character: str) -> bool:
    return unicodedata.category(character).startswith(_SEPARATOR_CATEGORIES)


def normalised_forms(text: str) -> tuple[str, str]:
    """The text as the rules read it: (separators dropped, separator runs as one line break)."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_TO_SIMPLIFIED)
    joined: list[str] = []
    bounded: list[str] = []
    for character in folded:
        if _is_separator(character):
            if bounded and bounded[-1] != BOUNDARY:
                bounded.append(BOUNDARY)
            continue
        joined.append(character)
        bounded.append(character)
    return "".join(joined), "".join(bounded).strip(BOUNDARY)


def normalise(text: str) -> str:
    """The text with separators dropped, as the rules read it first."""
    return normalised_forms(text)[0]


def crisis_signals(text: str, *, topic: str = "") -> list[str]:
    """The names of the rules `text` matches (sorted, each once); "topic_self_harm" for that topic."""
    signals = {TOPIC_SIGNAL} if topic == Topic.SELF_HARM else set()
    if text:
        forms = normalised_forms(text)
        signals.update(
            rule.name for rule in crisis_rules() if any(rule.pattern.search(form) for form in forms)
        )
    return sorted(signals)


def is_crisis(text: str, *, topic: str = "") -> bool:
    return bool(crisis_signals(text, topic=topic))


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"
