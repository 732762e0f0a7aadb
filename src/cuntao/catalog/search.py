"""Catalogue search words and the database's full-text index over them.

People at a village station often cannot type characters well, so a product is found
by its Chinese words (电饭煲), their full pinyin (dianfanbao), their pinyin initials
(dfb), prefixes of each (dianf, df, 电饭) and mixtures (电饭bao, dian饭煲).

Each product stores its search words, space-separated, in two columns built when it
is saved (`product_tokens`):

- name_tokens: for every word jieba finds in the name (search mode, so 复合肥料 also
  gives 复合肥 and 肥料), the word, its full pinyin and its initials; and for every
  point where a word starts, the rest of the name run together in characters, pinyin
  and initials (智能电饭煲4l, zhinengdianfanbao4l, zndfb4l), so that a query spanning
  words still finds the name;
- category_tokens: the same for the category's name and its parent's.

A word is only CJK characters and the letters a-z and digits, so the database sees
exactly these words: SQLite's FTS5 with its `ascii` tokenizer splits on the spaces
alone, and PostgreSQL reads them with array_to_tsvector, which takes each word as it
is without a parser or dictionary. A query therefore matches the same rows on both.

Only products on sale (Product.listed) are in the index. SQLite keeps an FTS5 table
(external content over catalog_product) in step with triggers, and tells name from
category by a column filter; PostgreSQL has two generated tsvector columns (all the
words, and the name's alone), each with a GIN index. install_search_index creates
either; the migration and every migrate (post_migrate) run it, because SQLite
drops a table's triggers when a later migration rebuilds the table.
"""

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jieba
from pypinyin import lazy_pinyin

jieba.setLogLevel(logging.WARNING)

CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD_CHARS = re.compile(rf"[a-z0-9{CJK_CHAR}]+")
CJK = re.compile(rf"[{CJK_CHAR}]")
ASCII_RUN = re.compile(r"[a-z0-9]+")
CJK_OR_ASCII_RUN = re.compile(rf"[{CJK_CHAR}]+|[a-z0-9]+")

MAX_QUERY_CHARS = 50
MAX_QUERY_TERMS = 6

FTS_TABLE = "catalog_product_fts"

# PostgreSQL: generated columns hold the tsvectors of products on sale (NULL otherwise),
# one of name and category words for matching and one of the name's words for ranking.
# Lexemes from array_to_tsvector have no positions, so weights could not tell them apart.
PG_WORDS = "array_to_tsvector(string_to_array({column}, ' '))"
PG_INSTALL = [
    ("ALTER TABLE catalog_product ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
     f"(CASE WHEN listed THEN {PG_WORDS.format(column='name_tokens')} || {PG_WORDS.format(column='category_tokens')} "
     "END) STORED"),
    ("ALTER TABLE catalog_product ADD COLUMN IF NOT EXISTS search_name_vector tsvector GENERATED ALWAYS AS "
     f"(CASE WHEN listed THEN {PG_WORDS.format(column='name_tokens')} END) STORED"),
    "CREATE INDEX IF NOT EXISTS catalog_product_search_gin ON catalog_product USING GIN (search_vector)",
    "CREATE INDEX IF NOT EXISTS catalog_product_search_name_gin ON catalog_product USING GIN (search_name_vector)",
]
PG_UNINSTALL = [
    "DROP INDEX IF EXISTS catalog_product_search_name_gin",
    "DROP INDEX IF EXISTS catalog_product_search_gin",
    "ALTER TABLE catalog_product DROP COLUMN IF EXISTS search_name_vector",
    "ALTER TABLE catalog_product DROP COLUMN IF EXISTS search_vector",
]

# SQLite: an FTS5 table over catalog_product's word columns, holding products on sale only.
SQLITE_INSTALL = [
    (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
     "name_tokens, category_tokens, content='catalog_product', content_rowid='id', tokenize='ascii', prefix='1 2 3 4')"),
    (f"CREATE TRIGGER IF NOT EXISTS catalog_product_fts_insert AFTER INSERT ON catalog_product WHEN new.listed BEGIN "
     f"INSERT INTO {FTS_TABLE}(rowid, name_tokens, category_tokens) VALUES (new.id, new.name_tokens, new.category_tokens); END"),
    (f"CREATE TRIGGER IF NOT EXISTS catalog_product_fts_delete AFTER DELETE ON catalog_product WHEN old.listed BEGIN "
     f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_tokens, category_tokens) "
     f"VALUES ('delete', old.id, old.name_tokens, old.category_tokens); END"),
    # Only a change of the words or of being on sale touches the index: stock moves all
    # day and must stay cheap.
    (f"CREATE TRIGGER IF NOT EXISTS catalog_product_fts_update AFTER UPDATE OF name_tokens, category_tokens, listed "
     f"ON catalog_product BEGIN "
     f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_tokens, category_tokens) "
     f"SELECT 'delete', old.id, old.name_tokens, old.category_tokens WHERE old.listed; "
     f"INSERT INTO {FTS_TABLE}(rowid, name_tokens, category_tokens) "
     f"SELECT new.id, new.name_tokens, new.category_tokens WHERE new.listed; END"),
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS catalog_product_fts_insert",
    "DROP TRIGGER IF EXISTS catalog_product_fts_delete",
    "DROP TRIGGER IF EXISTS catalog_product_fts_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]


def install_search_index(connection) -> None:
    """Create the full-text index for connection's database, if it is not there yet."""
    statements = {"sqlite": SQLITE_INSTALL, "postgresql": PG_INSTALL}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def uninstall_search_index(connection) -> None:
    statements = {"sqlite": SQLITE_UNINSTALL, "postgresql": PG_UNINSTALL}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def rebuild_search_index(connection) -> None:
    """Re-read the words of every product on sale into the index (SQLite; PostgreSQL's are generated)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
            cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, name_tokens, category_tokens) "
                           "SELECT id, name_tokens, category_tokens FROM catalog_product WHERE listed")


# ---------------------------------------------------------------------------- words


def normalize(text: str) -> str:
    """Full-width letters and digits to ASCII (ｄｆｂ -> dfb), lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


@lru_cache(maxsize=65536)
def word_pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a word: 电饭煲 -> (dianfanbao, dfb); 4l -> (4l, 4l).

    A word is all characters or all letters and digits (see _words). It is read as a
    word (pypinyin's phrase readings), since product words are words, unlike the person
    names of cuntao.core.pinyin. ü is written v, as on a phone keyboard.
    """
    if not CJK.search(word):
        return word, word
    syllables = [s.lower() for s in lazy_pinyin(word, errors=lambda chars: [""] * len(chars)) if s]
    syllables = [s for s in syllables if ASCII_RUN.fullmatch(s)]
    return "".join(syllables), "".join(s[0] for s in syllables)


def _words(text: str, *, for_search: bool) -> list[str]:
    """jieba's words of text, each cut down to CJK characters, a-z and digits."""
    text = normalize(text)
    cut = jieba.lcut_for_search(text) if for_search else jieba.lcut(text)
    words = []
    for piece in cut:
        words.extend(CJK_OR_ASCII_RUN.findall(piece))
    return words


def text_tokens(text: str) -> list[str]:
    """The search words of a name: see the module docstring. Order kept, no repeats."""
    tokens: list[str] = []
    for word in _words(text, for_search=True):
        tokens.append(word)
        tokens.extend(word_pinyin(word))
    precise = _words(text, for_search=False)
    readings = [word_pinyin(word) for word in precise]
    for start in range(len(precise) - 1):
        tokens.append("".join(precise[start:]))
        tokens.append("".join(full for full, _ in readings[start:]))
        tokens.append("".join(initials for _, initials in readings[start:]))
    return list(dict.fromkeys(t for t in tokens if t))


def product_tokens(*, name: str, category_names: list[str]) -> tuple[str, str]:
    """(name_tokens, category_tokens) to store on a product."""
    category = []
    for category_name in category_names:
        category.extend(text_tokens(category_name))
    return " ".join(text_tokens(name)), " ".join(dict.fromkeys(category))


# ---------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class ParsedQuery:
    """A query as terms; every term must match. A term is a list of alternatives, any of
    which may match, and an alternative is a list of words that must all match."""

    text: str
    terms: tuple[tuple[tuple[str, ...], ...], ...]


def parse_query(q: str) -> ParsedQuery | None:
    """Read what the partner typed into terms, or None when nothing searchable is left.

    Spaces and punctuation separate terms. A term of letters and digits is matched as
    typed (dianfanbao, dfb, dianf, 5g). A term of characters is matched whole or as its
    jieba words (智能电饭煲 -> 智能 + 电饭煲). A mixed term is matched as its pinyin
    (电饭bao, dian饭煲 -> dianfanbao) or as its parts (美的dfb -> 美的 + dfb).
    """
    text = (q or "").strip()[:MAX_QUERY_CHARS]
    terms = []
    for raw in WORD_CHARS.findall(normalize(text))[:MAX_QUERY_TERMS]:
        has_cjk, has_ascii = bool(CJK.search(raw)), bool(ASCII_RUN.search(raw))
        if not has_cjk:
            alternatives = [(raw,)]
        elif not has_ascii:
            alternatives = [(raw,), tuple(_words(raw, for_search=False))]
        else:
            full = "".join(word_pinyin(part)[0] for part in CJK_OR_ASCII_RUN.findall(raw))
            alternatives = [(full,), tuple(_words(raw, for_search=False))]
        terms.append(tuple(dict.fromkeys(alt for alt in alternatives if alt)))
    if not terms:
        return None
    return ParsedQuery(text=text, terms=tuple(terms))


def fts5_match(query: ParsedQuery, *, prefix: bool, name_only: bool = False) -> str:
    """The FTS5 MATCH expression for query (words are CJK/a-z/0-9 only, so quoting is safe)."""
    star = "*" if prefix else ""
    terms = []
    for alternatives in query.terms:
        alts = ["(" + " AND ".join(f'"{word}"{star}' for word in alt) + ")" for alt in alternatives]
        terms.append("(" + " OR ".join(alts) + ")")
    expr = " AND ".join(terms)
    return f"name_tokens : ({expr})" if name_only else expr


def pg_tsquery(query: ParsedQuery, *, prefix: bool) -> str:
    """The tsquery text for query, read verbatim by a ::tsquery cast (no dictionary)."""
    suffix = ":*" if prefix else ""
    terms = []
    for alternatives in query.terms:
        alts = ["(" + " & ".join(f"'{word}'{suffix}" for word in alt) + ")" for alt in alternatives]
        terms.append("(" + " | ".join(alts) + ")")
    return " & ".join(terms)
