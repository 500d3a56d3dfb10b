"""Finding attendees: search as you type (SQLite FTS5), filters, sort orders, pages of ids.

**The index.** ``attendee_search`` is an FTS5 table holding one row per attendee, its rowid
the attendee row's rowid. Columns: ``name`` (given, family, badge and native names),
``organisation``, ``email``, ``code`` (the short code with and without its dash) and ``tags``
(event, country, category and status as single tokens, so filters cost no table reads).
Beside it, ``attendee_search_order`` holds each attendee's name folded for sorting (family
then given name, accents and case ignored, computed in Python), indexed by event: the list
of 100,000 people opens at its first page without sorting them all, and "Đặng" sorts under
D, not after Z as SQLite's NOCASE would put it. Both belong to the index, not to the models:
they are local, rebuilt from ``attendees`` at will, never replicated or digested.

**Kept in step.** New attendee rows need nothing: SQLite gives a new row the highest rowid
plus one, so rows above the index's highest rowid are the new ones. Two triggers on
``attendees`` (after an update of an indexed column, after a delete) put the row's rowid in
``attendee_search_pending``. :func:`sync_index` indexes both in a few bulk statements; it
runs before every search and when any desk transaction commits (a ``before_commit``
listener), so a change is searchable at once whichever path wrote it: a walk-in here, an
import's bulk insert, a put pulled from another desk, an erasure, a bare sqlite3 connection.
Triggers writing the FTS table directly were tried first: FTS5 flushes its pending terms
at every statement savepoint, and a trigger opens one per row, so a 50,000-row import took
3.1 s more; queued, it takes 0.7 s more. The triggers use SQL built-ins only, so a bare
sqlite3 connection (the benchmark's baseline, a backup tool, the sqlite3 shell) can write.

**Folding.** The tokenizer (unicode61, ``remove_diacritics 2``) folds case and strips the
accents of letters that decompose: "Nguyễn" is indexed as ``nguyen``, "Şahin" as ``sahin``,
"İstanbul" as ``istanbul``. Letters with no decomposition (Turkish dotless ı, ø, ß, æ, œ, đ,
ð, ł, þ, ħ, ŧ) are replaced in SQL with nested ``replace()`` as the index is filled -- only
for text holding one of them (a GLOB range check first) -- and in the typed text by the same
table in Python (:data:`FOLDS`). The tokenizer counts marks (``M*``) as letters, so Thai and
Indic words keep their vowel signs and stay whole words.

**Queries.** Typed text is split into words (letters, digits, marks); each becomes a quoted
prefix term ``"word"*`` and every word must match somewhere. Nothing a person types is FTS
syntax: quotes, ``*``, ``-``, parentheses are separators, NEAR/AND/OR/NOT plain words. A word
in a script written without spaces (Han, kana, Hangul, Thai, Lao, Khmer, Myanmar) also
matches anywhere inside the native name, organisation or badge name; that reads every
attendee of the event (tens of milliseconds at 100,000), for such words only.

**Order.** With text and no column chosen: the attendee whose short code the text is, then
those whose name holds every word, then the rest; registration order (rowid) within each
group, so the first page is read straight from the index without ranking every match.
Otherwise by the chosen column, then the folded name.

**Erasure.** FTS5 marks replaced entries deleted and drops them only when its segments
merge, so an ``attendee.erase`` (wrapped here) also merges the index at once: with the
VACUUM the privacy module runs afterwards, an erased name survives in no page of the file.

**The rowid link.** SQLite keeps the rowids of an ordinary table through VACUUM (the
documentation does not promise it). :func:`ensure_index` notices an index that no longer
matches (missing triggers, other row count or rowids) and rebuilds it; the attendees area
calls it when it opens. A future migration that rebuilds ``attendees`` (Alembic batch mode
copies the table and drops its triggers) must create them again (:func:`ddl`) and empty the
index; :func:`sync_index` then fills it.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    ColumnClause,
    ColumnElement,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    case,
    event,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.exc import UnboundExecutionError
from sqlalchemy.orm import Session

from desktop import attendance, journal
from desktop.models import Attendee, BadgePrint, Scan
from desktop.prepared import Prepared
from desktop.tokens import SHORT_CODE_LEN, normalise_short_code

TABLE = "attendee_search"
PENDING = f"{TABLE}_pending"
ORDER = f"{TABLE}_order"
TRIGGERS = (f"{TABLE}_au", f"{TABLE}_ad")
# Letters the tokenizer leaves alone because Unicode gives them no decomposition.
FOLDS: tuple[tuple[str, str], ...] = (
    ("ı", "i"),
    ("ø", "o"),
    ("Ø", "o"),
    ("ß", "ss"),
    ("ẞ", "ss"),
    ("æ", "ae"),
    ("Æ", "ae"),
    ("œ", "oe"),
    ("Œ", "oe"),
    ("đ", "d"),
    ("Đ", "d"),
    ("ð", "d"),
    ("Ð", "d"),
    ("ł", "l"),
    ("Ł", "l"),
    ("þ", "th"),
    ("Þ", "th"),
    ("ħ", "h"),
    ("Ħ", "h"),
    ("ŧ", "t"),
    ("Ŧ", "t"),
)
TEXT_COLUMNS = ("name", "organisation", "email", "code")
# Attendee columns whose change rewrites the index row.
INDEXED_COLUMNS = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "organisation",
    "email",
    "short_code",
    "event_id",
    "country",
    "category",
    "status",
)
SORT_KEYS = (
    "code",
    "name",
    "native_name",
    "country",
    "organisation",
    "category",
    "status",
    "arrived",
    "badge",
)
MAX_WORDS = 12
MAX_WORD_LENGTH = 64

_FOLD_TABLE = str.maketrans(dict(FOLDS))
# The combining accents the tokenizer strips; a word of nothing else is dropped.
_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_CODE_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")
# Scripts written without spaces between words: a word in them may start mid-token.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1100-\u11ff\u3040-\u30ff\u3130-\u318f"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"
)


# --- the index ------------------------------------------------------------------------------

# Local tables of the index, described here for queries only (not in the models' metadata).
_INDEX_METADATA = MetaData()
ORDER_TABLE = Table(
    ORDER,
    _INDEX_METADATA,
    Column("rowid", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("sort_key", Text, nullable=False),
)
_O = ORDER_TABLE.c


def _fold_class() -> str:
    """A GLOB class holding every letter of FOLDS: one range, and the letters beyond it."""
    latin = sorted(letter for letter, _ in FOLDS if letter < "\u0180")
    beyond = "".join(letter for letter, _ in FOLDS if letter >= "\u0180")
    return f"[{latin[0]}-{latin[-1]}{beyond}]"


def _fold_sql(expr: str) -> str:
    """SQL folding ``expr`` as :func:`fold` does, skipping the work for text without any of
    those letters (one range check per character: Thai, Han or accented names pass quickly)."""
    folded = expr
    for letter, plain in FOLDS:
        folded = f"replace({folded}, '{letter}', '{plain}')"
    return f"CASE WHEN {expr} GLOB '*{_fold_class()}*' THEN {folded} ELSE {expr} END"


def _row_values() -> str:
    """The index row's values, selected from ``attendees``."""
    name = " || ' ' || ".join(("given_name", "family_name", "badge_name", "native_name"))
    code = "short_code || ' ' || replace(short_code, '-', '')"
    tags = (
        "'e' || replace(event_id, '-', '') || ' c' || country"
        " || ' k' || replace(category, '_', '') || ' s' || status"
    )
    return ", ".join(
        ("rowid", _fold_sql(name), _fold_sql("organisation"), _fold_sql("email"), code, tags)
    )


def ddl() -> list[str]:
    """The statements creating the index tables and triggers (migration 0002 has a copy)."""
    queue_old = f"INSERT OR IGNORE INTO {PENDING}(rowid) VALUES (old.rowid);"
    queue_new = f"INSERT OR IGNORE INTO {PENDING}(rowid) VALUES (new.rowid);"
    return [
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5({', '.join(TEXT_COLUMNS)}, tags, "
        "tokenize = \"unicode61 remove_diacritics 2 categories 'L* N* Co M*'\", "
        "prefix = '1 2', columnsize = 0)",
        f"CREATE TABLE {ORDER} (rowid INTEGER PRIMARY KEY, event_id VARCHAR(36) NOT NULL, "
        "sort_key TEXT NOT NULL)",
        f"CREATE INDEX {ORDER}_event_key ON {ORDER} (event_id, sort_key)",
        f"CREATE TABLE {PENDING} (rowid INTEGER PRIMARY KEY)",
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER UPDATE OF {', '.join(INDEXED_COLUMNS)} "
        f"ON attendees BEGIN {queue_old} {queue_new} END",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON attendees BEGIN {queue_old} END",
    ]


def _sort_fold(name: str) -> str:
    name = name.strip()
    if name.isascii():
        return name.lower()
    spread = unicodedata.normalize("NFKD", name.translate(_FOLD_TABLE))
    return "".join(ch for ch in spread if not unicodedata.combining(ch)).casefold()


def sort_key(family_name: str, given_name: str) -> str:
    """How a name sorts: family (or given, if none) then given, without accents or case."""
    return f"{_sort_fold(family_name or given_name)}\x1f{_sort_fold(given_name)}"


def _first(session: Session, sql: str, params: dict[str, Any] | None = None) -> Any:
    """The first value of a statement run straight on the driver (the per-keystroke path)."""
    row = session.connection().exec_driver_sql(sql, params or {}).first()
    return None if row is None else row[0]


_NEEDS_SYNC = (
    f"EXISTS (SELECT 1 FROM {PENDING}) OR coalesce((SELECT max(rowid) FROM attendees), 0)"
    f" > coalesce((SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1), 0)"
)
# Asked as every desk transaction commits (every scan): run on the driver.
_NEEDS_SYNC_NOW = Prepared(text(f"SELECT {_NEEDS_SYNC}"))
# Does any attendee row belong to another event? Two seeks in the event index.
_OTHER_EVENTS = (
    "EXISTS (SELECT 1 FROM attendees WHERE event_id < :e)"
    " OR EXISTS (SELECT 1 FROM attendees WHERE event_id > :e)"
)


def sync_index(session: Session, *, meanwhile: Callable[[], object] | None = None) -> bool:
    """Index the attendee rows added or queued since the last time; True if there were any.

    Most of the indexing is two statements SQLite runs on its own, letting other Python
    threads run. ``meanwhile`` is called once, after them (or at once, with nothing to index):
    a caller that set a thread to work beside the indexing waits there for it, before the
    rest of the indexing needs Python again.
    """
    session.flush()  # attendees added through the ORM are rows before they are indexed
    if not _NEEDS_SYNC_NOW.scalar(session):
        if meanwhile is not None:
            meanwhile()
        return False
    _sync(session, meanwhile)
    return True


def _sync(session: Session, meanwhile: Callable[[], object] | None = None) -> None:
    top = session.execute(text(f"SELECT rowid FROM {TABLE} ORDER BY rowid DESC LIMIT 1"))
    mark = int(top.scalar_one_or_none() or 0)
    queued = f"SELECT rowid FROM {PENDING} WHERE rowid <= :mark"
    rows = f"SELECT {{}} FROM attendees WHERE (rowid > :mark OR rowid IN ({queued}))"
    params = {"mark": mark}
    # Changed or deleted rows leave the index; then every row to do goes (back) in.
    session.execute(text(f"DELETE FROM {TABLE} WHERE rowid IN ({queued})"), params)
    session.execute(text(f"DELETE FROM {ORDER} WHERE rowid IN ({queued})"), params)
    # Names of printable ASCII, nearly all of them, are folded in SQL (lower() and trim()
    # do there what sort_key does to them); only the others come up to Python.
    connection = session.connection()
    for statement in _index_sql(rows):
        connection.exec_driver_sql(statement, params)
    if meanwhile is not None:
        # What follows steps SQLite row by row, taking Python's lock back at every row: with
        # another thread busy in Python, each row would wait for that thread to let it go.
        meanwhile()
    others = rows.format("rowid, event_id, family_name, given_name") + f" AND ({_NOT_ASCII})"
    names = connection.exec_driver_sql(others, params).fetchall()
    keys = [(rowid, event, sort_key(family, given)) for rowid, event, family, given in names]
    if keys:
        # Straight to the driver: half the time of a Core insert for many rows.
        connection.exec_driver_sql(
            f"INSERT INTO {ORDER}(rowid, event_id, sort_key) VALUES (?, ?, ?)", keys
        )
    session.execute(text(f"DELETE FROM {PENDING}"))


def _index_sql(rows: str) -> list[str]:
    """The statements indexing the attendee rows `rows` selects (``{}``: the columns): the
    search row, and the sort key of names of printable ASCII."""
    return [
        f"INSERT INTO {TABLE}(rowid, {', '.join(TEXT_COLUMNS)}, tags) "
        + rows.format(_row_values()),
        f"INSERT INTO {ORDER}(rowid, event_id, sort_key) "
        + rows.format(_ASCII_SORT_KEY)
        + f" AND NOT ({_NOT_ASCII})",
    ]


def new_rows_index_sql() -> list[str]:
    """The SQL alone that indexes attendee rows above rowid ``:mark`` (a benchmark's bare
    sqlite3 baseline runs it; names outside printable ASCII get no sort key from it)."""
    return _index_sql("SELECT {} FROM attendees WHERE rowid > :mark")


# sort_key in SQL, for names of printable ASCII only: there strip() removes only spaces and
# lower() folds only A-Z, as SQLite's trim(x, ' ') and lower() do.
_NOT_ASCII = "family_name GLOB '*[^ -~]*' OR given_name GLOB '*[^ -~]*'"
_ASCII_SORT_KEY = (
    "rowid, event_id, "
    "lower(trim(CASE WHEN family_name <> '' THEN family_name ELSE given_name END, ' '))"
    " || char(31) || lower(trim(given_name, ' '))"
)


def _prepare(session: Session, event_id: str) -> bool:
    """Bring the index in step before a search; True if the event holds every attendee row.

    One statement for both questions: this runs on every keystroke.
    """
    session.flush()
    sql = f"SELECT {_NEEDS_SYNC}, {_OTHER_EVENTS}"
    needed, others = session.connection().exec_driver_sql(sql, {"e": event_id}).one()
    if needed:
        _sync(session)
    return not others


def rebuild(session: Session) -> None:
    """Drop and re-create the index tables and triggers, then index every attendee."""
    for trigger in TRIGGERS:
        session.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    for table in (PENDING, ORDER, TABLE):
        session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    for statement in ddl():
        session.execute(text(statement))
    sync_index(session)


def has_index(session: Session) -> bool:
    """Whether this database has the index (a migrated desk database has)."""
    sql = "SELECT count(*) FROM sqlite_master WHERE name IN (:t, :o, :p)"
    found = session.execute(text(sql), {"t": TABLE, "o": ORDER, "p": PENDING}).scalar_one()
    return int(found) == 3


def ensure_index(session: Session) -> bool:
    """Rebuild the index if it is missing or out of step with ``attendees``; True if rebuilt."""
    names = set(
        session.scalars(
            text("SELECT name FROM sqlite_master WHERE name IN (:t, :o, :p, :u, :d)"),
            {"t": TABLE, "o": ORDER, "p": PENDING, "u": TRIGGERS[0], "d": TRIGGERS[1]},
        )
    )
    if names == {TABLE, ORDER, PENDING, *TRIGGERS}:
        sync_index(session)
        # Same number of rows and same rowids (their sum): a renumbered table would differ.
        figures = "SELECT count(*), total(rowid) FROM {}"
        ours = tuple(session.execute(text(figures.format("attendees"))).one())
        if all(
            tuple(session.execute(text(figures.format(table))).one()) == ours
            for table in (TABLE, ORDER)
        ):
            return False
    rebuild(session)
    return True


def _indexed(session: Session) -> bool:
    """Whether the session's database is a desk database with the index (remembered)."""
    try:
        bind = session.get_bind()
    except UnboundExecutionError:
        return False
    if bind.dialect.name != "sqlite":
        return False
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine not in _indexed_engines:
        if not has_index(session):
            return False  # not a desk database, or one not migrated yet: ask again next time
        _indexed_engines.add(engine)
    return True


_indexed_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@event.listens_for(Session, "before_commit")
def _sync_before_commit(session: Session) -> None:
    # Every desk transaction that wrote attendees leaves the index in step when it commits,
    # so an import pays for its indexing in its own (worker) transaction, not the next search.
    if _indexed(session):
        sync_index(session)


def _purging(apply_erase: journal.Applier) -> journal.Applier:
    def apply_then_purge(session: Session, op: journal.Op) -> None:
        apply_erase(session, op)
        if _indexed(session):
            # FTS5 only marks replaced entries deleted until its segments merge: merge them
            # now, so an erased name survives in no index page (VACUUM then frees the pages).
            sync_index(session)
            session.execute(text(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')"))

    return apply_then_purge


journal.APPLIERS["attendee.erase"] = _purging(journal.APPLIERS["attendee.erase"])


# --- typed text -----------------------------------------------------------------------------


def fold(typed: str) -> str:
    """Typed text folded as the index folds names, before the tokenizer's own folding."""
    return _LATIN_MARKS.sub("", typed.translate(_FOLD_TABLE))


def words(typed: str) -> list[str]:
    """The words of typed text: runs of letters, digits and marks, folded; at most 12."""
    found: list[str] = []
    current: list[str] = []
    for ch in fold(typed):
        kind = unicodedata.category(ch)
        if kind[0] in "LNM" or kind == "Co":
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return [w[:MAX_WORD_LENGTH] for w in found[:MAX_WORDS]]


def _terms(found: Sequence[str]) -> str:
    # A word holds letters, digits and marks only, so quoting it needs no escaping.
    return " ".join(f'"{w}"*' for w in found)


def match_expression(typed: str) -> str | None:
    """The FTS5 expression every word of ``typed`` matches (as a prefix); None for no words."""
    found = words(typed)
    return _terms(found) if found else None


def code_tokens(typed: str) -> list[str]:
    """Index tokens of the short code ``typed`` is, if it is one: ``sy4k7q`` or bare ``4k7q``.

    Typing slips a short code allows (lower case, no dash, O for 0, I or L for 1) still match.
    """
    compact = _CODE_SEPARATORS.sub("", typed.strip())
    if not compact or len(compact) > 16 or not (compact.isascii() and compact.isalnum()):
        return []
    tokens: set[str] = set()
    canonical = normalise_short_code(typed)
    if canonical is not None:
        tokens.add(canonical.replace("-", "").lower())
    if len(compact) == SHORT_CODE_LEN:
        bare = normalise_short_code(f"X-{compact}")
        if bare is not None:
            tokens.add(bare.partition("-")[2].lower())
    return sorted(tokens)


# --- queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the attendee list is narrowed to; None means any."""

    country: str | None = None
    category: str | None = None
    status: str | None = None
    arrived: bool | None = None
    badge_printed: bool | None = None


@dataclass(frozen=True)
class Query:
    """A search: typed text, filters and the order (``sort`` None: relevance, then name)."""

    text: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: str | None = None
    descending: bool = False


@dataclass(frozen=True)
class PageMarks:
    """Derived facts shown beside each person: who has arrived, whose badge is printed."""

    arrived: frozenset[str]
    badge_printed: frozenset[str]


@dataclass(frozen=True)
class _Parts:
    """A query taken apart: FTS expressions and the words that need a scan."""

    spaced: list[str]
    unspaced: list[str]
    codes: list[str]

    @property
    def empty(self) -> bool:
        return not (self.spaced or self.unspaced)


def _parts(typed: str) -> _Parts:
    found = words(typed)
    unspaced = [w for w in found if _UNSPACED.search(w)]
    spaced = [w for w in found if not _UNSPACED.search(w)]
    codes = code_tokens(typed) if found and not unspaced else []
    return _Parts(spaced, unspaced, codes)


def _phrase(value: str) -> str:
    # Quoted, the value goes through the tokenizer as the trigger's text did.
    return '"' + value.replace('"', '""') + '"'


def _scope(event_id: str | None, filters: Filters) -> str:
    """FTS expression narrowing to the event and the filters, ending in AND ("" for none).

    Written as the index writes its tags. ``event_id`` None: every attendee is the event's,
    and leaving its tag out spares intersecting with a doclist of all of them.
    """
    tags: list[str] = []
    if event_id is not None:
        tags.append(_phrase("e" + event_id.replace("-", "")))
    if filters.country is not None:
        tags.append(_phrase("c" + filters.country))
    if filters.category is not None:
        tags.append(_phrase("k" + filters.category.replace("_", "")))
    if filters.status is not None:
        tags.append(_phrase("s" + filters.status))
    return f"tags : ({' '.join(tags)}) AND " if tags else ""


def _anywhere(parts: _Parts) -> str:
    """Expression: every spaced word somewhere in the text columns, or an exact code."""
    text_cols = f"{{{' '.join(TEXT_COLUMNS)}}}"
    codes = " OR ".join(f'"{c}"' for c in parts.codes)
    if parts.spaced and codes:
        return f"({text_cols} : ({_terms(parts.spaced)}) OR code : ({codes}))"
    if codes:
        return f"code : ({codes})"
    return f"{text_cols} : ({_terms(parts.spaced)})"


def _in_name(parts: _Parts) -> str:
    return f"name : ({_terms(parts.spaced)})"


def _exact_code(parts: _Parts) -> str:
    return "code : (" + " OR ".join(f'"{c}"' for c in parts.codes) + ")"


def _fast(query: Query, parts: _Parts) -> bool:
    """Can the index alone answer (no scan words, no derived filters, relevance order)?"""
    f = query.filters
    return (
        query.sort is None
        and bool(parts.spaced)
        and not parts.unspaced
        and f.arrived is None
        and f.badge_printed is None
    )


def _fts_count(session: Session, expression: str) -> int:
    sql = f"SELECT count(*) FROM {TABLE} WHERE {TABLE} MATCH :m"
    return int(_first(session, sql, {"m": expression}))


def _fts_rowids(session: Session, expression: str, offset: int, limit: int | None) -> list[int]:
    sql = f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :m ORDER BY rowid LIMIT :n OFFSET :o"
    params = {"m": expression, "n": -1 if limit is None else limit, "o": offset}
    return [int(r) for (r,) in session.connection().exec_driver_sql(sql, params)]


def _tiers(scope: str, parts: _Parts) -> list[str]:
    """The FTS expressions of the groups of the relevance order, best first, disjoint."""
    anywhere = f"{scope}{_anywhere(parts)}"
    in_name = _in_name(parts)
    if not parts.codes:
        return [f"{scope}{in_name}", f"{anywhere} NOT {in_name}"]
    code = _exact_code(parts)
    return [
        f"{scope}{code}",
        f"{scope}{in_name} NOT {code}",
        f"{anywhere} NOT {in_name} NOT {code}",
    ]


def _fast_page(
    session: Session, scope: str, parts: _Parts, offset: int, limit: int | None
) -> list[int]:
    """Rowids of one page in relevance order, straight from the index."""
    found: list[int] = []
    skip = offset
    for expression in _tiers(scope, parts):
        need = None if limit is None else limit - len(found)
        if need is not None and need <= 0:
            break
        got = _fts_rowids(session, expression, skip, need)
        if got:
            found.extend(got)
            skip = 0
        elif skip:
            # The page starts beyond this group: step over all of it.
            skip = max(0, skip - _fts_count(session, expression))
    return found


_A = Attendee.__table__.c
_ROWID: ColumnClause[Any] = literal_column("attendees.rowid")
_unindexed_event_id: ColumnClause[Any] = literal_column("+attendees.event_id")


def _in_index(expression: str, name: str) -> ColumnElement[bool]:
    sub = text(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH :{name}").bindparams(
        **{name: expression}
    )
    return _ROWID.in_(sub)


def arrived_condition() -> ColumnElement[bool]:
    """SQL condition on ``attendees``: admitted at some door (scans, not a stored flag)."""
    s = Scan.__table__.c
    return exists().where(
        s.attendee_id == _A.id,
        s.event_id == _A.event_id,
        attendance.counted(),
        attendance.admitted_entry(),
    )


def badge_printed_condition() -> ColumnElement[bool]:
    """SQL condition on ``attendees``: a badge has been printed for them."""
    b = BadgePrint.__table__.c
    return exists().where(b.attendee_id == _A.id, b.event_id == _A.event_id)


def _unspaced_condition(word: str) -> ColumnElement[bool]:
    return or_(
        func.instr(_A.native_name, word) > 0,
        func.instr(_A.badge_name, word) > 0,
        func.instr(_A.organisation, word) > 0,
    )


def _event_condition(event_id: str, scan: bool, ordered: bool) -> ColumnElement[bool]:
    # "+event_id" keeps SQLite from reaching every row through an event index, which is
    # three times slower than reading the table straight when the event is all of it.
    # Listed in name order, the name-order index narrows to the event and gives the order;
    # counted, the attendees' own event index is all it takes.
    if scan:
        return _unindexed_event_id == event_id
    return _O.event_id == event_id if ordered else _A.event_id == event_id


def _conditions(
    event_id: str, query: Query, parts: _Parts, scan: bool, ordered: bool
) -> list[ColumnElement[bool]]:
    f = query.filters
    found: list[ColumnElement[bool]] = [_event_condition(event_id, scan, ordered)]
    if f.country is not None:
        found.append(_A.country == f.country.upper())
    if f.category is not None:
        found.append(_A.category == f.category)
    if f.status is not None:
        found.append(_A.status == f.status)
    if f.arrived is not None:
        found.append(arrived_condition() if f.arrived else ~arrived_condition())
    if f.badge_printed is not None:
        found.append(badge_printed_condition() if f.badge_printed else ~badge_printed_condition())
    if parts.spaced or parts.codes:
        found.append(_in_index(_anywhere(parts), "m_any"))
    found.extend(_unspaced_condition(w) for w in parts.unspaced)
    return found


def _name_key() -> list[Any]:
    return [_O.sort_key, _O.rowid]


def _order(query: Query, parts: _Parts) -> list[Any]:
    key = query.sort
    if key is None:
        if parts.empty:
            return _name_key()
        tiers: list[Any] = []
        if parts.codes:
            tiers.append((_in_index(_exact_code(parts), "m_code"), 0))
        name_match = [_in_index(_in_name(parts), "m_name")] if parts.spaced else []
        name_match += [
            or_(func.instr(_A.native_name, w) > 0, func.instr(_A.badge_name, w) > 0)
            for w in parts.unspaced
        ]
        tiers.append((and_(*name_match), 1))
        return [case(*tiers, else_=2), _ROWID]
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}; use one of {', '.join(SORT_KEYS)}")
    keys: dict[str, list[Any]] = {
        "code": [_A.short_code],
        "name": [_O.sort_key],
        "native_name": [_A.native_name],
        "country": [_A.country],
        "organisation": [_A.organisation.collate("NOCASE")],
        "category": [_A.category],
        "status": [_A.status],
        "arrived": [arrived_condition()],
        "badge": [badge_printed_condition()],
    }
    main = keys[key]
    if query.descending:
        main = [k.desc() for k in main]
    return [*main, *_name_key()]


def _statement(
    event_id: str, query: Query, parts: _Parts, scan: bool, ordered: bool
) -> Select[Any]:
    """The ids the query finds; joined to the name order when they are to be sorted."""
    conditions = _conditions(event_id, query, parts, scan, ordered)
    if not ordered:
        return select(_A.id).where(*conditions)
    joined = Attendee.__table__.join(ORDER_TABLE, _O.rowid == _ROWID)
    return select(_A.id).select_from(joined).where(*conditions)


@dataclass(frozen=True)
class Found:
    """What a search finds: how many in all, and the ids of one page in order."""

    total: int
    ids: list[str]


def _count(session: Session, event_id: str, query: Query, parts: _Parts, sole: bool) -> int:
    if _fast(query, parts):
        scope = _scope(None if sole else event_id, query.filters)
        return _fts_count(session, f"{scope}{_anywhere(parts)}")
    scan = bool(parts.unspaced) and not parts.spaced and sole
    inner = _statement(event_id, query, parts, scan, ordered=False).subquery()
    statement = select(func.count()).select_from(inner)
    return int(session.execute(statement).scalar_one())


def _page(
    session: Session,
    event_id: str,
    query: Query,
    parts: _Parts,
    sole: bool,
    offset: int,
    limit: int | None,
) -> list[str]:
    if _fast(query, parts):
        scope = _scope(None if sole else event_id, query.filters)
        rowids = _fast_page(session, scope, parts, offset, limit)
        if not rowids:
            return []
        listed = ", ".join(str(int(rowid)) for rowid in rowids)
        found = session.connection().exec_driver_sql(
            f"SELECT rowid, id FROM attendees WHERE rowid IN ({listed})"
        )
        ids = {int(rowid): str(attendee_id) for rowid, attendee_id in found}
        return [ids[r] for r in rowids if r in ids]
    # The name order with no text is read from its index; anything else reads every row.
    name_order = query.sort is None and parts.empty
    scan = not (parts.spaced or parts.codes or name_order) and sole
    statement = _statement(event_id, query, parts, scan, ordered=True)
    statement = statement.order_by(*_order(query, parts))
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return [str(found) for found in session.scalars(statement)]


def count(session: Session, event_id: str, query: Query) -> int:
    """How many attendees of the event the query finds."""
    sole = _prepare(session, event_id)
    return _count(session, event_id, query, _parts(query.text), sole)


def page(
    session: Session, event_id: str, query: Query, offset: int = 0, limit: int | None = 50
) -> list[str]:
    """Ids of the attendees the query finds, in its order, from ``offset`` (all if no limit)."""
    sole = _prepare(session, event_id)
    return _page(session, event_id, query, _parts(query.text), sole, offset, limit)


def find(session: Session, event_id: str, query: Query, limit: int | None = 50) -> Found:
    """What a keystroke needs: how many the query finds and the first ``limit`` of them."""
    sole = _prepare(session, event_id)
    parts = _parts(query.text)
    total = _count(session, event_id, query, parts, sole)
    return Found(total, _page(session, event_id, query, parts, sole, 0, limit))


def countries(session: Session, event_id: str) -> list[str]:
    """The ISO codes of the countries the event's attendees come from."""
    found = select(_A.country).where(_A.event_id == event_id, _A.country != "").distinct()
    return sorted(str(code) for code in session.scalars(found))


def categories(session: Session, event_id: str) -> list[str]:
    """The categories the event's attendees are registered in."""
    found = select(_A.category).where(_A.event_id == event_id).distinct()
    return sorted(str(key) for key in session.scalars(found))


def page_marks(session: Session, event_id: str, ids: Sequence[str]) -> PageMarks:
    """Which of ``ids`` have arrived and have a printed badge (one query each)."""
    if not ids:
        return PageMarks(frozenset(), frozenset())
    s = Scan.__table__.c
    b = BadgePrint.__table__.c
    arrived = session.scalars(
        select(s.attendee_id)
        .where(s.event_id == event_id, s.attendee_id.in_(list(ids)))
        .where(attendance.counted(), attendance.admitted_entry())
        .distinct()
    )
    printed = session.scalars(
        select(b.attendee_id).where(b.event_id == event_id, b.attendee_id.in_(list(ids))).distinct()
    )
    return PageMarks(frozenset(str(a) for a in arrived), frozenset(str(p) for p in printed))
