"""Badge tokens and short codes: round trips, every failure class, bit flips, fuzzing."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop import tokens
from desktop.keys import generate_signing_key, public_bytes
from desktop.tokens import (
    CROCKFORD,
    TOKEN_LEN,
    TokenCheck,
    make_token,
    normalise_short_code,
    short_code,
    verify_token,
)

EVENT = uuid.UUID("0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b")
OTHER_EVENT = uuid.UUID("7f00aa11-2233-4455-8677-8899aabbccdd")
ATTENDEE = uuid.UUID("3f2504e0-4f89-41d3-9a0c-0305e82c3301")
# Characters a QR code's alphanumeric mode can carry.
QR_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]+")
SHORT_CODE_RE = re.compile(r"[A-Z0-9]{1,6}-[0-9A-HJKMNP-TV-Z]{4}")

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEYS = {1: public_bytes(KEY)}


def _token(**changes: object) -> str:
    args: dict[str, object] = {
        "private_key": KEY,
        "key_id": 1,
        "event_id": EVENT,
        "attendee_id": ATTENDEE,
        "badge_seq": 0,
    }
    args.update(changes)
    return make_token(**args)  # type: ignore[arg-type]


def _raw(token: str) -> bytes:
    body = token[4:]
    return base64.b32decode(body + "=" * (-len(body) % 8))


def _encode(raw: bytes) -> str:
    return "EVD1" + base64.b32encode(raw).decode("ascii").rstrip("=")


def test_round_trip_carries_every_field() -> None:
    token = _token(badge_seq=3)
    check, info = verify_token(token, KEYS, EVENT)
    assert check is TokenCheck.VALID
    assert info is not None
    assert info.version == 1
    assert info.key_id == 1
    assert info.event_prefix == EVENT.bytes[:4]
    assert info.attendee_id == ATTENDEE
    assert info.badge_seq == 3


def test_token_shape_suits_qr_alphanumeric_mode() -> None:
    token = _token()
    assert token.startswith("EVD1")
    assert len(token) == TOKEN_LEN == 144
    assert "=" not in token
    assert token == token.upper()
    assert QR_ALPHANUMERIC.fullmatch(token)
    assert len(_raw(token)) == 23 + 64


def test_payload_layout_is_as_designed() -> None:
    raw = _raw(_token(key_id=7, badge_seq=9))
    assert raw[0] == 1
    assert raw[1] == 7
    assert raw[2:6] == EVENT.bytes[:4]
    assert raw[6:22] == ATTENDEE.bytes
    assert raw[22] == 9
    KEY.public_key().verify(raw[23:], raw[:23])  # raises if the signature is not over payload


def test_same_inputs_give_same_token() -> None:
    # Ed25519 is deterministic, so reprinting a badge yields the identical QR code.
    assert _token() == _token()
    assert _token() != _token(attendee_id=uuid.uuid4())


def test_revocation_data_is_the_badge_sequence() -> None:
    old, new = _token(badge_seq=0), _token(badge_seq=1)
    old_check, old_info = verify_token(old, KEYS, EVENT)
    new_check, new_info = verify_token(new, KEYS, EVENT)
    # Both are genuine; the caller compares badge_seq with the attendee's current one.
    assert old_check is new_check is TokenCheck.VALID
    assert old_info is not None and new_info is not None
    assert (old_info.badge_seq, new_info.badge_seq) == (0, 1)
    assert old_info.attendee_id == new_info.attendee_id


def test_several_keys_are_told_apart_by_key_id() -> None:
    keys = {1: public_bytes(KEY), 2: public_bytes(OTHER_KEY)}
    check, info = verify_token(_token(private_key=OTHER_KEY, key_id=2), keys, EVENT)
    assert check is TokenCheck.VALID
    assert info is not None and info.key_id == 2
    wrong_id = _token(private_key=OTHER_KEY, key_id=1)
    assert verify_token(wrong_id, keys, EVENT) == (TokenCheck.FORGED, None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "EVD1",
        "Maria Santos",
        "OI-4K7Q",
        "https://example.org/badge",
        "EVD2" + "A" * 140,
        "EVD1" + "A" * 139,
        "EVD1" + "A" * 141,
        "EVD1" + "1" * 140,  # 1 and 8 are not in the RFC 4648 alphabet
        "EVD1" + "8" * 140,
        "EVD1" + "=" * 140,
        " EVD1" + "A" * 139,
        "EVD1" + "\u0410" * 140,  # Cyrillic A
    ],
)
def test_malformed_text_is_invalid(text: str) -> None:
    assert verify_token(text, KEYS, EVENT) == (TokenCheck.INVALID, None)


def test_wrong_length_truncated_or_extended_is_invalid() -> None:
    token = _token()
    assert verify_token(token[:-1], KEYS, EVENT)[0] is TokenCheck.INVALID
    assert verify_token(token + "A", KEYS, EVENT)[0] is TokenCheck.INVALID
    assert verify_token(token + "\n", KEYS, EVENT)[0] is TokenCheck.INVALID


def test_only_the_canonical_spelling_is_accepted() -> None:
    token = _token()
    # Lower case is cleaned by scaninput first; verify_token itself wants canonical text.
    assert verify_token(token.lower(), KEYS, EVENT)[0] is TokenCheck.INVALID
    # The last character carries one data bit and four unused bits that must be zero.
    assert token[-1] in "AQ"
    sloppy = token[:-1] + ("B" if token[-1] == "A" else "R")
    assert _raw(sloppy) == _raw(token)  # the standard decoder does not notice ...
    assert verify_token(sloppy, KEYS, EVENT)[0] is TokenCheck.INVALID  # ... but we do


def test_non_string_input_is_invalid() -> None:
    assert verify_token(None, KEYS, EVENT) == (TokenCheck.INVALID, None)  # type: ignore[arg-type]
    token = _token().encode()
    assert verify_token(token, KEYS, EVENT) == (TokenCheck.INVALID, None)  # type: ignore[arg-type]


def test_unknown_version_is_invalid_even_if_signed() -> None:
    raw = bytearray(_raw(_token()))
    raw[0] = 2
    raw[23:] = KEY.sign(bytes(raw[:23]))
    assert verify_token(_encode(bytes(raw)), KEYS, EVENT) == (TokenCheck.INVALID, None)


def test_signed_with_another_key_is_forged() -> None:
    forged = _token(private_key=OTHER_KEY)
    assert verify_token(forged, KEYS, EVENT) == (TokenCheck.FORGED, None)


def test_altered_attendee_is_forged() -> None:
    raw = bytearray(_raw(_token()))
    raw[6:22] = uuid.UUID(int=1).bytes
    assert verify_token(_encode(bytes(raw)), KEYS, EVENT) == (TokenCheck.FORGED, None)


def test_raised_badge_sequence_without_key_is_forged() -> None:
    raw = bytearray(_raw(_token(badge_seq=1)))
    raw[22] = 2
    assert verify_token(_encode(bytes(raw)), KEYS, EVENT) == (TokenCheck.FORGED, None)


def test_unknown_key_id_for_this_event_is_forged() -> None:
    token = _token(private_key=OTHER_KEY, key_id=9)
    assert verify_token(token, KEYS, EVENT) == (TokenCheck.FORGED, None)


def test_genuine_token_of_another_event_is_wrong_event() -> None:
    token = _token(event_id=OTHER_EVENT)
    assert verify_token(token, KEYS, EVENT) == (TokenCheck.WRONG_EVENT, None)
    assert verify_token(token, KEYS, OTHER_EVENT)[0] is TokenCheck.VALID


def test_other_event_with_unknown_key_is_wrong_event_not_forged() -> None:
    # We cannot know another event's keys, so we do not accuse its badge of forgery.
    token = _token(private_key=OTHER_KEY, key_id=5, event_id=OTHER_EVENT)
    assert verify_token(token, KEYS, EVENT) == (TokenCheck.WRONG_EVENT, None)
    assert verify_token(token, {}, EVENT) == (TokenCheck.WRONG_EVENT, None)


def test_no_keys_at_all_cannot_validate() -> None:
    assert verify_token(_token(), {}, EVENT) == (TokenCheck.FORGED, None)


def test_broken_public_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="public key 1"):
        verify_token(_token(), {1: b"short"}, EVENT)


def test_public_key_objects_are_cached() -> None:
    tokens._load_public_key.cache_clear()
    token = _token()
    for _ in range(5):
        assert verify_token(token, KEYS, EVENT)[0] is TokenCheck.VALID
    info = tokens._load_public_key.cache_info()
    assert info.misses == 1
    assert info.hits == 4


def test_key_id_accepts_bytearray_public_key() -> None:
    keys = {1: bytearray(public_bytes(KEY))}
    assert verify_token(_token(), keys, EVENT)[0] is TokenCheck.VALID  # type: ignore[arg-type]


@pytest.mark.parametrize(("key_id", "seq"), [(-1, 0), (256, 0), (1, -1), (1, 256)])
def test_make_token_rejects_out_of_range_bytes(key_id: int, seq: int) -> None:
    with pytest.raises(ValueError):
        _token(key_id=key_id, badge_seq=seq)


def test_every_bit_flip_of_the_data_is_refused() -> None:
    raw = _raw(_token())
    outcomes = set()
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        check, info = verify_token(_encode(bytes(flipped)), KEYS, EVENT)
        assert check in (TokenCheck.FORGED, TokenCheck.INVALID), bit
        assert info is None
        outcomes.add(check)
    assert outcomes == {TokenCheck.FORGED, TokenCheck.INVALID}


def test_every_bit_flip_of_the_text_is_refused() -> None:
    token = _token()
    original = _raw(token)
    wrong_event = 0
    for index, char in enumerate(token):
        for bit in range(8):
            text = token[:index] + chr(ord(char) ^ (1 << bit)) + token[index + 1 :]
            check, info = verify_token(text, KEYS, EVENT)
            assert info is None
            if check is TokenCheck.WRONG_EVENT:
                # One base32 character spans the key id and the event prefix; changing both
                # reads as an unknown event's badge, which is refused all the same.
                raw = _raw(text)
                assert raw[1] != original[1] and raw[2:6] != original[2:6], (index, bit)
                wrong_event += 1
            else:
                assert check in (TokenCheck.FORGED, TokenCheck.INVALID), (index, bit)
    assert wrong_event <= 5


@settings(max_examples=300)
@given(
    secret=st.binary(min_size=32, max_size=32),
    key_id=st.integers(0, 255),
    event=st.uuids(),
    attendee=st.uuids(),
    seq=st.integers(0, 255),
    bit=st.integers(0, 87 * 8 - 1),
)
def test_random_tokens_round_trip_and_flips_fail(
    secret: bytes, key_id: int, event: uuid.UUID, attendee: uuid.UUID, seq: int, bit: int
) -> None:
    key = Ed25519PrivateKey.from_private_bytes(secret)
    keys = {key_id: public_bytes(key)}
    token = make_token(key, key_id, event, attendee, seq)
    check, info = verify_token(token, keys, event)
    assert check is TokenCheck.VALID
    assert info is not None and (info.attendee_id, info.badge_seq) == (attendee, seq)
    flipped = bytearray(_raw(token))
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert verify_token(_encode(bytes(flipped)), keys, event)[0] in (
        TokenCheck.FORGED,
        TokenCheck.INVALID,
    )


@settings(max_examples=500)
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    check, info = verify_token(text, KEYS, EVENT)
    assert check is TokenCheck.INVALID
    assert info is None


@settings(max_examples=300)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567=", min_size=135, max_size=145))
def test_token_shaped_text_never_raises(body: str) -> None:
    check, info = verify_token("EVD1" + body, KEYS, EVENT)
    assert check in (TokenCheck.INVALID, TokenCheck.FORGED, TokenCheck.WRONG_EVENT)
    assert info is None


@settings(max_examples=300)
@given(st.binary(min_size=87, max_size=87))
def test_random_well_formed_tokens_are_never_valid(raw: bytes) -> None:
    check, info = verify_token(_encode(raw), KEYS, EVENT)
    assert check is not TokenCheck.VALID
    assert info is None


# --- short codes ------------------------------------------------------------------------


def test_short_code_shape() -> None:
    code = short_code("OI", ATTENDEE)
    assert SHORT_CODE_RE.fullmatch(code), code
    assert code.startswith("OI-")
    assert not set(code[3:]) & set("ILOU")


def test_short_code_is_stable_and_attempt_changes_it() -> None:
    assert short_code("OI", ATTENDEE) == short_code("oi", ATTENDEE)
    codes = {short_code("OI", ATTENDEE, attempt) for attempt in range(10)}
    assert len(codes) == 10


def test_short_codes_spread_over_the_alphabet() -> None:
    codes = [short_code("X", uuid.UUID(int=i * 7919)) for i in range(4000)]
    # 4000 ids in 32**4 codes: a handful of birthday collisions, not more.
    assert len(set(codes)) > 3980
    used = {char for code in codes for char in code[2:]}
    assert used == set(CROCKFORD)


@pytest.mark.parametrize("prefix", ["", "TOOLONGX", "O-I", "É", "a b"])
def test_short_code_rejects_bad_prefix(prefix: str) -> None:
    with pytest.raises(ValueError):
        short_code(prefix, ATTENDEE)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("OI-4K7Q", "OI-4K7Q"),
        ("oi-4k7q", "OI-4K7Q"),
        ("OI4K7Q", "OI-4K7Q"),
        ("oi 4k7q", "OI-4K7Q"),
        ("  OI - 4K7Q ", "OI-4K7Q"),
        ("OI\u20134K7Q", "OI-4K7Q"),  # en dash
        ("\uff2f\uff29\uff0d\uff14\uff2b\uff17\uff31", "OI-4K7Q"),  # full-width
        ("OI-O1IL", "OI-0111"),
        ("oi-oilo", "OI-0110"),
        ("APO2024-X7Z9", None),  # prefix longer than 6
        ("OI-4K7U", None),  # U is not in the alphabet
        ("OI-4K7", None),
        ("OI-4K7QQ", None),
        ("4K7Q", None),  # no prefix
        ("OI-4K!Q", None),
        ("", None),
        ("-", None),
    ],
)
def test_normalise_short_code(typed: str, expected: str | None) -> None:
    assert normalise_short_code(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0I-4K7Q", "OI-4K7Q"),
        ("01-4K7Q", "OI-4K7Q"),
        ("ol4k7q", "OI-4K7Q"),
        ("4k7q", "OI-4K7Q"),
        ("XY-4K7Q", None),
        ("OIX-4K7Q", None),
    ],
)
def test_normalise_short_code_with_known_prefix(typed: str, expected: str | None) -> None:
    assert normalise_short_code(typed, prefix="OI") == expected


def test_every_generated_code_survives_typing_mistakes() -> None:
    for i in range(300):
        code = short_code("OI", uuid.UUID(int=i))
        sloppy = code.lower().replace("-", "").replace("0", "o").replace("1", "l")
        assert normalise_short_code(sloppy) == code
        assert normalise_short_code(code) == code


@settings(max_examples=500)
@given(st.text(max_size=30), st.sampled_from([None, "OI", "APO24"]))
def test_normalise_short_code_never_raises_and_is_idempotent(text: str, prefix: str | None) -> None:
    result = normalise_short_code(text, prefix)
    if result is not None:
        assert SHORT_CODE_RE.fullmatch(result), result
        assert normalise_short_code(result, prefix) == result


def test_normalise_short_code_ignores_non_strings() -> None:
    assert normalise_short_code(None) is None  # type: ignore[arg-type]


def test_generated_signing_key_makes_valid_tokens() -> None:
    key = generate_signing_key()
    token = make_token(key, 3, EVENT, ATTENDEE, 0)
    assert verify_token(token, {3: public_bytes(key)}, EVENT)[0] is TokenCheck.VALID
