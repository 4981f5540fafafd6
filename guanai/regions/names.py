"""How people write the names of regions.

The statistical code list names a village by its committee (富城村村民委员会, 清波门社区居委会); forms,
rosters and people say 富城村 and 清波门社区, and often leave out the administrative suffix altogether
(淳安 for 淳安县, 千岛湖 for 千岛湖镇). `short_name` gives the form we store and show, `name_variants`
the forms a lookup accepts.
"""

from __future__ import annotations

import re

from guanai.core.region_codes import RegionLevel

# Committee suffixes of village-level names, longest first where one ends another, with the word that
# stands for the committee in the short form: a villagers' committee (村民委员会) is its 村, a residents'
# committee (居民委员会) its 社区.
_COMMITTEE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("居民管理委员会", "社区"),
    ("村民委员会", "村"),
    ("居民委员会", "社区"),
    ("社区委员会", "社区"),
    ("村委员会", "村"),
    ("村委会", "村"),
    ("居委会", "社区"),
)

# Administrative suffixes a stem is taken from, longest first so that 街道 wins over 道-less forms and
# 林区 over 区. 州 is absent on purpose: 温州, 杭州 are the names themselves, not 温 + 州.
_ADMINISTRATIVE_SUFFIXES: tuple[str, ...] = (
    "特别行政区",
    "街道办事处",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "街道",
    "社区",
    "地区",
    "林区",
    "苏木",
    "嘎查",
    "省",
    "市",
    "县",
    "区",
    "旗",
    "盟",
    "镇",
    "乡",
    "村",
)

# Names whose last word looks like an administrative suffix but is part of the name: 围垦生活区 is not
# 围垦生活 + 区, and 井陉矿区 is not 井陉矿 (nor 井陉, which is 井陉县).
_NAMES_WITHOUT_STEM: tuple[str, ...] = (
    "生活区", "管理区", "开发区", "工业区", "示范区", "试验区",
    "保护区", "园区", "景区", "新区", "矿区", "市辖区",
)  # fmt: skip

# A single character is too ambiguous to stand for a place; nobody shortens 赵县 to 赵.
_MINIMUM_STEM_LENGTH = 2

_ETHNIC_GROUPS = (
    "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
    "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
    "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
    "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
    "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各",
)  # fmt: skip
_ETHNIC = "|".join(sorted(_ETHNIC_GROUPS, key=len, reverse=True))
# 景宁畲族自治县 is 景宁县 or 景宁 in speech; 大理白族自治州 is 大理州 or 大理.
_AUTONOMOUS = re.compile(
    rf"^(?P<stem>.{{{_MINIMUM_STEM_LENGTH},}}?)(?:(?:{_ETHNIC})族?)+自治(?P<kind>[县州旗区])$"
)


def short_name(name: str, level: RegionLevel | int) -> str:
    """The name as people write it: a village without its committee, every other level unchanged."""
    name = name.strip()
    if level != RegionLevel.VILLAGE:
        return name
    return _without_committee(name)


def name_variants(name: str) -> tuple[str, ...]:
    """The forms under which a region of this name may be typed: the full name, the short name, the
    everyday form of an autonomous area and the bare stem, in that order and without repeats.

    The level is not needed: the committee suffixes it would decide about occur only in village names.
    """
    full = name.strip()
    if not full:
        return ()
    short = _without_committee(full)
    forms = [full, short]
    autonomous = _AUTONOMOUS.match(short)
    if autonomous:
        stem, kind = autonomous.group("stem"), autonomous.group("kind")
        # 广西区 is not how anyone says 广西壮族自治区; 景宁县 is how everyone says 景宁畲族自治县.
        if kind != "区":
            forms.append(stem + kind)
        forms.append(stem)
    bare = _stem(short)
    if bare is not None:
        forms.append(bare)
    return tuple(dict.fromkeys(forms))


def _without_committee(name: str) -> str:
    for suffix, word in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            rest = name[: -len(suffix)]
            return rest if rest.endswith(word) else rest + word
    return name


def _stem(name: str) -> str | None:
    if name.endswith(_NAMES_WITHOUT_STEM):
        return None
    for suffix in _ADMINISTRATIVE_SUFFIXES:
        if name.endswith(suffix):
            rest = name[: -len(suffix)]
            return rest if len(rest) >= _MINIMUM_STEM_LENGTH else None
    return None
