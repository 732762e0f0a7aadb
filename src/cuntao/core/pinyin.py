"""Pinyin of Chinese text, for search by people who cannot type characters well."""

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

CJK = re.compile(r"[\u3400-\u9fff]")

# Surnames whose everyday reading differs from the surname's: 曾 is zeng, not ceng.
SURNAME_READINGS = {"曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "区": "ou", "查": "zha", "朴": "piao",
                    "覃": "qin", "盖": "ge", "缪": "miao", "翟": "zhai", "乐": "yue", "尉": "yu", "万": "wan"}


@lru_cache(maxsize=16384)
def char_pinyin(char: str) -> str:
    """One character's most common reading; a letter or digit is itself, in lower case."""
    return "".join(lazy_pinyin(char, errors=lambda s: s)).lower()


def name_pinyin(name: str) -> str:
    """王秀英 -> wangxiuying: a person's name read character by character.

    Names are not words, so a word dictionary's readings do not apply; the first
    character is read as a surname. Letters and digits pass through; spaces drop.
    """
    name = name.replace(" ", "")
    if not name:
        return ""
    first = SURNAME_READINGS.get(name[0]) or char_pinyin(name[0])
    return first + "".join(char_pinyin(c) for c in name[1:])


def name_initials(name: str) -> str:
    """王秀英 -> wxy; letters that are not characters pass through one by one."""
    name = name.replace(" ", "")
    if not name:
        return ""
    first = (SURNAME_READINGS.get(name[0]) or char_pinyin(name[0]))[:1]
    return first + "".join(char_pinyin(c)[:1] for c in name[1:])


def has_chinese(text: str) -> bool:
    return bool(CJK.search(text))
