"""Chinese full-text search helpers: index text as unigrams/bigrams/pinyin initials; build FTS5 queries."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9A-Za-z]+")


@lru_cache(maxsize=4096)
def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters in `text` (郑州宇通 -> zzyt); '' if pypinyin is missing.

    The same result as lazy_pinyin(text, FIRST_LETTER): pypinyin cuts the text into words first and reads each word
    on its own (so 重庆 and 重量 keep their readings); doing the cut here lets each word's reading be cached, which
    makes a 50,000-row roster import about 6 × faster in this step (bench/bench_roster.py).
    """
    try:
        from pypinyin.seg.simpleseg import seg
    except ImportError:  # pragma: no cover - declared dependency; search still works without it
        return ""
    chars = "".join(_CJK.findall(text))
    if not chars:
        return ""
    return "".join(_word_initials(word) for word in seg(chars)).lower()


@lru_cache(maxsize=65536)
def _word_initials(word: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(word, style=Style.FIRST_LETTER) if p)


def index_columns(*parts: str | None, with_initials: str | None = None) -> tuple[str, str, str]:
    """(uni, bi, words) column values for the given texts."""
    uni: list[str] = []
    bi: list[str] = []
    words: list[str] = []
    for part in parts:
        if not part:
            continue
        for run in _CJK.findall(part):
            uni.extend(run)
            bi.extend(run[i : i + 2] for i in range(len(run) - 1))
            bi.append("|")  # breaks the bigram stream between runs so phrases never span them
        words.extend(w.lower() for w in _WORD.findall(part))
    if with_initials:
        ini = initials(with_initials)
        if ini:
            words.append(ini)
    return " ".join(uni), " ".join(b for b in bi if b != "|") if len(bi) < 2 else _join_bigrams(bi), " ".join(words)


def _join_bigrams(tokens: list[str]) -> str:
    # A run break is written as a token no query can contain, keeping phrase positions honest.
    return " ".join("zqbreak" if t == "|" else t for t in tokens)


def match_query(text: str) -> str | None:
    """FTS5 MATCH expression for what a user typed (all terms must match); None if nothing searchable."""
    terms: list[str] = []
    text = unicodedata.normalize("NFKC", text)  # full-width digits/letters typed by IME users
    for run in _CJK.findall(text):
        if len(run) == 1:
            terms.append(f'uni:"{run}"')
        else:
            phrase = " ".join(run[i : i + 2] for i in range(len(run) - 1))
            terms.append(f'bi:"{phrase}"')
    for word in _WORD.findall(text):
        terms.append(f'words:"{word.lower()}"*')
    return " AND ".join(terms) if terms else None


def reindex(conn: sqlite3.Connection, kind: str, row_id: str, *parts: str | None, initials_of: str | None = None):
    """(Re)write the search row of one record: O(log n) through search_rows, never a scan of the index."""
    old = conn.execute("SELECT docid FROM search_rows WHERE kind = ? AND row_id = ?", (kind, row_id)).fetchone()
    if old is not None:
        conn.execute("DELETE FROM search_index WHERE rowid = ?", (old[0],))
    uni, bi, words = index_columns(*parts, with_initials=initials_of)
    cur = conn.execute("INSERT INTO search_index (kind, row_id, uni, bi, words) VALUES (?,?,?,?,?)",
                       (kind, row_id, uni, bi, words))
    conn.execute("INSERT OR REPLACE INTO search_rows (kind, row_id, docid) VALUES (?,?,?)",
                 (kind, row_id, cur.lastrowid))


def index_new(conn: sqlite3.Connection, kind: str, entries: list[tuple[str, tuple, str | None]]) -> None:
    """reindex() for many records that have no search row yet (a roster import): entries are
    (row_id, parts, initials_of); rows go in with executemany under rowids numbered here."""
    last = conn.execute("SELECT rowid FROM search_index ORDER BY rowid DESC LIMIT 1").fetchone()
    first = (last[0] if last else 0) + 1
    index_rows, id_rows = [], []
    for n, (row_id, parts, initials_of) in enumerate(entries, first):
        index_rows.append((n, kind, row_id, *index_columns(*parts, with_initials=initials_of)))
        id_rows.append((kind, row_id, n))
    conn.executemany("INSERT INTO search_index (rowid, kind, row_id, uni, bi, words) VALUES (?,?,?,?,?,?)", index_rows)
    conn.executemany("INSERT OR REPLACE INTO search_rows (kind, row_id, docid) VALUES (?,?,?)", id_rows)


def match_clause(id_column: str, kind: str, text: str) -> tuple[str, list] | None:
    """SQL condition "`id_column` is a `kind` record matching `text`" and its parameters, for a list
    query's WHERE (the search runs inside that query); None when the text has nothing searchable."""
    q = match_query(text)
    if q is None:
        return None
    return (f"{id_column} IN (SELECT row_id FROM search_index WHERE search_index MATCH ? AND kind = ?)",
            [q, kind])


# What each kind's search row holds, read from the stored record: services call it after writing a record and
# the sync merge after applying a package, so both index the same text.
_STORED_SOURCES = {
    "enterprise": ("SELECT name, uscc, address, industry, township, name AS initials_of FROM enterprises"
                   " WHERE id = ?"),
    "visit": ("SELECT v.summary, v.policies, (SELECT group_concat(e.name, ' ') FROM visit_enterprises ve"
              " JOIN enterprises e ON e.id = ve.enterprise_id WHERE ve.visit_id = v.id AND ve.deleted = 0),"
              " v.record_no, NULL AS initials_of FROM visits v WHERE v.id = ?"),
    "problem": ("SELECT p.title, p.description, p.request, (SELECT name FROM enterprises WHERE id = p.enterprise_id),"
                " p.record_no, NULL AS initials_of FROM problems p WHERE p.id = ?"),
}
SEARCH_KINDS = {"enterprises": "enterprise", "visits": "visit", "problems": "problem"}


def reindex_stored(conn: sqlite3.Connection, kind: str, row_id: str) -> None:
    row = conn.execute(_STORED_SOURCES[kind], (row_id,)).fetchone()
    if row is not None:
        *parts, initials_of = tuple(row)
        reindex(conn, kind, row_id, *parts, initials_of=initials_of)
