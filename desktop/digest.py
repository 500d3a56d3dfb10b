"""A fingerprint of the replicated state, table by table, so two desks can prove they agree."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from desktop.models import Base

# Columns that are this desk's own bookkeeping, not state every desk must share.
LOCAL_COLUMNS = {"operations": {"local", "pushed", "applied_at"}}
# Tables that are this desk's own: its settings and cursors, and the attendance indexes its
# triggers work out from the scans (the scans themselves are compared).
LOCAL_TABLES = {
    "sync_cursors",
    "local_settings",
    "alembic_version",
    "session_entry_tallies",
    "session_presence",
}


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def replicated_tables() -> list[Table]:
    """The tables whose content every desk of an event must hold identically."""
    return [t for t in Base.metadata.sorted_tables if t.name not in LOCAL_TABLES]


def table_digest(session: Session, table: Table) -> str:
    """SHA-256 over the table's replicated columns, rows in primary-key order."""
    skip = LOCAL_COLUMNS.get(table.name, set())
    columns = [c for c in table.columns if c.name not in skip]
    order = list(table.primary_key.columns)
    digest = hashlib.sha256()
    result = session.execute(select(*columns).order_by(*order)).yield_per(2000)
    for row in result:
        encoded = json.dumps(
            [_canonical(v) for v in row], ensure_ascii=False, separators=(",", ":")
        )
        digest.update(encoded.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def state_digest(session: Session) -> dict[str, Any]:
    """``{"tables": {name: hex}, "all": hex}`` over every replicated table."""
    tables = {t.name: table_digest(session, t) for t in replicated_tables()}
    overall = hashlib.sha256()
    for name in sorted(tables):
        overall.update(f"{name}={tables[name]}\n".encode())
    return {"tables": tables, "all": overall.hexdigest()}
