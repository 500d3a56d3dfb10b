"""Tests for the demo event data and the synthetic attendee generator."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pycountry
import pytest

from desktop.demo_data import (
    ATTENDEE_KEYS,
    CATEGORIES,
    DEMO_EVENT,
    demo_attendees,
    demo_sessions,
    synthetic_attendees,
)

# APO members other than the host, written out here so the test does not trust the module.
OVERSEAS = {
    "BD", "KH", "TW", "FJ", "IN", "ID", "IR", "JP", "KR", "LA",
    "MY", "MN", "NP", "PK", "SG", "LK", "TH", "TR", "VN",
}  # fmt: skip
NOTICE_TOPICS = [
    "Understanding Open Innovation",
    "Building a Culture of Open Innovation for Public Sector Organizations",
    "Collaborative Innovation Platforms",
    "Best Practices and Case Studies in Open Innovation Management",
]
HONORIFICS = {"Dr.", "Mr.", "Ms.", "Prof.", "Hon.", "Engr.", "Atty."}
EMAIL = re.compile(r"^[a-z0-9](?:[a-z0-9-]|\.(?!\.))*[a-z0-9]@example\.(?:com|org|net)$")
PHONE = re.compile(r"^\+\d{1,3} (?:2 )?5555 \d{4}$")

# Unicode blocks of the scripts that native names may use.
SCRIPTS = {
    "Arabic": (0x0600, 0x06FF),
    "Bengali": (0x0980, 0x09FF),
    "Cyrillic": (0x0400, 0x04FF),
    "Devanagari": (0x0900, 0x097F),
    "Han": (0x4E00, 0x9FFF),
    "Hangul": (0xAC00, 0xD7AF),
    "Hiragana": (0x3040, 0x309F),
    "Khmer": (0x1780, 0x17FF),
    "Lao": (0x0E80, 0x0EFF),
    "Malayalam": (0x0D00, 0x0D7F),
    "Sinhala": (0x0D80, 0x0DFF),
    "Tamil": (0x0B80, 0x0BFF),
    "Thai": (0x0E00, 0x0E7F),
}
ALLOWED_SCRIPTS = {
    "BD": {"Bengali"},
    "IN": {"Devanagari", "Tamil", "Malayalam"},
    "IR": {"Arabic"},
    "JP": {"Han", "Hiragana"},
    "KH": {"Khmer"},
    "KR": {"Hangul"},
    "LA": {"Lao"},
    "LK": {"Sinhala", "Tamil"},
    "MN": {"Cyrillic"},
    "MY": {"Han", "Tamil"},
    "NP": {"Devanagari"},
    "PK": {"Arabic"},
    "SG": {"Han", "Tamil"},
    "TH": {"Thai"},
    "TW": {"Han"},
}
# Zero-width joiner (Sinhala conjuncts), space and hyphen belong to no one script.
NEUTRAL = {"\u200d", " ", "-"}


def scripts_of(text: str) -> set[str]:
    """Name the scripts of ``text``; an unknown character fails the calling test."""
    found = set()
    for char in text:
        if char in NEUTRAL:
            continue
        names = [name for name, (lo, hi) in SCRIPTS.items() if lo <= ord(char) <= hi]
        assert names, f"{char!r} (U+{ord(char):04X}) in {text!r} is in no expected script"
        found.add(names[0])
    return found


def capitals(text: str, country: str) -> str:
    """Upper-case as the language does: Turkish keeps the dot on a capital İ."""
    return (text.replace("i", "İ") if country == "TR" else text).upper()


def by_family(attendees: list[dict[str, str]], family: str) -> dict[str, str]:
    (match,) = [person for person in attendees if person["family_name"] == family]
    return match


# --- event and programme ----------------------------------------------------------------


def test_event_matches_the_notice() -> None:
    assert DEMO_EVENT["code"] == "OI24"
    assert DEMO_EVENT["project_code"] == "24-IP-02-GE-CON-A"
    assert DEMO_EVENT["organiser"] == "Development Academy of the Philippines"
    assert DEMO_EVENT["country"] == "PH" and pycountry.countries.get(alpha_2="PH") is not None
    assert DEMO_EVENT["city"] == "Manila"
    assert "Pasig City" in DEMO_EVENT["venue"]
    assert (DEMO_EVENT["starts_on"], DEMO_EVENT["ends_on"]) == ("2024-08-28", "2024-08-29")
    assert ZoneInfo(DEMO_EVENT["timezone"]).key == "Asia/Manila"


def test_sessions_are_well_formed_and_inside_the_event() -> None:
    sessions = demo_sessions()
    first = date.fromisoformat(DEMO_EVENT["starts_on"])
    last = date.fromisoformat(DEMO_EVENT["ends_on"])
    assert len({s["key"] for s in sessions}) == len(sessions)
    for s in sessions:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", s["key"])
        start = datetime.fromisoformat(s["starts_at"])
        end = datetime.fromisoformat(s["ends_at"])
        assert start.tzinfo is None and end.tzinfo is None
        assert start < end and start.date() == end.date()
        assert s["day"] == start.date().isoformat()
        assert first <= start.date() <= last
        assert isinstance(s["capacity"], int) and s["capacity"] > 0
        assert isinstance(s["counts_for_certificate"], bool)
        assert set(s["categories"]) <= set(CATEGORIES)
    assert {s["day"] for s in sessions} == {"2024-08-28", "2024-08-29"}


def test_programme_covers_every_topic_and_the_fixed_sessions() -> None:
    sessions = demo_sessions()
    counting = [s for s in sessions if s["counts_for_certificate"]]
    for topic in NOTICE_TOPICS:
        assert any(s["topic"] == topic and topic in s["title"] for s in counting), topic
    titles = [s["title"].lower() for s in sessions]
    assert any("opening" in t for t in titles) and any("closing" in t for t in titles)
    registrations = [s for s in sessions if "registration" in s["title"].lower()]
    assert registrations and not any(s["counts_for_certificate"] for s in registrations)


def test_some_sessions_admit_only_some_categories() -> None:
    restricted = [s for s in demo_sessions() if s["categories"]]
    assert restricted
    briefing = [s for s in restricted if "resource_person" in s["categories"]]
    assert any("participant" not in s["categories"] for s in briefing)


def test_rooms_are_not_double_booked_and_plenary_is_largest() -> None:
    sessions = demo_sessions()
    by_room: dict[str, list[tuple[str, str]]] = {}
    for s in sessions:
        by_room.setdefault(s["room"], []).append((s["starts_at"], s["ends_at"]))
    for room, slots in by_room.items():
        slots.sort()
        for (_, end), (start, _) in itertools.pairwise(slots):
            assert end <= start, f"{room} is double-booked"
    plenary = {s["capacity"] for s in sessions if s["room"] == "Plenary Hall"}
    rooms = {s["capacity"] for s in sessions if s["room"].startswith("Function Room")}
    assert plenary == {150} and rooms and max(rooms) < 150


def test_every_counting_session_can_seat_everyone_it_admits() -> None:
    attendees = demo_attendees()
    for s in demo_sessions():
        if not s["counts_for_certificate"]:
            continue
        admitted = [a for a in attendees if not s["categories"] or a["category"] in s["categories"]]
        assert s["capacity"] >= len(admitted), s["key"]


# --- demo attendees ---------------------------------------------------------------------


def test_attendee_records_have_exactly_the_agreed_string_fields() -> None:
    attendees = demo_attendees()
    assert len(attendees) == 130
    for person in attendees:
        assert tuple(person) == ATTENDEE_KEYS
        assert all(isinstance(value, str) for value in person.values())
        assert person["given_name"] and person["badge_name"] and person["organisation"]
        assert person["gender"] in {"female", "male"}
        assert person["honorific"] in HONORIFICS
        assert person["category"] in CATEGORIES


def test_composition_follows_the_notice() -> None:
    attendees = demo_attendees()
    countries = Counter(a["country"] for a in attendees)
    assert countries["PH"] == 30
    assert sum(n for c, n in countries.items() if c != "PH") == 100
    assert set(countries) - {"PH"} <= OVERSEAS
    assert len(set(countries) - {"PH"}) >= 15
    for code in countries:
        assert pycountry.countries.get(alpha_2=code) is not None, code


def test_participant_categories_follow_the_documented_count_rule() -> None:
    attendees = demo_attendees()
    categories = Counter(a["category"] for a in attendees)
    for person in attendees:
        if person["category"] == "participant":
            assert person["country"] != "PH"
        if person["category"] == "local_participant":
            assert person["country"] == "PH"
    assert categories["local_participant"] >= 20
    resource = [a for a in attendees if a["category"] == "resource_person"]
    assert 4 <= len(resource) <= 8 and len({a["country"] for a in resource}) >= 3
    assert 2 <= categories["observer"] <= 5
    assert 1 <= categories["vip"] <= 2
    secretariat = [a for a in attendees if a["category"] == "secretariat"]
    assert any(
        a["country"] == "PH" and a["organisation"] == "Development Academy of the Philippines"
        for a in secretariat
    )
    assert any("Asian Productivity Organization" in a["organisation"] for a in secretariat)


def test_emails_are_valid_unique_and_fictional() -> None:
    emails = [a["email"] for a in demo_attendees()]
    assert len(set(emails)) == len(emails)
    for email in emails:
        assert EMAIL.match(email), email
        assert len(email.split("@")[0]) <= 64


def test_phones_are_fictional_or_absent() -> None:
    phones = [a["phone"] for a in demo_attendees()]
    assert "" in phones
    for phone in filter(None, phones):
        assert PHONE.match(phone), phone
    assert all(p.startswith("+63 2 5555 01") for a, p in zip(demo_attendees(), phones, strict=True)
               if p and a["country"] == "PH")  # fmt: skip


def test_all_text_is_nfc_normalised() -> None:
    for person in demo_attendees():
        for value in person.values():
            assert unicodedata.is_normalized("NFC", value), value


def test_native_names_cover_many_scripts_in_the_right_countries() -> None:
    seen: set[str] = set()
    for person in demo_attendees():
        native = person["native_name"]
        if not native:
            continue
        assert not re.search(r"[A-Za-z]", native), native
        scripts = scripts_of(native)
        assert scripts <= ALLOWED_SCRIPTS[person["country"]], (native, person["country"])
        seen |= scripts
    assert len(seen) >= 8, seen


def test_latin_script_economies_have_no_native_name() -> None:
    for person in demo_attendees():
        if person["country"] in {"VN", "TR", "ID", "PH", "FJ"}:
            assert person["native_name"] == ""


def test_persian_and_traditional_chinese_forms() -> None:
    attendees = demo_attendees()
    persian = [a["native_name"] for a in attendees if a["country"] == "IR"]
    # Persian writes its own yeh and keheh, not the Arabic letters.
    assert persian and not any(ch in name for name in persian for ch in "\u064a\u0643")
    taiwanese = "".join(a["native_name"] for a in attendees if a["country"] == "TW")
    assert taiwanese and not set(taiwanese) & set("陈伟黄吴张刘杨丽仪许")


def test_latin_names_keep_their_diacritics() -> None:
    attendees = demo_attendees()

    def names(country: str) -> str:
        return " ".join(
            f"{a['given_name']} {a['family_name']}" for a in attendees if a["country"] == country
        )

    assert set("ễầạặọũơư") & set(names("VN"))
    assert len(set("şğıİçöü") & set(names("TR"))) >= 4
    assert "ñ" in names("PH").lower()


def test_badge_names_follow_the_documented_convention() -> None:
    attendees = demo_attendees()
    assert by_family(attendees, "Nguyễn")["badge_name"] == "Lan NGUYỄN"
    assert by_family(attendees, "Saitō")["badge_name"] == "SAITŌ Takuya"
    assert by_family(attendees, "Kim")["badge_name"] == "KIM Eun-ji"
    assert by_family(attendees, "Şahin")["badge_name"] == "İbrahim ŞAHİN"
    assert by_family(attendees, "Ahmad")["badge_name"] == "Nurul Aina binti AHMAD"
    assert by_family(attendees, "Gantulga")["badge_name"] == "Bat-Erdene GANTULGA"
    assert by_family(attendees, "Sharma")["badge_name"] == "Pooja SHARMA"
    for person in attendees:
        given, family, badge = person["given_name"], person["family_name"], person["badge_name"]
        if family:
            assert capitals(family, person["country"]) in badge
            assert any(word in badge.split() for word in given.split())
        else:
            assert badge == given


def test_edge_cases_for_layout_are_present() -> None:
    attendees = demo_attendees()
    mononyms = [a for a in attendees if not a["family_name"]]
    assert mononyms and all(a["country"] == "ID" for a in mononyms)
    assert max(len(a["badge_name"]) for a in attendees) >= 50
    assert max(len(a["organisation"]) for a in attendees) >= 80


def test_demo_data_is_the_same_on_every_call_and_not_shared() -> None:
    first = demo_attendees()
    assert first == demo_attendees()
    first[0]["given_name"] = "Changed"
    assert demo_attendees()[0]["given_name"] != "Changed"
    sessions = demo_sessions()
    assert sessions == demo_sessions()
    sessions[1]["categories"].append("observer")
    assert "observer" not in demo_sessions()[1]["categories"]


# --- synthetic attendees ----------------------------------------------------------------


def test_synthetic_count_and_shape() -> None:
    people = list(synthetic_attendees(3000, seed=1))
    assert len(people) == 3000
    assert list(synthetic_attendees(0)) == []
    for person in people:
        assert tuple(person) == ATTENDEE_KEYS
        assert all(isinstance(value, str) for value in person.values())
        assert person["country"] in OVERSEAS | {"PH"}
        assert person["category"] in CATEGORIES
        assert person["gender"] in {"female", "male"}
        assert person["honorific"] in HONORIFICS
        assert not person["phone"] or PHONE.match(person["phone"])
        if person["native_name"]:
            assert scripts_of(person["native_name"]) <= ALLOWED_SCRIPTS[person["country"]]


def test_synthetic_is_deterministic_per_seed() -> None:
    assert list(synthetic_attendees(500, seed=7)) == list(synthetic_attendees(500, seed=7))
    assert list(synthetic_attendees(500, seed=7)) != list(synthetic_attendees(500, seed=8))
    # A shorter run is the start of a longer one with the same seed.
    assert list(synthetic_attendees(100, seed=7)) == list(synthetic_attendees(500, seed=7))[:100]


def test_synthetic_benchmark_size_has_unique_valid_emails() -> None:
    people = list(synthetic_attendees(100_000))
    assert len(people) == 100_000
    emails = [p["email"] for p in people]
    assert len(set(emails)) == 100_000
    assert all(EMAIL.match(e) for e in emails)
    assert not set(emails) & {a["email"] for a in demo_attendees()}
    countries = Counter(p["country"] for p in people)
    assert set(countries) == OVERSEAS | {"PH"}
    assert 0.18 < countries["PH"] / len(people) < 0.28
    assert sum(1 for p in people if p["native_name"]) > 30_000
    assert any(not p["family_name"] for p in people)


def test_synthetic_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        list(synthetic_attendees(-1))
