"""Chinese full-text search helpers: index text as unigrams/bigrams/pinyin initials; build FTS5 queries."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from functools import lru_cache

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CHARS}]+")
_WORD = re.compile(r"[0-9A-Za-z]+")
_RUN_OR_WORD = re.compile(f"[{_CJK_CHARS}]+|[0-9A-Za-z]+")
# Brackets, quotes and the middle dot between Chinese characters belong to the name, not between words: 中原（郑州）科技
# is found by 中原郑州科技 as well as by 郑州科技, and typed with or without the brackets.
_JOINERS = re.compile(f"(?<=[{_CJK_CHARS}])" + r"[()\[\]【】《》〈〉「」『』“”‘’\"'·・]+" + f"(?=[{_CJK_CHARS}])")


def normalized(text: str) -> str:
    """The text as the index reads it: full-width letters and digits as ASCII (NFKC), joiners between characters
    dropped. Queries go through the same function, so what a user types and what was stored compare alike."""
    return _JOINERS.sub("", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=4096)
def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters in `text`, Latin words and digits kept as they are, lower-cased
    (郑州宇通 -> zzyt, ABC 科技 -> abckj): the sort key of names, so ABC 科技 sorts under A as a reader expects.

    The same result as lazy_pinyin(text, FIRST_LETTER): pypinyin cuts the text into words first and reads each word
    on its own (so 重庆 and 重量 keep their readings); doing the cut here lets each word's reading be cached, which
    makes a 50,000-row roster import about 6 × faster in this step (bench/bench_roster.py).
    """
    out = []
    for piece in _RUN_OR_WORD.findall(unicodedata.normalize("NFKC", text)):
        out.append(_run_initials(piece) if _CJK.match(piece) else piece)
    return "".join(out).lower()


def _run_initials(run: str) -> str:
    try:
        from pypinyin.seg.simpleseg import seg
    except ImportError:  # pragma: no cover - declared dependency; search still works without it
        return ""
    return "".join(_word_initials(word) for word in seg(run))


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
        part = normalized(part)
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
    text = normalized(text)  # full-width digits/letters typed by IME users
    for run in _CJK.findall(text):
        if len(run) == 1:
            terms.append(f'uni:"{run}"')
        else:
            phrase = " ".join(run[i : i + 2] for i in range(len(run) - 1))
            terms.append(f'bi:"{phrase}"')
    for word in _WORD.findall(text):
        terms.append(f'words:"{word.lower()}"*')
    return " AND ".join(terms) if terms else None


# One FTS5 table per kind (migration 0005): a search reads only its kind's documents and only their rowids —
# filtering one shared table by a stored `kind` read every match's stored row (科技: 80,000 of them at ten cities'
# scale, 0.6 s). search_rows maps (kind, row_id) <-> docid, the FTS rowid, both ways.
FTS_TABLES = {"enterprise": "search_index_enterprise", "visit": "search_index_visit", "problem": "search_index_problem"}


def _next_docid(conn: sqlite3.Connection) -> int:
    return (conn.execute("SELECT max(docid) FROM search_rows").fetchone()[0] or 0) + 1


def reindex(conn: sqlite3.Connection, kind: str, row_id: str, *parts: str | None, initials_of: str | None = None):
    """(Re)write the search row of one record: O(log n) through search_rows, never a scan of the index."""
    table = FTS_TABLES[kind]
    old = conn.execute("SELECT docid FROM search_rows WHERE kind = ? AND row_id = ?", (kind, row_id)).fetchone()
    if old is not None:
        docid = old[0]
        conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (docid,))
    else:
        docid = _next_docid(conn)
        conn.execute("INSERT INTO search_rows (kind, row_id, docid) VALUES (?,?,?)", (kind, row_id, docid))
    conn.execute(f"INSERT INTO {table} (rowid, uni, bi, words) VALUES (?,?,?,?)",
                 (docid, *index_columns(*parts, with_initials=initials_of)))


def index_new(conn: sqlite3.Connection, kind: str, entries: list[tuple[str, tuple, str | None]]) -> None:
    """reindex() for many records that have no search row yet (a roster import): entries are
    (row_id, parts, initials_of); rows go in with executemany under docids numbered here."""
    first = _next_docid(conn)
    index_rows, id_rows = [], []
    for n, (row_id, parts, initials_of) in enumerate(entries, first):
        index_rows.append((n, *index_columns(*parts, with_initials=initials_of)))
        id_rows.append((kind, row_id, n))
    conn.executemany("INSERT INTO search_rows (kind, row_id, docid) VALUES (?,?,?)", id_rows)
    conn.executemany(f"INSERT INTO {FTS_TABLES[kind]} (rowid, uni, bi, words) VALUES (?,?,?,?)", index_rows)


def indexed(conn: sqlite3.Connection, kind: str, row_ids: list[str]) -> set[str]:
    """Which of these records have a search row."""
    found: set[str] = set()
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start:start + 500]
        found.update(r[0] for r in conn.execute(
            f"SELECT row_id FROM search_rows WHERE kind = ? AND row_id IN ({','.join('?' * len(chunk))})",
            (kind, *chunk)))
    return found


def like_pattern(text: str) -> str:
    """LIKE pattern (use with ESCAPE '\\') finding `text` anywhere: % and _ typed by the user are plain characters."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def match_clause(id_column: str, kind: str, text: str) -> tuple[str, list] | None:
    """SQL condition "`id_column` is a `kind` record matching `text`" and its parameters, for a list
    query's WHERE (the search runs inside that query); None when the text has nothing searchable."""
    q = match_query(text)
    if q is None:
        return None
    table = FTS_TABLES[kind]
    return (f"{id_column} IN (SELECT r.row_id FROM search_rows r WHERE r.docid IN "
            f"(SELECT rowid FROM {table} WHERE {table} MATCH ?))", [q])


# What each kind's search row holds, read from the stored record: services call it after writing a record and
# the sync merge after applying a package, so both index the same text.
_SOURCES = {  # kind: (the indexed texts then the name to take initials of, FROM, id column)
    "enterprise": ("name, uscc, address, industry, township, name AS initials_of", "enterprises", "id"),
    "visit": ("v.summary, v.policies, (SELECT group_concat(e.name, ' ') FROM visit_enterprises ve"
              " JOIN enterprises e ON e.id = ve.enterprise_id WHERE ve.visit_id = v.id AND ve.deleted = 0),"
              " v.record_no, NULL AS initials_of", "visits v", "v.id"),
    "problem": ("p.title, p.description, p.request, (SELECT name FROM enterprises WHERE id = p.enterprise_id),"
                " p.record_no, NULL AS initials_of", "problems p", "p.id"),
}
_STORED_SOURCES = {kind: f"SELECT {cols} FROM {table} WHERE {id_col} = ?" for kind, (cols, table, id_col) in
                   _SOURCES.items()}
SEARCH_KINDS = {"enterprises": "enterprise", "visits": "visit", "problems": "problem"}


def reindex_stored(conn: sqlite3.Connection, kind: str, row_id: str) -> None:
    row = conn.execute(_STORED_SOURCES[kind], (row_id,)).fetchone()
    if row is not None:
        *parts, initials_of = tuple(row)
        reindex(conn, kind, row_id, *parts, initials_of=initials_of)


_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def refresh_normalized(conn: sqlite3.Connection) -> int:
    """For a migration: rewrite the search rows of enterprises that the current `normalized()` / `initials()` index
    differently from the version before them — full-width letters or digits, brackets between characters, Latin
    words (their initials) — and of their visits and problems, which hold their names. Running text of visits
    and problems is not scanned (at ten cities' scale that alone reads most of the file); a full-width letter
    there is found once the record is next saved. Returns the number of enterprises."""
    changed = []
    for row_id, *parts, initials_of in conn.execute(
            f"SELECT id, {_SOURCES['enterprise'][0]} FROM enterprises WHERE deleted = 0").fetchall():
        if (any(p and _FULLWIDTH_ALNUM.search(p) for p in parts) or _WORD.search(initials_of)
                or _JOINERS.search(unicodedata.normalize("NFKC", parts[0]))):
            reindex(conn, "enterprise", row_id, *parts, initials_of=initials_of)
            changed.append(row_id)
    for row_id in changed:
        reindex_named_after(conn, row_id)
    return len(changed)


def reindex_named_after(conn: sqlite3.Connection, enterprise_id: str) -> None:
    """After an enterprise's name changed: its visits' and problems' search rows hold that name, so they are found
    by the name the lists show, not the old one."""
    for kind, sql in (("visit", "SELECT visit_id FROM visit_enterprises WHERE enterprise_id = ? AND deleted = 0"),
                      ("problem", "SELECT id FROM problems WHERE enterprise_id = ? AND deleted = 0")):
        for (row_id,) in conn.execute(sql, (enterprise_id,)).fetchall():
            reindex_stored(conn, kind, row_id)
