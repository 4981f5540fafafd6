"""Pinyin forms of a child's name, for search: 张三明 → ("zhangsanming", "zsm").

The register service and the roster import both set `name_pinyin` / `name_initials` through
`pinyin_forms`, so a name reads the same whichever way it came in.

pypinyin reads a name as words of its phrase dictionary (长春 is chang chun, not zhang chun) and takes
every other character by its most common reading. A name that contains no word of that dictionary —
most names — is therefore read character by character, and the readings of single characters are
remembered: the same answer as `lazy_pinyin` at a fraction of the cost, which matters to an import of
100,000 rows. Names that do contain a word go to pypinyin whole.
"""

from __future__ import annotations

import functools

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

_LONGEST_PHRASE = max(len(phrase) for phrase in PHRASES_DICT)


# Surnames read differently from the character's common reading (曾 is zēng as a name, not céng).
SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "乐": "yue", "朴": "piao", "仇": "qiu", "查": "zha",
    "盖": "ge", "覃": "qin", "缪": "miao", "尉": "yu", "种": "chong", "繁": "po", "黑": "he", "万俟": "moqi",
    "尉迟": "yuchi", "长孙": "zhangsun", "单于": "chanyu",
}  # fmt: skip


def pinyin_forms(name: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces, and the initials; lower case, letters only."""
    name = name.strip()
    surname = next((s for s in (name[:2], name[:1]) if s in SURNAME_READINGS and len(name) > len(s)), "")
    if surname:
        reading = SURNAME_READINGS[surname]
        full, initials = pinyin_forms(name[len(surname) :])
        surname_initials = reading[0] if len(surname) == 1 else "".join(p[0] for p in _pypinyin(surname))
        return (reading + full)[:200], (surname_initials + initials)[:50]
    syllables = _syllables(name) if not _contains_phrase(name) else _pypinyin(name)
    syllables = [syllable for syllable in syllables if syllable.isascii()]
    full = "".join(syllable.lower() for syllable in syllables if syllable.isalpha())
    initials = "".join(syllable[0].lower() for syllable in syllables if syllable and syllable[0].isalpha())
    return full[:200], initials[:50]


def _pypinyin(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def _contains_phrase(name: str) -> bool:
    length = len(name)
    return any(
        name[start : start + size] in PHRASES_DICT
        for size in range(2, min(length, _LONGEST_PHRASE) + 1)
        for start in range(length - size + 1)
    )


def _syllables(name: str) -> list[str]:
    syllables: list[str] = []
    for character in name:
        syllables.extend(_character(character))
    return syllables


@functools.lru_cache(maxsize=30_000)
def _character(character: str) -> tuple[str, ...]:
    return tuple(_pypinyin(character))
