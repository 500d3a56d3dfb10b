"""Badge signing keys: generation, owner-only key files, passphrase-protected export."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

POSIX = os.name == "posix"
_MAX_KEY_FILE = 64 * 1024
_EXPORT_FORMAT = "eventdesk-signing-key"
_EXPORT_VERSION = 1
# scrypt cost for exports, which travel on USB sticks and may be attacked offline:
# N=2**17, r=8 needs 128 MiB and a fraction of a second, once per import.
_SCRYPT_LOG_N = 17
_SCRYPT_R = 8
_SCRYPT_P = 1
# Upper bounds accepted on import, so a crafted file cannot demand gigabytes of memory.
_MAX_LOG_N, _MAX_R, _MAX_P = 20, 16, 4


class KeyFileError(Exception):
    """A key file is missing, unreadable, malformed, too open, or the passphrase is wrong."""


def generate_signing_key() -> Ed25519PrivateKey:
    """A new random Ed25519 signing key."""
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a signing key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _fsync_dir(folder: Path) -> None:
    if not POSIX:
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_private_key(path: Path, key: Ed25519PrivateKey, *, overwrite: bool = False) -> None:
    """Write the key as unencrypted PKCS8 PEM, atomically, readable by the owner only.

    Refuses to replace an existing key file unless ``overwrite`` is true: losing the old key
    would make every badge already printed with it read as forged.
    """
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)
        if POSIX:
            # mkdir's mode is filtered by the umask; be explicit.
            folder.chmod(0o700)
    if path.exists() and not overwrite:
        raise KeyFileError(
            f"A signing key already exists at {path}. Keep it: badges printed with it need "
            "it to verify. Move it away first if you really mean to replace it."
        )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # The mode is given at creation, so the file is never readable by others, even briefly.
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            if POSIX:
                os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        _publish(tmp, path, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        # A hard link fails if the name exists, closing the gap between check and rename.
        os.link(tmp, path)
    except FileExistsError:
        raise KeyFileError(
            f"A signing key already exists at {path}; it was left as it is."
        ) from None
    except OSError:
        # Some file systems (FAT on a USB stick) have no hard links.
        if path.exists():
            raise KeyFileError(
                f"A signing key already exists at {path}; it was left as it is."
            ) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read a key file written by ``save_private_key``; KeyFileError says what to fix."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise KeyFileError(
            f"No signing key file at {path}. Restore it from a backup or an exported key; "
            "a new key would make badges already printed read as forged."
        ) from None
    except PermissionError:
        raise KeyFileError(
            f"Cannot read the signing key file {path}: permission denied. "
            "Run EventDesk as the user who owns the data folder."
        ) from None
    except OSError as exc:
        raise KeyFileError(f"Cannot open the signing key file {path}: {exc.strerror}.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path} is not a file; it should hold the signing key.")
        if POSIX and info.st_mode & 0o077:
            raise KeyFileError(
                f"The signing key file {path} can be read by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}). Run: chmod 600 '{path}' "
                "and try again."
            )
        if info.st_size > _MAX_KEY_FILE:
            raise KeyFileError(f"{path} is far too large to be a signing key file.")
        data = os.read(fd, _MAX_KEY_FILE + 1)
    except OSError as exc:
        raise KeyFileError(f"Cannot read the signing key file {path}: {exc.strerror}.") from None
    finally:
        os.close(fd)
    return _parse_pem(data, path)


def _parse_pem(data: bytes, path: Path) -> Ed25519PrivateKey:
    if data.lstrip().startswith(b"{"):
        raise KeyFileError(
            f"{path} is a passphrase-protected export, not a key file. "
            "Import it with its passphrase instead."
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise KeyFileError(
            f"{path} is encrypted; EventDesk expects an unencrypted key file here."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"{path} is not a PEM signing key file (damaged or the wrong file). "
            "Restore it from a backup or an exported key."
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a key of another kind; EventDesk needs an Ed25519 key.")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(passphrase: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    # NFC so the same passphrase typed on macOS (NFD input) and elsewhere matches.
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=salt, length=32, n=2**log_n, r=r, p=p).derive(secret)


def _associated_data(header: dict[str, Any]) -> bytes:
    # The header (format, KDF settings, public key) is authenticated but not secret.
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii")


def export_private_key(key: Ed25519PrivateKey, passphrase: str) -> bytes:
    """The key encrypted with a passphrase (scrypt + AES-256-GCM), as a small JSON document."""
    if not passphrase:
        raise ValueError("A passphrase is needed to export a signing key.")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header: dict[str, Any] = {
        "format": _EXPORT_FORMAT,
        "version": _EXPORT_VERSION,
        "kdf": {"name": "scrypt", "log_n": _SCRYPT_LOG_N, "r": _SCRYPT_R, "p": _SCRYPT_P},
        "salt": _b64(salt),
        "public_key": _b64(public_bytes(key)),
    }
    secret = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    box = AESGCM(_derive(passphrase, salt, _SCRYPT_LOG_N, _SCRYPT_R, _SCRYPT_P))
    sealed = box.encrypt(nonce, secret, _associated_data(header))
    document = {**header, "nonce": _b64(nonce), "ciphertext": _b64(sealed)}
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("ascii")


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise KeyFileError(f"The exported key is damaged (field {name!r} is missing or wrong).")
    return value


def _b64_field(document: dict[str, Any], name: str, length: int) -> bytes:
    try:
        value = base64.b64decode(_field(document, name, str), validate=True)
    except ValueError:
        value = b""
    if len(value) != length:
        raise KeyFileError(f"The exported key is damaged (field {name!r} is malformed).")
    return value


def import_private_key(data: bytes, passphrase: str) -> Ed25519PrivateKey:
    """Decrypt a key made by ``export_private_key``; KeyFileError on a wrong passphrase."""
    try:
        document = json.loads(data)
    except (ValueError, TypeError):
        document = None
    if not isinstance(document, dict) or document.get("format") != _EXPORT_FORMAT:
        raise KeyFileError("This is not an EventDesk exported signing key.")
    if document.get("version") != _EXPORT_VERSION:
        raise KeyFileError(
            "This exported key was made by a newer EventDesk; update EventDesk to import it."
        )
    kdf = _field(document, "kdf", dict)
    log_n, r, p = (_field(kdf, name, int) for name in ("log_n", "r", "p"))
    if kdf.get("name") != "scrypt" or not (
        10 <= log_n <= _MAX_LOG_N and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P
    ):
        raise KeyFileError("The exported key uses key-derivation settings EventDesk refuses.")
    salt = _b64_field(document, "salt", 16)
    nonce = _b64_field(document, "nonce", 12)
    public = _b64_field(document, "public_key", 32)
    sealed = _b64_field(document, "ciphertext", 32 + 16)
    header = {
        "format": _EXPORT_FORMAT,
        "version": _EXPORT_VERSION,
        "kdf": {"name": "scrypt", "log_n": log_n, "r": r, "p": p},
        "salt": document["salt"],
        "public_key": document["public_key"],
    }
    box = AESGCM(_derive(passphrase, salt, log_n, r, p))
    try:
        secret = box.decrypt(nonce, sealed, _associated_data(header))
    except InvalidTag:
        raise KeyFileError(
            "wrong passphrase (or the exported key file is damaged); check the passphrase "
            "and try again."
        ) from None
    key = Ed25519PrivateKey.from_private_bytes(secret)
    if public_bytes(key) != public:
        raise KeyFileError("The exported key is damaged (its public key does not match).")
    return key
