"""Pinyin forms of a child's name, for search: 张三明 → ("zhangsanming", "zsm")."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def pinyin_forms(name: str) -> tuple[str, str]:
    """Full pinyin without tones or spaces, and the initials; lower case, letters only."""
    syllables = [s for s in lazy_pinyin(name.strip(), style=Style.NORMAL, errors="ignore") if s.isascii()]
    full = "".join(syllable.lower() for syllable in syllables if syllable.isalpha())
    initials = "".join(syllable[0].lower() for syllable in syllables if syllable and syllable[0].isalpha())
    return full[:200], initials[:50]
