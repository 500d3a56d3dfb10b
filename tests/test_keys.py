"""Signing key files: owner-only permissions, clear errors, passphrase-protected export."""

from __future__ import annotations

import base64
import json
import os
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from desktop import keys
from desktop.keys import (
    KeyFileError,
    export_private_key,
    generate_signing_key,
    import_private_key,
    load_private_key,
    public_bytes,
    save_private_key,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "keys" / "signing-1.pem"


@pytest.fixture
def open_umask() -> Iterator[None]:
    # A permissive umask must not leak into the key file's or folder's mode.
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_generated_keys_are_distinct_ed25519() -> None:
    first, second = generate_signing_key(), generate_signing_key()
    assert len(public_bytes(first)) == 32
    assert public_bytes(first) != public_bytes(second)


def test_save_and_load_round_trip(key_path: Path) -> None:
    key = generate_signing_key()
    save_private_key(key_path, key)
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(key_path)
    assert public_bytes(loaded) == public_bytes(key)
    assert loaded.sign(b"x") == key.sign(b"x")
    # No temporary file is left behind.
    assert sorted(p.name for p in key_path.parent.iterdir()) == [key_path.name]


@posix_only
def test_saved_file_and_new_folder_are_owner_only(key_path: Path, open_umask: None) -> None:
    save_private_key(key_path, generate_signing_key())
    assert _mode(key_path) == 0o600
    assert _mode(key_path.parent) == 0o700


@posix_only
def test_existing_folder_mode_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    save_private_key(tmp_path / "k.pem", generate_signing_key())
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / "k.pem") == 0o600


@posix_only
def test_file_is_never_readable_by_others_while_written(
    key_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes: list[int] = []
    real_write = os.write

    def spying_write(fd: int, data: bytes) -> int:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spying_write)
    save_private_key(key_path, generate_signing_key())
    monkeypatch.undo()
    assert modes, "the key was not written through os.write"
    assert all(mode & 0o077 == 0 for mode in modes), [oct(m) for m in modes]


def test_existing_key_is_not_overwritten_by_default(key_path: Path) -> None:
    first, second = generate_signing_key(), generate_signing_key()
    save_private_key(key_path, first)
    with pytest.raises(KeyFileError, match="already exists"):
        save_private_key(key_path, second)
    assert public_bytes(load_private_key(key_path)) == public_bytes(first)
    assert sorted(p.name for p in key_path.parent.iterdir()) == [key_path.name]
    save_private_key(key_path, second, overwrite=True)
    assert public_bytes(load_private_key(key_path)) == public_bytes(second)


def test_overwrite_keeps_owner_only_mode(key_path: Path) -> None:
    save_private_key(key_path, generate_signing_key())
    save_private_key(key_path, generate_signing_key(), overwrite=True)
    if os.name == "posix":
        assert _mode(key_path) == 0o600
    assert len(list(key_path.parent.iterdir())) == 1


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="No signing key file") as caught:
        load_private_key(tmp_path / "absent.pem")
    assert "backup" in str(caught.value)


@posix_only
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_loose_permissions_are_refused(key_path: Path, mode: int) -> None:
    save_private_key(key_path, generate_signing_key())
    key_path.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600") as caught:
        load_private_key(key_path)
    assert f"{mode:04o}" in str(caught.value)


@posix_only
def test_read_only_owner_file_is_accepted(key_path: Path) -> None:
    key = generate_signing_key()
    save_private_key(key_path, key)
    key_path.chmod(0o400)
    assert public_bytes(load_private_key(key_path)) == public_bytes(key)


def test_unreadable_file_is_reported(key_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_private_key(key_path, generate_signing_key())
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: int) -> int:
        if Path(str(path)) == key_path:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(KeyFileError, match="permission denied"):
        load_private_key(key_path)


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_for_real(key_path: Path) -> None:
    save_private_key(key_path, generate_signing_key())
    key_path.chmod(0o000)
    with pytest.raises(KeyFileError, match="permission denied"):
        load_private_key(key_path)


def _write_owner_only(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
)
def test_garbage_file_is_wrong_format(tmp_path: Path, data: bytes) -> None:
    path = _write_owner_only(tmp_path / "k.pem", data)
    with pytest.raises(KeyFileError, match="not a PEM signing key"):
        load_private_key(path)


def test_other_kind_of_key_is_refused(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = _write_owner_only(tmp_path / "k.pem", pem)
    with pytest.raises(KeyFileError, match="Ed25519"):
        load_private_key(path)


def test_encrypted_pem_is_refused_clearly(tmp_path: Path) -> None:
    pem = generate_signing_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    path = _write_owner_only(tmp_path / "k.pem", pem)
    with pytest.raises(KeyFileError, match="encrypted"):
        load_private_key(path)


def test_export_document_in_place_of_key_file_is_explained(tmp_path: Path) -> None:
    document = export_private_key(generate_signing_key(), "pass phrase")
    path = _write_owner_only(tmp_path / "k.pem", document)
    with pytest.raises(KeyFileError, match="passphrase-protected export"):
        load_private_key(path)


def test_directory_and_huge_file_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "k.pem"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError):
        load_private_key(folder)
    huge = _write_owner_only(tmp_path / "huge.pem", b"A" * 200_000)
    with pytest.raises(KeyFileError, match="too large"):
        load_private_key(huge)


# --- passphrase-protected export ---------------------------------------------------------


def test_export_import_round_trip() -> None:
    key = generate_signing_key()
    exported = export_private_key(key, "correct horse battery staple")
    secret = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    assert secret not in exported
    assert base64.b64encode(secret) not in exported
    document = json.loads(exported)
    assert document["format"] == "eventdesk-signing-key"
    assert base64.b64decode(document["public_key"]) == public_bytes(key)
    imported = import_private_key(exported, "correct horse battery staple")
    assert public_bytes(imported) == public_bytes(key)


def test_exports_are_salted() -> None:
    key = generate_signing_key()
    assert export_private_key(key, "same") != export_private_key(key, "same")


def test_wrong_passphrase_is_reported() -> None:
    exported = export_private_key(generate_signing_key(), "right one")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        import_private_key(exported, "wrong one")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        import_private_key(exported, "")


def test_passphrase_matches_across_unicode_normal_forms() -> None:
    key = generate_signing_key()
    composed = "Malacañang 2024"
    exported = export_private_key(key, composed)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert public_bytes(import_private_key(exported, decomposed)) == public_bytes(key)


def test_empty_passphrase_is_refused_on_export() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        export_private_key(generate_signing_key(), "")


def _tamper(exported: bytes, field: str, value: object) -> bytes:
    document = json.loads(exported)
    document[field] = value
    return json.dumps(document).encode()


@pytest.fixture(scope="module")
def exported() -> bytes:
    return export_private_key(generate_signing_key(), "pw")


def test_tampered_ciphertext_is_refused(exported: bytes) -> None:
    sealed = bytearray(base64.b64decode(json.loads(exported)["ciphertext"]))
    sealed[0] ^= 1
    bad = _tamper(exported, "ciphertext", base64.b64encode(bytes(sealed)).decode())
    with pytest.raises(KeyFileError, match="damaged"):
        import_private_key(bad, "pw")


def test_swapped_public_key_is_refused(exported: bytes) -> None:
    other = base64.b64encode(public_bytes(generate_signing_key())).decode()
    with pytest.raises(KeyFileError):
        import_private_key(_tamper(exported, "public_key", other), "pw")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not an EventDesk"),
        (b"\xff\xfe", "not an EventDesk"),
        (b"[]", "not an EventDesk"),
        (b'{"format": "something-else"}', "not an EventDesk"),
        (b'{"format": "eventdesk-signing-key", "version": 99}', "newer EventDesk"),
        (b'{"format": "eventdesk-signing-key", "version": 1}', "damaged"),
    ],
)
def test_not_an_export_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(KeyFileError, match=message):
        import_private_key(data, "pw")


@pytest.mark.parametrize(
    "kdf",
    [
        {"name": "scrypt", "log_n": 30, "r": 8, "p": 1},
        {"name": "scrypt", "log_n": 17, "r": 1000, "p": 1},
        {"name": "pbkdf2", "log_n": 17, "r": 8, "p": 1},
        {"name": "scrypt", "log_n": True, "r": 8, "p": 1},
    ],
)
def test_costly_or_unknown_kdf_settings_are_refused(exported: bytes, kdf: object) -> None:
    with pytest.raises(KeyFileError):
        import_private_key(_tamper(exported, "kdf", kdf), "pw")


@pytest.mark.parametrize("field", ["salt", "nonce", "ciphertext", "public_key"])
def test_malformed_fields_are_refused(exported: bytes, field: str) -> None:
    with pytest.raises(KeyFileError, match="damaged"):
        import_private_key(_tamper(exported, field, "not base64!"), "pw")
    with pytest.raises(KeyFileError, match="damaged"):
        import_private_key(_tamper(exported, field, 12), "pw")


def test_export_uses_a_strong_kdf(exported: bytes) -> None:
    kdf = json.loads(exported)["kdf"]
    assert kdf["name"] == "scrypt"
    assert 2 ** kdf["log_n"] * kdf["r"] >= 2**17 * 8
    assert kdf["log_n"] == keys._SCRYPT_LOG_N
