"""Map the column headings of a participant list to attendee fields.

Headings are compared after folding case, accents and punctuation, against synonym lists for
each field. Indico's registrant export and pretix's order/attendee export are recognised by
their headings. Headings that could mean two things ("Title": Mr/Dr or a job title; "Role",
"Type", "Product": a category or not) are decided by the values below them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

Source = Literal["indico", "pretix", "generic"]

ATTENDEE_FIELDS: Final = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "honorific",
    "gender",
    "country",
    "organisation",
    "position",
    "category",
    "email",
    "phone",
    "notes",
    "external_id",
)
# Fields read from the file but not stored as such: a full name split into given and family,
# a registration state that skips withdrawn rows, pretix's order code and position number
# that together make the external id, and pretix's order (buyer's) e-mail.
SOURCE_FIELDS: Final = (
    "full_name",
    "registration_state",
    "order_code",
    "position_id",
    "order_email",
)
ALL_FIELDS: Final = ATTENDEE_FIELDS + SOURCE_FIELDS
NAME_FIELDS: Final = frozenset({"given_name", "family_name", "full_name"})

CATEGORIES: Final = (
    "participant",
    "resource_person",
    "observer",
    "secretariat",
    "local_participant",
    "vip",
)

# Confidence of a guess, highest first.
BY_HAND = 1.0
EXPORT_HEADING = 1.0
HEADING = 0.9
SECOND_CHOICE = 0.8
BY_VALUES = 0.7
PARTIAL = 0.5

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "given_name": (
        "given name",
        "given names",
        "first name",
        "first names",
        "firstname",
        "forename",
        "forenames",
        "christian name",
        "name first",
        "given",
        "first",
        "prenom",
        "vorname",
        "nombre",
    ),
    "family_name": (
        "family name",
        "family names",
        "surname",
        "surnames",
        "last name",
        "lastname",
        "name last",
        "family",
        "last",
        "nom",
        "nom de famille",
        "nachname",
        "apellido",
        "apellidos",
    ),
    "full_name": (
        "full name",
        "fullname",
        "complete name",
        "name in full",
        "participant name",
        "participant s name",
        "name of participant",
        "attendee name",
        "delegate name",
        "nominee name",
        "name of nominee",
        "participant",
    ),
    "badge_name": (
        "badge name",
        "name on badge",
        "name for badge",
        "preferred name",
        "nickname",
        "known as",
        "display name",
        "badge",
    ),
    "native_name": (
        "native name",
        "name in native script",
        "native script",
        "name in local language",
        "local name",
        "name in local script",
        "name in original script",
        "chinese name",
        "japanese name",
        "korean name",
        "thai name",
    ),
    "honorific": ("honorific", "salutation", "prefix", "courtesy title", "mr ms", "mr mrs ms"),
    "gender": ("gender", "sex"),
    "country": (
        "country",
        "economy",
        "member country",
        "member economy",
        "country economy",
        "economy country",
        "participating country",
        "participating economy",
        "country code",
        "country region",
    ),
    "organisation": (
        "organisation",
        "organization",
        "organisation name",
        "organization name",
        "name of organisation",
        "name of organization",
        "agency",
        "name of agency",
        "ministry",
        "ministry agency",
        "agency ministry",
        "institution",
        "affiliation",
        "company",
        "company name",
        "employer",
        "office",
        "department",
        "unit",
    ),
    "position": (
        "position",
        "designation",
        "job title",
        "position title",
        "official designation",
        "current position",
        "occupation",
        "job",
        "post",
        "rank",
    ),
    "category": (
        "category",
        "participant type",
        "participant category",
        "type of participant",
        "attendee type",
        "delegate type",
        "registration type",
        "registration category",
    ),
    "email": (
        "email",
        "e mail",
        "email address",
        "e mail address",
        "mail",
        "email id",
        "contact email",
        "official email",
        "attendee email",
    ),
    "phone": (
        "phone",
        "phone number",
        "phone no",
        "mobile",
        "mobile number",
        "mobile no",
        "mobile phone",
        "telephone",
        "telephone number",
        "tel",
        "tel no",
        "cell",
        "cellphone",
        "cell phone",
        "contact number",
        "contact no",
        "whatsapp",
    ),
    "notes": ("notes", "note", "remarks", "remark", "comments", "comment"),
    "external_id": (
        "id",
        "registration id",
        "registration no",
        "registration number",
        "reg id",
        "participant id",
        "attendee id",
        "ticket id",
        "reference",
        "reference no",
        "ref no",
    ),
    "registration_state": ("registration state", "registration status", "status", "order status"),
}

# A second-choice heading: used only for rows where the first choice is empty.
_SECOND_CHOICES: dict[str, str] = {
    "nationality": "country",
    "citizenship": "country",
    "country of residence": "country",
    "nation": "country",
}

# Headings whose meaning is decided by the values below them.
_BY_VALUES: Final = frozenset({"title", "role", "type", "group", "product", "ticket type"})
# "Name" alone: a full name, or a given name when a family-name column sits beside it.
_BARE_NAME: Final = frozenset({"name", "names"})

# Headings about someone else than the attendee; never mapped, even partly.
_OTHER_PERSON = re.compile(
    r"\b(emergency|spouse|accompany\w*|supervisor|assistant|focal|head of|invoice|billing|"
    r"nominat\w*|contact person|next of kin)\b"
)

_INDICO: dict[str, str] = {
    "id": "external_id",
    "name": "full_name",
    "first name": "given_name",
    "last name": "family_name",
    "email address": "email",
    "email": "email",
    "affiliation": "organisation",
    "position": "position",
    "country": "country",
    "phone": "phone",
    "phone number": "phone",
    "title": "honorific",
    "registration state": "registration_state",
}
_INDICO_MARKS: Final = frozenset(
    {"registration date", "registration state", "checked in", "check in date", "tags"}
)

_PRETIX: dict[str, str] = {
    "order code": "order_code",
    "position id": "position_id",
    "attendee name": "full_name",
    "attendee name given name": "given_name",
    "attendee name family name": "family_name",
    "attendee name title": "honorific",
    "attendee name salutation": "honorific",
    "attendee email": "email",
    "attendee e mail": "email",
    "company": "organisation",
    "country": "country",
    "phone number": "phone",
    "status": "registration_state",
    "comment": "notes",
}
# The order's (buyer's) e-mail; it stands in for the attendee's only in a one-person order.
_PRETIX_SECOND: dict[str, str] = {"email": "order_email", "e mail": "order_email"}
_PRETIX_MARKS: Final = frozenset(
    {"position id", "attendee name", "attendee email", "product", "variation", "order date"}
)

_HEADING_WORDS = re.compile(r"[^0-9a-z]+")
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")

_HONORIFICS: dict[str, str] = {
    "mr": "Mr",
    "mister": "Mr",
    "ms": "Ms",
    "mrs": "Mrs",
    "miss": "Miss",
    "mx": "Mx",
    "dr": "Dr",
    "doctor": "Dr",
    "prof": "Prof.",
    "professor": "Prof.",
    "assoc prof": "Assoc. Prof.",
    "asst prof": "Asst. Prof.",
    "prof dr": "Prof. Dr",
    "h e": "H.E.",
    "he": "H.E.",
    "hon": "Hon.",
    "honorable": "Hon.",
    "honourable": "Hon.",
    "atty": "Atty.",
    "engr": "Engr.",
    "eng": "Eng.",
    "sir": "Sir",
    "dame": "Dame",
    "dato": "Dato'",
    "datuk": "Datuk",
    "datin": "Datin",
    "tan sri": "Tan Sri",
    "rev": "Rev.",
    "fr": "Fr.",
    "sr": "Sr.",
    "ir": "Ir.",
}

# Category words, checked in this order so that "local resource person" is a resource person
# and "local participant" is local.
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vip", ("vip", "vvip", "guest of honour", "guest of honor", "dignitary", "dignitaries")),
    (
        "secretariat",
        ("secretariat", "staff", "organiser", "organizer", "organising", "organizing", "crew"),
    ),
    ("observer", ("observer", "observers")),
    (
        "resource_person",
        (
            "resource",
            "speaker",
            "speakers",
            "expert",
            "experts",
            "facilitator",
            "moderator",
            "panelist",
            "panellist",
            "keynote",
            "lecturer",
            "presenter",
            "rp",
        ),
    ),
    ("local_participant", ("local", "host country", "domestic")),
    (
        "participant",
        (
            "participant",
            "participants",
            "delegate",
            "delegates",
            "attendee",
            "attendees",
            "overseas",
            "international",
            "regular",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class ColumnGuess:
    """One column: its heading, the field it feeds (None: ignored) and how sure the guess is."""

    index: int
    heading: str
    field: str | None
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which column feeds which field; several columns may feed one field (first non-empty)."""

    columns: tuple[ColumnGuess, ...]
    source: Source

    def fields(self) -> dict[str, list[int]]:
        """Field -> column indices, best guess first."""
        ranked = sorted(
            (c for c in self.columns if c.field is not None),
            key=lambda c: (-c.confidence, c.index),
        )
        result: dict[str, list[int]] = {}
        for column in ranked:
            assert column.field is not None
            result.setdefault(column.field, []).append(column.index)
        return result

    def assign(self, index: int, field: str | None) -> ColumnMapping:
        """Return a copy where a person has set column `index` to `field` (None: ignore it)."""
        if field is not None and field not in ALL_FIELDS:
            raise ValueError(f"unknown field {field!r}")
        columns = tuple(
            replace(c, field=field, confidence=BY_HAND, reason="set by hand")
            if c.index == index
            else c
            for c in self.columns
        )
        return replace(self, columns=columns)

    @property
    def ignored(self) -> list[str]:
        """Headings of the columns that are not imported."""
        return [c.heading for c in self.columns if c.field is None and c.heading.strip()]

    @property
    def has_name(self) -> bool:
        """Whether any column gives a name (given, family or full)."""
        return any(c.field in NAME_FIELDS for c in self.columns)


def normalise_heading(text: str) -> str:
    """Fold a heading for comparison: "Given name(s)*" -> "given name"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    bare = bare.replace("(s)", "").replace("’", "'")
    words = _HEADING_WORDS.sub(" ", bare).split()
    # A leading number is list numbering ("3. Family name"), not part of the heading.
    if len(words) > 1 and words[0].isdigit():
        words = words[1:]
    return " ".join(words)


def _build_lookup() -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    for field, phrases in _SYNONYMS.items():
        for phrase in phrases:
            exact[phrase] = field
    # Longest phrases first so that "family name" wins over "name" in a partial match.
    # Words too loose to recognise inside a longer heading ("Office phone", "Last updated").
    loose = {"first", "last", "office", "department", "unit", "post", "reference", "cell"}
    partial = sorted(
        ((f" {p} ", f) for p, f in exact.items() if len(p) > 2 and p not in loose),
        key=lambda pair: -len(pair[0]),
    )
    return exact, partial


_EXACT, _PARTIAL = _build_lookup()


def match_heading(heading: str) -> tuple[str, float, str] | None:
    """The field a heading names on its own, with confidence and reason; None if unknown.

    Headings decided by values ("Title", "Role") and a bare "Name" report their most usual
    meaning here; `guess_mapping` refines them.
    """
    key = normalise_heading(heading)
    if not key or len(key) > 80 or _OTHER_PERSON.search(key):
        return None
    if key in _EXACT:
        return _EXACT[key], HEADING, f"heading {heading.strip()!r}"
    if key in _SECOND_CHOICES:
        return _SECOND_CHOICES[key], SECOND_CHOICE, f"heading {heading.strip()!r}"
    if key in _BARE_NAME:
        return "full_name", HEADING, "heading 'Name'"
    if key in _BY_VALUES:
        return ("honorific" if key == "title" else "category"), BY_VALUES, "decided by values"
    # A qualifier in brackets ("Mobile (with country code)") must not decide the field.
    for text in (_PARENTHESES.sub(" ", heading), heading):
        padded = f" {normalise_heading(text)} "
        for phrase, field in _PARTIAL:
            if phrase in padded:
                return field, PARTIAL, f"heading contains {phrase.strip()!r}"
        if " name " in padded or padded.startswith(" names "):
            return "full_name", PARTIAL, "heading contains 'name'"
    return None


def header_score(cells: Sequence[str]) -> tuple[float, bool]:
    """How much a row looks like a heading row: (score, whether it has a name column)."""
    score = 0.0
    has_name = False
    seen: set[str] = set()
    for cell in cells[:200]:
        if not cell or len(cell) > 80:
            continue
        found = match_heading(cell)
        if found is None:
            continue
        field, confidence, _ = found
        if field in seen:
            continue
        seen.add(field)
        score += 1.0 if confidence >= BY_VALUES else 0.5
        has_name = has_name or field in NAME_FIELDS
    return score, has_name


def detect_source(headers: Sequence[str]) -> Source:
    """Tell an Indico registrant export or a pretix order export from any other list."""
    keys = {normalise_heading(h) for h in headers}
    if "order code" in keys and keys & _PRETIX_MARKS:
        return "pretix"
    if "id" in keys and "name" in keys and (keys & _INDICO_MARKS or "email address" in keys):
        return "indico"
    return "generic"


def honorific_of(value: str) -> str | None:
    """The usual spelling of an honorific ("MR." -> "Mr"), or None if the value is not one."""
    return _HONORIFICS.get(normalise_heading(value))


def category_of(value: str) -> str | None:
    """The category a word means ("Resource Speaker" -> "resource_person"), or None."""
    key = normalise_heading(value).replace("_", " ")
    if not key:
        return None
    if key.replace(" ", "_") in CATEGORIES:
        return key.replace(" ", "_")
    words = f" {key} "
    for category, keywords in _CATEGORY_WORDS:
        if any(f" {word} " in words for word in keywords):
            return category
    return None


def _share(
    samples: Sequence[Sequence[str]], index: int, test: Callable[[str], str | None]
) -> float:
    """Share of the non-empty sample values in a column for which `test` gives non-None."""
    values = [row[index].strip() for row in samples if index < len(row) and row[index].strip()]
    if not values:
        return 0.0
    return sum(1 for v in values if test(v) is not None) / len(values)


def guess_mapping(
    headers: Sequence[str], samples: Sequence[Sequence[str]] = (), *, min_share: float = 0.5
) -> ColumnMapping:
    """Guess the field of every column from its heading, and from sample rows where ambiguous.

    `samples` are the first data rows (cells in column order); `min_share` is the share of
    values that must look like honorifics or categories to settle an ambiguous heading.
    """
    source = detect_source(headers)
    guesses: list[ColumnGuess] = []
    for index, heading in enumerate(headers):
        key = normalise_heading(heading)
        guess = ColumnGuess(index, heading, None, 0.0, "unknown heading" if key else "no heading")
        if source == "indico" and key in _INDICO:
            guess = replace(
                guess, field=_INDICO[key], confidence=EXPORT_HEADING, reason="Indico export"
            )
        elif source == "pretix" and key in _PRETIX:
            guess = replace(
                guess, field=_PRETIX[key], confidence=EXPORT_HEADING, reason="pretix export"
            )
        elif source == "pretix" and key in _PRETIX_SECOND:
            guess = replace(
                guess,
                field=_PRETIX_SECOND[key],
                confidence=EXPORT_HEADING,
                reason="pretix order e-mail",
            )
        elif source == "pretix" and key.startswith(("invoice address", "attendee address")):
            guess = replace(guess, reason="pretix address column")
        else:
            found = match_heading(heading)
            if found is not None:
                field, confidence, reason = found
                guess = replace(guess, field=field, confidence=confidence, reason=reason)
        guesses.append(guess)

    mapped = {g.field for g in guesses if g.field is not None}
    decided: list[ColumnGuess] = []
    for guess in guesses:
        key = normalise_heading(guess.heading)
        if guess.confidence == BY_VALUES and key in _BY_VALUES:
            guess = _decide_by_values(guess, key, samples, mapped, min_share)
        elif (
            key in _BARE_NAME
            and source == "generic"
            and "family_name" in mapped
            and "given_name" not in mapped
        ):
            guess = replace(guess, field="given_name", reason="'Name' beside a family name")
        decided.append(guess)
    return ColumnMapping(tuple(decided), source)


def _decide_by_values(
    guess: ColumnGuess,
    key: str,
    samples: Sequence[Sequence[str]],
    mapped: set[str],
    min_share: float,
) -> ColumnGuess:
    if key == "title":
        if _share(samples, guess.index, honorific_of) >= min_share:
            return replace(guess, field="honorific", reason="values are honorifics (Mr, Dr…)")
        confidence = BY_VALUES if "position" not in mapped else PARTIAL
        return replace(
            guess, field="position", confidence=confidence, reason="values are job titles"
        )
    if _share(samples, guess.index, category_of) >= min_share:
        return replace(guess, field="category", reason="values are categories")
    if key == "role" and "position" not in mapped:
        return replace(guess, field="position", reason="values are not categories")
    return replace(guess, field=None, confidence=0.0, reason="values are not categories")
