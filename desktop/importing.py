"""Turn a participant list into checked attendee rows and a plan of what an import would do.

Pure parsing and planning: nothing here touches the database. The steps are
`read_table` (sheets.py) -> `guess_mapping` (columns.py) -> `parse_rows` -> `plan_import`;
`plan_file` runs them all. Every problem carries the row number the spreadsheet shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from desktop.columns import (
    ATTENDEE_FIELDS,
    CATEGORIES,
    ColumnMapping,
    Source,
    category_of,
    guess_mapping,
    honorific_of,
)
from desktop.countries import country_name, match_country, normalise
from desktop.sheets import (
    ImportFileError,
    Problem,
    SourceRow,
    Table,
    gc_paused,
    read_table,
    safe_for_spreadsheet,
)

__all__ = [
    "ImportFileError",
    "ImportPlan",
    "ParseResult",
    "ParsedRow",
    "PlannedUpdate",
    "Problem",
    "SourceRow",
    "Table",
    "gc_paused",
    "guess_mapping",
    "parse_rows",
    "plan_file",
    "plan_import",
    "read_table",
    "safe_for_spreadsheet",
    "split_full_name",
    "valid_email",
]

MAX_LENGTH: Final = {"notes": 5000}
DEFAULT_MAX_LENGTH: Final = 300

# Registration states whose rows are not attendees (Indico and pretix words).
_SKIPPED_STATES: Final = frozenset(
    {"withdrawn", "rejected", "cancelled", "canceled", "expired", "refunded", "deleted"}
)
# What people type into a cell that has nothing to say.
_PLACEHOLDERS: Final = frozenset({"-", "--", "—", ".", "n/a", "#n/a", "none", "nil", "null"})
# casefold() never shortens a text, so a longer cell cannot be a placeholder.
_PLACEHOLDER_MAX: Final = max(len(p) for p in _PLACEHOLDERS)
_GENDERS: Final = {
    "m": "male",
    "male": "male",
    "man": "male",
    "f": "female",
    "female": "female",
    "woman": "female",
    "w": "female",
}
_SUFFIXES: Final = frozenset({"jr", "sr", "ii", "iii", "iv"})
_NAME_PARTICLES: Final = frozenset(
    {"de", "del", "dela", "della", "la", "le", "van", "von", "der", "den", "da", "dos", "das"}
    | {"di", "du", "bin", "binti", "al", "el", "ibn", "ter", "ten"}
)

# The two sides of an address, checked apart: neither holds an "@", and the domains of a
# list repeat, so each is checked once (see _valid_domain).
_EMAIL_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_EMAIL_DOMAIN = re.compile(
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{2,59})"
)
_EMAIL_SEPARATORS = re.compile(r"[;,/\s]+")


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A row that can be imported: attendee fields with non-empty, normalised values."""

    row_number: int
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Rows accepted, rows refused (`problems`), and notes on accepted rows (`warnings`)."""

    accepted: list[ParsedRow]
    problems: list[Problem]
    warnings: list[Problem]
    ignored_columns: list[str]
    source: Source
    total_rows: int


@dataclass(frozen=True, slots=True)
class PlannedUpdate:
    """A row that changes an existing attendee: field -> (old value, new value)."""

    row_number: int
    attendee_id: str
    changes: dict[str, tuple[str, str]]
    matched_by: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing would do; nothing is written until the caller applies it."""

    new: list[ParsedRow]
    updates: list[PlannedUpdate]
    unchanged: list[tuple[int, str]]
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: how many rows are new, updated, unchanged and refused (and why)."""
        refused = len({p.row_number for p in self.problems})
        text = (
            f"{len(self.new)} new, {len(self.updates)} updated, "
            f"{len(self.unchanged)} unchanged, {refused} refused"
        )
        if self.problems:
            text += f" ({summarise(self.problems)})"
        return text

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for `eventdesk import --json`."""

        def problem(p: Problem) -> dict[str, Any]:
            return {"row": p.row_number, "field": p.field, "kind": p.kind, "message": p.message}

        return {
            "new": [{"row": r.row_number, "fields": r.fields} for r in self.new],
            "updates": [
                {
                    "row": u.row_number,
                    "attendee": u.attendee_id,
                    "matched_by": u.matched_by,
                    "changes": {f: {"old": o, "new": n} for f, (o, n) in u.changes.items()},
                }
                for u in self.updates
            ],
            "unchanged": [{"row": r, "attendee": a} for r, a in self.unchanged],
            "problems": [problem(p) for p in self.problems],
            "warnings": [problem(p) for p in self.warnings],
            "ignored_columns": self.ignored_columns,
        }


# --- values ----------------------------------------------------------------------------------


def valid_email(address: str) -> bool:
    """Whether an address is a plausible e-mail address (one @, real-looking domain)."""
    if len(address) > 254 or address.count("@") != 1:
        return False
    local, _, domain = address.partition("@")
    return len(local) <= 64 and _EMAIL_LOCAL.fullmatch(local) is not None and _valid_domain(domain)


@lru_cache(maxsize=4096)
def _valid_domain(domain: str) -> bool:
    return _EMAIL_DOMAIN.fullmatch(domain) is not None


def split_full_name(text: str) -> tuple[str, str, str]:
    """Split a full name into (honorific, given, family).

    "Family, Given" splits at the comma; a run of words in capitals at either end is the
    family name ("TANAKA Hiroshi", "Maria SANTOS"); otherwise the last word, with particles
    such as "de la" or "bin", is the family name. A single word is a family name, as in a
    passport.
    """
    words = text.replace(",", " , ").split()
    honorific = ""
    if len(words) > 1 and honorific_of(words[0]):
        honorific = honorific_of(words[0]) or ""
        words = words[1:]
    # "Jose Rizal Jr." or "Rizal, Jose, Jr.": the suffix stays with the family name.
    suffix = ""
    while len(words) > 2 and words[-1].rstrip(".").lower() in _SUFFIXES:
        suffix = f" {words.pop()}{suffix}"
        while words and words[-1] == ",":
            words.pop()
    if "," in words:
        cut = words.index(",")
        family = " ".join(words[:cut])
        given = " ".join(w for w in words[cut + 1 :] if w != ",")
        return honorific, given, family + suffix
    if len(words) <= 1:
        return honorific, "", " ".join(words) + suffix

    def capitals(word: str) -> bool:
        letters = [c for c in word if c.isalpha()]
        return len(letters) > 1 and all(c.isupper() for c in letters)

    flags = [capitals(w) for w in words]
    if not all(flags) and any(flags):
        if flags[0]:
            cut = flags.index(False)
            return honorific, " ".join(words[cut:]), " ".join(words[:cut]) + suffix
        if flags[-1]:
            cut = len(flags) - flags[::-1].index(False)
            return honorific, " ".join(words[:cut]), " ".join(words[cut:]) + suffix
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _NAME_PARTICLES:
        cut -= 1
    return honorific, " ".join(words[:cut]), " ".join(words[cut:]) + suffix


@lru_cache(maxsize=1024)
def _category(value: str) -> str | None:
    return category_of(value)


@lru_cache(maxsize=1024)
def _honorific(value: str) -> str:
    return honorific_of(value) or value


# The first characters _looks_like_formula can say yes to.
_FORMULA_FIRST: Final = frozenset("=@+-")


def _cell_value(cells: Sequence[str], indexes: Iterable[int]) -> str:
    """The first of these cells with something to say, spaces collapsed ("" if none)."""
    width = len(cells)
    for index in indexes:
        text = cells[index] if index < width else ""
        text = " ".join(text.split())
        if text and text.casefold() not in _PLACEHOLDERS:
            return text
    return ""


def _looks_like_formula(value: str) -> bool:
    """A value a spreadsheet would run: "=...", "@...", or "+"/"-" followed by more than digits."""
    if value[0] in "=@":
        return True
    rest = value[1:].replace(" ", "")
    return value[0] in "+-" and not rest.replace(".", "").replace("-", "").isdigit()


def summarise(problems: Sequence[Problem], limit: int = 3) -> str:
    """Problems grouped by kind in one line, with the first few row numbers of each."""
    groups: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        groups[problem.kind].append(problem)
    parts: list[str] = []
    for kind, members in groups.items():
        rows = [p.row_number for p in members if p.row_number is not None]
        shown = ", ".join(str(r) for r in rows[:limit])
        more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
        label = kind.replace("_", " ")
        example = members[0].message
        parts.append(f"{label} in {len(members)} row(s): {shown}{more} (e.g. {example})")
    return "; ".join(parts)


# --- parsing ---------------------------------------------------------------------------------


class _RowReader:
    """Checks one row at a time; collects problems and warnings."""

    def __init__(self, table: Table, mapping: ColumnMapping) -> None:
        self.columns = mapping.fields()
        self.source = mapping.source
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.order_codes: dict[str, int] = defaultdict(int)
        for index in self.columns.get("order_code", []):
            for row in table.rows:
                code = row.cells[index].strip() if index < len(row.cells) else ""
                if code:
                    self.order_codes[code] += 1
        # Worked out once, not per row: the stored fields the file has, and their columns.
        self.wanted: list[tuple[str, list[int]]] = [
            (f, self.columns[f]) for f in ATTENDEE_FIELDS if f in self.columns
        ]
        # The usual file: one column per field. Rows that have all those cells take a
        # shorter path (the same result as _cell_value, without a call per cell).
        self.single: list[tuple[str, int]] = [(f, ix[0]) for f, ix in self.wanted]
        if any(len(ix) != 1 for _, ix in self.wanted):
            self.single = []
        self.single_width = max((i for _, i in self.single), default=-1) + 1
        self.state_columns = self.columns.get("registration_state", [])

    def value(self, row: SourceRow, field: str) -> str:
        return _cell_value(row.cells, self.columns.get(field, ()))

    def problem(self, row: SourceRow, field: str | None, message: str, kind: str) -> None:
        self.problems.append(Problem(row.row_number, field, message, kind))

    def warn(self, row: SourceRow, field: str | None, message: str, kind: str) -> None:
        self.warnings.append(Problem(row.row_number, field, message, kind))

    def read(self, row: SourceRow) -> ParsedRow | None:
        cells = row.cells
        if self.state_columns:
            state = _cell_value(cells, self.state_columns)
            if state.casefold() in _SKIPPED_STATES:
                self.warn(row, "registration_state", f"registration is {state!r}: skipped",
                          "skipped")  # fmt: skip
                return None
        fields: dict[str, str] = {}
        if self.single and len(cells) >= self.single_width:
            for name, index in self.single:
                text = cells[index]
                if text:
                    text = " ".join(text.split())
                    if len(text) <= _PLACEHOLDER_MAX and text.casefold() in _PLACEHOLDERS:
                        text = ""
                fields[name] = text
        else:
            for name, indexes in self.wanted:
                fields[name] = _cell_value(cells, indexes)
        errors = len(self.problems)
        # Each check is called only when it has something to do (a call costs ~1 us a row).
        if not (fields.get("given_name") or fields.get("family_name")):
            self._names(row, fields)
        if fields.get("email"):
            self._email(row, fields)
        if fields.get("country"):
            self._country(row, fields)
        if fields.get("category"):
            self._category(row, fields)
        if self.source in ("pretix", "indico"):
            self._external_id(row, fields)
        if fields.get("honorific"):
            fields["honorific"] = _honorific(fields["honorific"])
        if fields.get("gender"):
            fields["gender"] = _GENDERS.get(fields["gender"].casefold(), fields["gender"])
        for name, text in fields.items():
            if not text:
                continue
            if len(text) > MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH):
                self.problem(row, name, f"{name} is {len(text)} characters long", "too_long")
            elif text[0] in _FORMULA_FIRST and name != "phone" and _looks_like_formula(text):
                self.warn(
                    row,
                    name,
                    f"{name} {text[:40]!r} starts with {text[0]!r}: kept as text, not a formula",
                    "formula",
                )
        if len(self.problems) > errors:
            return None
        return ParsedRow(row.row_number, {k: v for k, v in fields.items() if v})

    def _names(self, row: SourceRow, fields: dict[str, str]) -> None:
        if fields.get("given_name") or fields.get("family_name"):
            return
        full = self.value(row, "full_name")
        if full:
            honorific, given, family = split_full_name(full)
            fields["given_name"], fields["family_name"] = given, family
            if honorific and not fields.get("honorific"):
                fields["honorific"] = honorific
        if not fields.get("given_name") and not fields.get("family_name"):
            self.problem(row, "family_name", "no name (given, family and full name are empty)",
                         "no_name")  # fmt: skip

    def _email(self, row: SourceRow, fields: dict[str, str], text: str | None = None) -> None:
        text = fields.get("email", "") if text is None else text
        if not text:
            return
        text = text.removeprefix("mailto:").strip("<>\"' ")
        # Most cells hold one address and no separator: nothing to split.
        parts = (
            [p for p in _EMAIL_SEPARATORS.split(text) if p]
            if _EMAIL_SEPARATORS.search(text)
            else []
        )
        if len(parts) > 1 and all("@" in p for p in parts):
            self.warn(row, "email", f"several e-mail addresses; {parts[0]!r} is used",
                      "several_emails")  # fmt: skip
            text = parts[0]
        if not valid_email(text):
            self.problem(row, "email", f"e-mail {text!r} is not a valid address", "bad_email")
            return
        local, _, domain = text.partition("@")
        fields["email"] = f"{local}@{domain.lower()}"

    def _country(self, row: SourceRow, fields: dict[str, str]) -> None:
        text = fields.get("country", "")
        if not text:
            return
        found = match_country(text)
        if found is None:
            self.problem(row, "country", f"country {text!r} is not recognised",
                         "unknown_country")  # fmt: skip
            return
        fields["country"] = found.code
        if found.guessed:
            self.warn(row, "country",
                      f"country {text!r} read as {country_name(found.code)} ({found.code})",
                      "country_guess")  # fmt: skip

    def _category(self, row: SourceRow, fields: dict[str, str]) -> None:
        text = fields.get("category", "")
        if not text:
            return
        category = _category(text)
        if category is None:
            choices = ", ".join(c.replace("_", " ") for c in CATEGORIES)
            self.problem(row, "category", f"category {text!r} is not recognised (use {choices})",
                         "unknown_category")  # fmt: skip
            return
        fields["category"] = category

    def _external_id(self, row: SourceRow, fields: dict[str, str]) -> None:
        # A prefix keeps ids from different systems apart: Indico's 12 is not pretix's 12.
        if self.source == "pretix":
            order = self.value(row, "order_code")
            position = self.value(row, "position_id")
            alone = bool(order) and self.order_codes.get(order) == 1
            if order and position:
                fields["external_id"] = f"pretix:{order}-{position}"
            elif alone:
                fields["external_id"] = f"pretix:{order}"
            # A group order's buyer is not each attendee: their e-mail would make duplicates.
            if alone and not fields.get("email"):
                self._email(row, fields, self.value(row, "order_email"))
        elif self.source == "indico" and fields.get("external_id"):
            fields["external_id"] = f"indico:{fields['external_id']}"


def parse_rows(table: Table, mapping: ColumnMapping) -> ParseResult:
    """Check every row; raise ImportFileError if no column gives names or no row is usable."""
    if not mapping.has_name:
        headings = ", ".join(repr(h) for h in table.headers[:12] if h)
        raise ImportFileError(
            f"{table.name}: no column gives names (given, family or full name); "
            f"the headings are {headings}"
        )
    reader = _RowReader(table, mapping)
    with gc_paused():
        accepted = [parsed for row in table.rows if (parsed := reader.read(row)) is not None]
    if not accepted and reader.problems:
        raise ImportFileError(
            f"{table.name}: none of the {len(table.rows)} rows can be imported: "
            f"{summarise(reader.problems)}",
            reader.problems,
        )
    return ParseResult(
        accepted=accepted,
        problems=reader.problems,
        warnings=reader.warnings,
        ignored_columns=mapping.ignored,
        source=mapping.source,
        total_rows=len(table.rows),
    )


# --- planning --------------------------------------------------------------------------------


def _name_key(fields: Mapping[str, Any]) -> str:
    """Name words folded and sorted, so "TANAKA Hiroshi" and "Hiroshi Tanaka" meet."""
    words = normalise(f"{fields.get('given_name') or ''} {fields.get('family_name') or ''}")
    return " ".join(sorted(words.split()))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _same(field_name: str, old: str, new: str) -> bool:
    if field_name in ("email", "country"):
        return old.casefold() == new.casefold()
    return old == new


def _compatible(name: str, other: str) -> bool:
    """Whether two name keys can be one person: they share a word, or one is unknown."""
    return not name or not other or not set(name.split()).isdisjoint(other.split())


@dataclass(frozen=True, slots=True)
class _Match:
    keys: list[str]
    how: str
    conflict: bool = False


class _Index:
    """Existing attendees (or earlier rows) by external id, e-mail, and name with country."""

    def __init__(self) -> None:
        self.by_external: dict[str, list[str]] = defaultdict(list)
        self.by_email: dict[str, list[str]] = defaultdict(list)
        self.by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
        # The same, split by e-mail: a common name has thousands of namesakes in a big list,
        # and filtering them all for every row made planning quadratic.
        self.by_name_email: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        self.emails: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.order: dict[str, int] = {}

    def add(self, key: str, fields: Mapping[str, Any], name: str | None = None) -> None:
        external = _text(fields.get("external_id"))
        email = _text(fields.get("email")).casefold()
        name = _name_key(fields) if name is None else name
        if external:
            self.by_external[external].append(key)
        if email:
            self.by_email[email].append(key)
        self.emails[key] = email
        self.names[key] = name
        self.order[key] = len(self.order)
        if name:
            country = _text(fields.get("country")).upper()
            self.by_name[(name, country)].append(key)
            self.by_name_email[(name, country, email)].append(key)

    def find(self, fields: Mapping[str, str], name: str) -> _Match:
        """Keys that the row matches, and by what; several keys mean it is ambiguous.

        `name` is the row's `_name_key`. An e-mail address shared by people whose names have
        no word in common (a delegation's contact address) does not make them one person.
        An external id held by someone of another name is a conflict, never a match.
        """
        external = fields.get("external_id", "")
        email = fields.get("email", "").casefold()
        names = self.names
        same_email = self.by_email.get(email) if email else None
        by_email = [k for k in same_email if _compatible(names[k], name)] if same_email else []
        if external and (found := self.by_external.get(external)):
            if not any(_compatible(self.names[k], name) for k in found):
                return _Match(found, "external id", conflict=True)
            if by_email and by_email != found:
                return _Match(sorted({*found, *by_email}), "external id and e-mail")
            return _Match(found, "external id")
        if by_email:
            return _Match(by_email, "e-mail")
        country = fields.get("country", "").upper()
        if not email:
            candidates = self.by_name.get((name, country))
            return _Match(list(candidates), "name and country") if candidates else _NO_MATCH
        # The same name with two different e-mail addresses is two people: the namesakes
        # with this address or none, in the order they were added.
        same = self.by_name_email.get((name, country, email))
        blank = self.by_name_email.get((name, country, ""))
        if same and blank:
            return _Match(sorted([*same, *blank], key=self.order.__getitem__), "name and country")
        if same or blank:
            return _Match(list(same or blank or ()), "name and country")
        return _NO_MATCH


# What find() says of a row that matches nobody (shared: nobody changes a _Match).
_NO_MATCH: Final = _Match([], "name and country")


def plan_import(parsed: ParseResult, existing: Iterable[Mapping[str, Any]]) -> ImportPlan:
    """Decide for every accepted row: new attendee, update (with diffs), unchanged, or problem.

    `existing` are the event's attendees as plain mappings with "id" and attendee fields.
    Rows match by external id, then e-mail, then name and country. An empty cell never
    erases a stored value.
    """
    with gc_paused():
        return _plan_import(parsed, existing)


def _plan_import(parsed: ParseResult, existing: Iterable[Mapping[str, Any]]) -> ImportPlan:
    people: dict[str, Mapping[str, Any]] = {}
    index = _Index()
    for attendee in existing:
        key = _text(attendee["id"])
        people[key] = attendee
        index.add(key, attendee)

    earlier = _Index()
    claimed: dict[str, int] = {}
    new: list[ParsedRow] = []
    updates: list[PlannedUpdate] = []
    unchanged: list[tuple[int, str]] = []
    problems = list(parsed.problems)
    warnings = list(parsed.warnings)

    def refuse(row: ParsedRow, message: str, kind: str) -> None:
        problems.append(Problem(row.row_number, None, message, kind))

    for row in parsed.accepted:
        number = row.row_number
        name = _name_key(row.fields)
        twin = earlier.find(row.fields, name)
        if twin.conflict:
            refuse(row, f"has the external id of row {twin.keys[0]}, another person", "id_conflict")
            continue
        if twin.keys:
            refuse(row, f"duplicates row {twin.keys[0]} (same {twin.how})", "duplicate")
            continue
        email = row.fields.get("email", "").casefold()
        if email and earlier.by_email.get(email):
            warnings.append(
                Problem(
                    number,
                    "email",
                    f"shares its e-mail with row {earlier.by_email[email][0]} (another person)",
                    "shared_email",
                )
            )
        earlier.add(str(number), row.fields, name)
        if not people:
            new.append(row)  # nothing stored to match (a first import): what find() says
            continue
        match = index.find(row.fields, name)
        if match.conflict:
            refuse(
                row,
                f"external id {row.fields['external_id']!r} belongs to attendee "
                f"{match.keys[0]}, who has another name",
                "id_conflict",
            )
            continue
        if len(match.keys) > 1:
            ids = ", ".join(match.keys[:5])
            refuse(
                row,
                f"matches {len(match.keys)} existing attendees by {match.how} ({ids}); "
                "cannot tell which one to update",
                "ambiguous",
            )
            continue
        if not match.keys:
            new.append(row)
            continue
        attendee_id = match.keys[0]
        if attendee_id in claimed:
            refuse(
                row,
                f"matches the same attendee ({attendee_id}) as row {claimed[attendee_id]}",
                "same_attendee",
            )
            continue
        claimed[attendee_id] = number
        stored = people[attendee_id]
        changes: dict[str, tuple[str, str]] = {}
        for field_name, value in row.fields.items():
            old = _text(stored.get(field_name))
            if not _same(field_name, old, value):
                changes[field_name] = (old, value)
        if changes:
            updates.append(PlannedUpdate(number, attendee_id, changes, match.how))
        else:
            unchanged.append((number, attendee_id))
    problems.sort(key=lambda p: p.row_number or 0)
    warnings.sort(key=lambda p: p.row_number or 0)
    return ImportPlan(new, updates, unchanged, problems, warnings, parsed.ignored_columns)


def plan_file(
    path: Path,
    existing: Iterable[Mapping[str, Any]] = (),
    *,
    mapping: ColumnMapping | None = None,
    header_row: int | None = None,
    max_bytes: int = 50_000_000,
) -> tuple[Table, ColumnMapping, ImportPlan]:
    """Read, map (unless `mapping` is given), parse and plan a file in one call."""
    table = read_table(path, max_bytes=max_bytes, header_row=header_row)
    if mapping is None:
        mapping = guess_mapping(table.headers, table.samples())
    return table, mapping, plan_import(parse_rows(table, mapping), existing)
