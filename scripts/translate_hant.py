"""Fill the untranslated (or fuzzy) entries of the zh-Hant catalogue from the Simplified msgids with OpenCC.

The msgids are Simplified Chinese (zh-Hans is the default language), so Traditional Chinese is a character
conversion ("s2t": characters only, no regional vocabulary swaps). Hand translations stay as they are.
Usage: python scripts/translate_hant.py locale/zh_Hant/LC_MESSAGES/django.po
"""

from __future__ import annotations

import sys

import polib
from opencc_purepy import OpenCC


def main(path: str) -> int:
    converter = OpenCC("s2t")
    catalogue = polib.pofile(path)
    filled = 0
    for entry in catalogue:
        if entry.obsolete or (entry.translated() and not entry.fuzzy):
            continue
        if entry.msgid_plural:
            entry.msgstr_plural = {0: converter.convert(entry.msgid)}
        else:
            entry.msgstr = converter.convert(entry.msgid)
        if entry.fuzzy:
            entry.flags.remove("fuzzy")
        filled += 1
    catalogue.metadata["Plural-Forms"] = "nplurals=1; plural=0;"
    catalogue.save(path)
    return filled


if __name__ == "__main__":
    print(f"filled {main(sys.argv[1])} entries")
