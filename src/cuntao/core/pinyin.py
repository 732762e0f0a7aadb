"""Pinyin of Chinese text, for search by people who cannot type characters well."""

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=65536)
def full_pinyin(text: str) -> str:
    """王秀英 -> wangxiuying; letters and digits pass through, spaces are dropped."""
    return "".join(lazy_pinyin(text, errors=lambda s: s)).replace(" ", "").lower()


@lru_cache(maxsize=65536)
def pinyin_initials(text: str) -> str:
    """王秀英 -> wxy; letters that are not characters pass through (王xy -> wxy)."""
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda s: s)
    return "".join(parts).replace(" ", "").lower()


def has_chinese(text: str) -> bool:
    return bool(CJK.search(text))
