"""Pictures certificates draw (seals, signatures, backgrounds), kept with the event.

A certificate setting used to name a picture by its path on the desk where it was chosen;
another desk then drew the certificate without it. Now, when the settings are saved, a picture
chosen from the disk is read and recorded as a ``picture.put`` operation (its bytes in base64,
named by their SHA-256), and the setting holds ``picture:<sha256>``. Every desk that receives
the operations holds the picture, and draws it from a copy written once into the user's cache
folder (the layout engine draws pictures by file name).

A relative path names a picture bundled with EventDesk (``certificates/…`` in the resources),
the same on every desk: it is kept as it is.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from pathlib import Path

import platformdirs
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from desktop import journal
from desktop.journal import MAX_PICTURE_BYTES, DeskContext
from desktop.models import Picture

PREFIX = "picture:"


class PictureError(Exception):
    """A chosen picture cannot be kept (missing, unreadable, too large); str() says which."""


def is_kept(value: str) -> bool:
    """Whether a setting's value names a picture kept with the event."""
    return value.startswith(PREFIX)


def keep(session: Session, ctx: DeskContext, value: str) -> str:
    """The setting's value for a picture: a file on this desk becomes a kept picture.

    Empty text, a kept picture and a relative path (a bundled picture) come back as they are.
    Raises PictureError for a file that is missing, is not a picture, or is too large.
    """
    value = value.strip()
    if not value or is_kept(value):
        return value
    path = Path(value).expanduser()
    if not path.is_absolute():
        return value
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PictureError(f"the picture {path} cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_PICTURE_BYTES:
        megabytes = MAX_PICTURE_BYTES // (1024 * 1024)
        raise PictureError(
            f"the picture {path.name} is larger than {megabytes} MB: make it smaller"
        )
    media_type = _media_type(data, path)
    picture_id = hashlib.sha256(data).hexdigest()
    if session.get(Picture, picture_id) is None:
        content = base64.b64encode(data).decode("ascii")
        journal.record(
            session,
            ctx,
            "picture.put",
            {"id": picture_id, "media_type": media_type, "content": content},
        )
    return f"{PREFIX}{picture_id}"


def _media_type(data: bytes, path: Path) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format or ""
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        # Pillow's own words name its buffer, not the file: a person reads ours alone.
        raise PictureError(
            f"{path.name} is not a picture EventDesk can draw: choose a PNG or JPEG file"
        ) from exc
    return Image.MIME.get(kind.upper(), f"image/{kind.lower()}")


def cache_dir() -> Path:
    """Where kept pictures are written out for drawing (the user's cache folder)."""
    return Path(platformdirs.user_cache_dir("EventDesk", appauthor=False)) / "pictures"


def drawable(session: Session, value: str) -> str:
    """The path a layout draws for a setting's value.

    A kept picture this desk holds is written out once (named by its hash, so a copy is
    never stale); one not received yet is left as it is, and the layout reports that it
    cannot be read. Other values (paths) come back as they are.
    """
    if not is_kept(value):
        return value
    picture_id = value.removeprefix(PREFIX)
    target = cache_dir() / picture_id
    if target.is_file():
        return str(target)
    row = session.get(Picture, picture_id)
    if row is None:
        return value
    try:
        _write_out(target, base64.b64decode(row.content))
    except OSError:
        return value  # a cache folder that cannot be written: reported like a missing picture
    return str(target)


def _write_out(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: a reader never sees half a picture.
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:12]}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
