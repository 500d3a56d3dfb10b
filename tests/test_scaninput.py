"""Scan-field input: scanner endings and prefixes, Caps Lock, classification, fuzzing."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.keys import public_bytes
from desktop.scaninput import classify, clean_scan_input, truncate_raw
from desktop.tokens import TokenCheck, make_token, short_code, verify_token

EVENT = uuid.UUID("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b")
ATTENDEE = uuid.UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = {1: public_bytes(KEY)}
TOKEN = make_token(KEY, 1, EVENT, ATTENDEE, 0)
KINDS = {"token", "short_code", "search", "empty"}


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "\t", "  ", "\r\n\r\n", " \t\n"])
def test_scanner_line_endings_are_stripped(ending: str) -> None:
    assert clean_scan_input(TOKEN + ending) == TOKEN
    assert clean_scan_input(ending + TOKEN + ending) == TOKEN


@pytest.mark.parametrize("aim", ["]Q1", "]Q3", "]C1", "]d2", "]E0", "]z0", "]q1"])
def test_aim_symbology_identifiers_are_stripped(aim: str) -> None:
    cleaned = clean_scan_input(aim + TOKEN + "\r\n")
    assert cleaned == TOKEN
    assert verify_token(cleaned, KEYS, EVENT)[0] is TokenCheck.VALID


def test_aim_identifier_only_at_the_start() -> None:
    assert clean_scan_input("Maria ]Q1 Santos") == "MARIA ]Q1 SANTOS"
    assert clean_scan_input("]") == "]"


@pytest.mark.parametrize("junk", ["+Q1", "$Q1", "\x02", "\x02]Q1", "#", "]Q1\x1d"])
def test_short_junk_before_a_token_is_dropped(junk: str) -> None:
    assert clean_scan_input(junk + TOKEN + "\x03\r") == TOKEN


def test_junk_is_not_dropped_from_ordinary_text() -> None:
    assert clean_scan_input("abEVD1!") == "ABEVD1!"
    assert clean_scan_input("Dr EVD1" + "A" * 10) == "DR EVD1" + "A" * 10


def test_caps_lock_lower_case_token_verifies_after_cleaning() -> None:
    assert verify_token(TOKEN.lower(), KEYS, EVENT)[0] is TokenCheck.INVALID
    cleaned = clean_scan_input(TOKEN.lower() + "\n")
    assert verify_token(cleaned, KEYS, EVENT)[0] is TokenCheck.VALID
    mixed = "".join(c.lower() if i % 2 else c for i, c in enumerate(TOKEN))
    assert verify_token(clean_scan_input(mixed), KEYS, EVENT)[0] is TokenCheck.VALID


def test_control_and_invisible_characters_are_removed() -> None:
    assert clean_scan_input("\ufeffOI-4K7Q\x00") == "OI-4K7Q"
    assert clean_scan_input("O\u200bI-4K\u00ad7Q") == "OI-4K7Q"
    assert clean_scan_input("\u200fMaria\u202a Santos\u202c") == "MARIA SANTOS"
    assert clean_scan_input("\x1b[A\x7fX") == "[AX"


def test_inner_whitespace_collapses_and_joiners_stay() -> None:
    assert clean_scan_input("  maria \t\n  santos ") == "MARIA SANTOS"
    # ZWNJ is part of how some scripts (Persian, Indic) spell names.
    assert clean_scan_input("\u0645\u06cc\u200c\u0631") == "\u0645\u06cc\u200c\u0631"


def test_full_width_input_is_folded() -> None:
    assert clean_scan_input("\uff4f\uff49\uff0d\uff14\uff4b\uff17\uff51") == "OI-4K7Q"


def test_names_in_other_scripts_survive() -> None:
    assert clean_scan_input("josé rizal") == "JOSÉ RIZAL"
    assert clean_scan_input("山田 太郎") == "山田 太郎"
    assert clean_scan_input("김민준") == "김민준"


def test_max_len_is_respected() -> None:
    assert len(clean_scan_input("A" * 10_000)) == 512
    assert clean_scan_input("ab cd", max_len=3) == "AB"
    assert clean_scan_input(" " * 5000 + "x") == ""  # absurd padding is cut before reading


def test_lone_surrogates_do_not_survive() -> None:
    cleaned = clean_scan_input("\ud800abc\udfff")
    assert cleaned == "ABC"
    cleaned.encode("utf-8")


@settings(max_examples=500)
@given(st.text(), st.integers(min_value=1, max_value=600))
def test_clean_never_raises_and_output_is_tidy(raw: str, max_len: int) -> None:
    cleaned = clean_scan_input(raw, max_len)
    assert len(cleaned) <= max_len
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in cleaned)
    cleaned.encode("utf-8")


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(categories=["Cs", "Cc", "Zs", "Lu"])))
def test_clean_handles_surrogates_and_controls(raw: str) -> None:
    cleaned = clean_scan_input(raw)
    cleaned.encode("utf-8")
    assert classify(raw) in KINDS


# --- truncate_raw ------------------------------------------------------------------------


def test_truncate_raw_escapes_controls() -> None:
    assert truncate_raw("]Q1EVD1ABC\r\n") == "]Q1EVD1ABC\\r\\n"
    assert truncate_raw("a\tb\x1dc\x00") == "a\\tb\\x1dc\\x00"
    assert truncate_raw("back\\slash") == "back\\\\slash"
    assert truncate_raw("zw\u200bsp\ud800") == "zw\\u200bsp\\ud800"
    assert truncate_raw("José 山田") == "José 山田"


def test_truncate_raw_limits_length_with_ellipsis() -> None:
    assert truncate_raw("x" * 300) == "x" * 255 + "…"
    assert truncate_raw("x" * 256) == "x" * 256
    assert truncate_raw("abcdef", limit=4) == "abc…"
    # An escape is never cut in half.
    assert truncate_raw("ab\x00\x00", limit=7) == "ab\\x00…"


def test_truncate_raw_rejects_a_useless_limit() -> None:
    with pytest.raises(ValueError):
        truncate_raw("abc", limit=0)


@settings(max_examples=500)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_truncate_raw_is_printable_and_bounded(raw: str, limit: int) -> None:
    stored = truncate_raw(raw, limit)
    assert len(stored) <= limit
    assert all(c.isprintable() for c in stored)
    stored.encode("utf-8")
    if len(raw) <= limit and raw.isprintable() and "\\" not in raw:
        assert stored == raw


# --- classify ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        TOKEN,
        TOKEN + "\r\n",
        TOKEN.lower(),
        "]Q1" + TOKEN,
        "EVD1",
        "EVD1GARBAGE",
        "]Q1hello",  # something a scanner read that is not ours
        "https://example.org/ticket/123",
        "X" * 80,
    ],
)
def test_tokens_and_other_scanned_codes(raw: str) -> None:
    assert classify(raw) == "token"


@pytest.mark.parametrize(
    "raw",
    ["OI-4K7Q", "oi-4k7q", "oi4k7q", "0I-4K7Q", "OI 4K7Q", "OI-KXQR\r\n", "OI-O1IL"],
)
def test_short_codes(raw: str) -> None:
    assert classify(raw) == "short_code"
    assert classify(raw, prefix="OI") == "short_code"


def test_generated_short_codes_classify_as_short_codes() -> None:
    for i in range(200):
        code = short_code("OI", uuid.UUID(int=i))
        assert classify(code) == "short_code"
        assert classify(code.lower()) == "short_code"


@pytest.mark.parametrize(
    "raw",
    ["Maria Santos", "santos", "OIKAWA", "Oikawa", "José", "山田 太郎", "maria@example.org", "42"],
)
def test_name_searches(raw: str) -> None:
    assert classify(raw) == "search"
    assert classify(raw, prefix="OI") == "search"


def test_known_prefix_sorts_hyphenated_names_from_codes() -> None:
    assert classify("Al-Amin") == "short_code"
    assert classify("Al-Amin", prefix="OI") == "search"
    assert classify("4K7Q", prefix="OI") == "short_code"
    assert classify("ANNA", prefix="OI") == "search"


@pytest.mark.parametrize("raw", ["", " ", "\r\n", "\t\t", "\x00\x02", "]Q1\r\n", "\ufeff"])
def test_empty(raw: str) -> None:
    assert classify(raw) == "empty"


@settings(max_examples=500)
@given(st.text(), st.sampled_from([None, "OI", "APO24"]))
def test_classify_never_raises(raw: str, prefix: str | None) -> None:
    kind = classify(raw, prefix)
    assert kind in KINDS
    assert (kind == "empty") == (clean_scan_input(raw) == "")
