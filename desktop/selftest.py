"""``eventdesk self-test``: is the installation whole and the data folder usable?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop import desk
from desktop.events import key_path
from desktop.keys import KeyFileError, load_private_key
from desktop.models import Event
from desktop.paths import migrations_dir, resources_dir
from desktop.store import StoreError, current_revision, head_revision, open_store


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _resources() -> Check:
    root = resources_dir()
    missing = [d for d in ("fonts", "layouts") if not any((root / d).glob("*"))]
    if missing:
        return Check("resources", False, f"missing in {root}: {', '.join(missing)}")
    fonts = len(list((root / "fonts").glob("*.[ot]tf")))
    layouts = len(list((root / "layouts").glob("*.json")))
    return Check("resources", True, f"{fonts} fonts, {layouts} layouts")


def run_self_test(data_dir: Path) -> list[Check]:
    """Run every check; never raises for a broken installation, it reports it."""
    checks = [
        Check("migrations", migrations_dir().is_dir(), str(head_revision() or "none")),
        _resources(),
    ]
    try:
        store = open_store(data_dir)
    except StoreError as exc:
        checks.append(Check("database", False, str(exc)))
        return checks
    try:
        current = current_revision(store.engine)
        head = head_revision()
        checks.append(
            Check(
                "database", current == head, f"{store.db_path} at schema {current} (latest {head})"
            )
        )
        with store.begin() as session:
            event_id = desk.current_event_id(session)
            event = session.get(Event, event_id) if event_id else None
        if event is None:
            checks.append(Check("signing key", True, "no event yet (run `eventdesk demo`)"))
        else:
            key_ids = sorted(int(k) for k in (event.public_keys or {}))
            path = key_path(data_dir, event.id, key_ids[-1] if key_ids else 1)
            try:
                load_private_key(path)
                checks.append(Check("signing key", True, f"{event.name}: key readable"))
            except KeyFileError as exc:
                # A desk that joined without the signing key can still verify badges.
                checks.append(Check("signing key", False, str(exc)))
    finally:
        store.close()
    return checks
