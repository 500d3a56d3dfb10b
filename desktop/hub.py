"""The hub side of sync: set up a PostgreSQL hub, make desk logins, push and pull operations.

The hub keeps the union of every desk's operations in one table, `ops`, numbered by a
server-assigned `seq`. A desk pushes (insert, duplicates by op_id ignored) and pulls rows above
its cursor. Why `seq > cursor` is safe here is explained in `desktop.hubschema`.
"""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from desktop import hubschema
from desktop.opwire import StoredJson, checked_op

_T = TypeVar("_T")

CONNECT_TIMEOUT_S = 5
PUSH_BATCH = 5000

# Added to a hub URL only where it does not say otherwise. Keepalives make a silently dead link
# fail in about half a minute instead of hanging a sync for hours.
_CONNECT_DEFAULTS: dict[str, str] = {
    "connect_timeout": str(CONNECT_TIMEOUT_S),
    "application_name": "eventdesk",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}

# Per desk session: a desk that vanishes inside a push must not hold the writers' lock (and so
# every other desk's push) for long; a push that waits too long gives up and is retried later.
_SESSION_SETTINGS = (
    "SET idle_in_transaction_session_timeout = '60s'",
    "SET lock_timeout = '60s'",
    "SET statement_timeout = '120s'",
)

# A push copies a batch into a session-local staging table (COPY is the fastest way in), then
# moves it into ops in one statement that skips op_ids the hub already has.
_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS eventdesk_push (
    n int, op_id text, event_id text, desk_id text, hlc text, kind text, payload text,
    operator_id text
) ON COMMIT DELETE ROWS
"""
_COPY = "COPY eventdesk_push FROM STDIN"
_FROM_STAGE = """
INSERT INTO ops (op_id, event_id, desk_id, hlc, kind, payload, operator_id)
SELECT op_id::uuid, event_id, desk_id, hlc, kind, payload::jsonb, operator_id
FROM eventdesk_push ORDER BY n
ON CONFLICT (op_id) DO NOTHING
"""
# For a hub that denies desks temporary tables: arrays in one INSERT (slower, same result).
_FROM_ARRAYS = """
INSERT INTO ops (op_id, event_id, desk_id, hlc, kind, payload, operator_id)
SELECT u.op_id::uuid, u.event_id, u.desk_id, u.hlc, u.kind, u.payload::jsonb, u.operator_id
FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[]) AS u(n, op_id, event_id, desk_id, hlc, kind, payload, operator_id)
ORDER BY u.n
ON CONFLICT (op_id) DO NOTHING
"""

_Row = tuple[int, str, str, str, str, str, str, str | None]

_PULL_COLUMNS = "seq, op_id::text, event_id, desk_id, hlc, kind, payload, operator_id"
_PULL_ALL = f"SELECT {_PULL_COLUMNS} FROM ops WHERE seq > %s ORDER BY seq LIMIT %s"
_PULL_EVENT = (
    f"SELECT {_PULL_COLUMNS} FROM ops WHERE event_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)
# The same, but a desk's own operations come without their payload: it sent them, so they need
# not travel back (half of a busy desk's download otherwise).
_PULL_EVENT_NOT_OWN = (
    "SELECT seq, op_id::text, event_id, desk_id, hlc, kind,"
    " CASE WHEN desk_id = %s THEN NULL ELSE payload END, operator_id"
    " FROM ops WHERE event_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)

# The same, the payload as text: a desk decodes it once and stores the text as it came.
_PULL_TEXT = (
    "SELECT seq, op_id::text, event_id, desk_id, hlc, kind, payload::text, operator_id"
    " FROM ops WHERE event_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)
_PULL_TEXT_NOT_OWN = (
    "SELECT seq, op_id::text, event_id, desk_id, hlc, kind,"
    " CASE WHEN desk_id = %s THEN NULL ELSE payload::text END, operator_id"
    " FROM ops WHERE event_id = %s AND seq > %s ORDER BY seq LIMIT %s"
)

PulledRow = tuple[int, str, str, str, str, str, str | None, str | None]
"""A pulled operation: seq, op_id, event_id, desk_id, hlc, kind, payload text, operator_id."""


@dataclass(frozen=True)
class PreparedPush:
    """Operations checked and laid out for the hub, ready for `HubClient.push_prepared`."""

    ops: Sequence[Mapping[str, Any]]
    rows: list[_Row]
    trusting: bool


def prepare_push(ops: Sequence[Mapping[str, Any]]) -> PreparedPush:
    """Check operations for a push (OpShapeError names a bad one); needs no connection.

    Payloads given as `StoredJson` pass as they are when they plainly hold nothing the hub
    refuses; should the hub refuse one all the same, the push checks them all strictly.
    """
    rows = _push_rows(ops, trust_stored=True)
    trusting = any(isinstance(op["payload"], StoredJson) for op in ops)
    return PreparedPush(ops=ops, rows=rows, trusting=trusting)


def _push_rows(ops: Sequence[Mapping[str, Any]], *, trust_stored: bool) -> list[_Row]:
    rows: list[_Row] = []
    for n, op in enumerate(ops):
        clean, payload = checked_op(op, trust_stored=trust_stored)
        rows.append(
            (
                n,
                clean["op_id"],
                clean["event_id"],
                clean["desk_id"],
                clean["hlc"],
                clean["kind"],
                payload,
                clean["operator_id"],
            )
        )
    return rows


class _StoredTextRefused(Exception):
    """The hub refused a batch's data (payload text passed on unchecked): check it all."""


def _refusing_data(
    work: Callable[[psycopg.Connection[Any]], _T],
) -> Callable[[psycopg.Connection[Any]], _T]:
    def run(conn: psycopg.Connection[Any]) -> _T:
        try:
            return work(conn)
        except psycopg.DataError as exc:
            # The batch's transaction is rolled back; the connection stays good.
            raise _StoredTextRefused(str(exc)) from exc

    return run


class HubError(Exception):
    """Something went wrong talking to the hub; str() is a plain sentence for the status bar."""


class HubNotInitialised(HubError):
    """The database has no EventDesk schema."""


class HubSchemaTooNew(HubError):
    """The hub was set up by a newer EventDesk than this one."""


class HubUnreachable(HubError):
    """The hub could not be reached or the connection broke; trying again later may work."""


class HubRefused(HubError):
    """The hub answered but refused this desk (password, user, database, TLS, rights)."""


@dataclass(frozen=True)
class DeskLogin:
    """A desk's login on the hub: its connection URL, role name, and whether it already existed."""

    url: str
    role: str
    renewed: bool


def init_hub(url: str) -> None:
    """Create or upgrade the hub schema and the desk group role in the database at `url`.

    Safe to run again; refuses (HubSchemaTooNew) a hub made by a newer program.
    """
    with _connect(url) as conn:
        try:
            _init(conn)
        except psycopg.Error as exc:
            raise _wrap(exc, _address(url)) from exc


def _init(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        # Two `hub init` runs at once would both see an empty database.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [hubschema.INIT_LOCK_KEY])
        conn.execute(hubschema.CREATE_META)
        row = conn.execute(hubschema.READ_VERSION).fetchone()
        version = int(row[0]) if row else 0
        if version > hubschema.SCHEMA_VERSION:
            raise HubSchemaTooNew(_TOO_NEW)
        for step in range(version + 1, hubschema.SCHEMA_VERSION + 1):
            for statement in hubschema.STEPS[step]:
                conn.execute(statement)
        conn.execute(
            f"INSERT INTO {hubschema.META_TABLE} (key, value) VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(hubschema.SCHEMA_VERSION)],
        )
        # A name for this hub that a re-created hub does not share (its seq numbers start
        # again), so a desk never reads a new hub from an old cursor. Kept once made.
        conn.execute(
            f"INSERT INTO {hubschema.META_TABLE} (key, value)"
            " VALUES ('hub_id', gen_random_uuid()::text) ON CONFLICT (key) DO NOTHING"
        )
        conn.execute(hubschema.CREATE_GROUP)
        names = conn.execute("SELECT current_database(), current_schema()").fetchone()
        assert names is not None
        database, schema = (sql.Identifier(n).as_string(conn) for n in names)
        for statement in hubschema.grants(database, schema):
            conn.execute(statement)


def create_desk(url: str, name: str) -> str:
    """Create (or give a new password to) the login of desk `name`; return its connection URL."""
    return create_desk_login(url, name).url


def create_desk_login(url: str, name: str) -> DeskLogin:
    """Like `create_desk`, also saying the role name and whether it existed (password renewed)."""
    role = desk_role_name(name)
    password = secrets.token_urlsafe(32)
    with _connect(url) as conn:
        try:
            renewed = _create_desk(conn, role, password)
        except psycopg.Error as exc:
            raise _wrap(exc, _address(url)) from exc
    return DeskLogin(url=desk_url(url, role, password), role=role, renewed=renewed)


def _create_desk(conn: psycopg.Connection[Any], role: str, password: str) -> bool:
    with conn.transaction():
        _check_version(conn)
        # Send a SCRAM verifier, never the password itself, so it cannot end up in a log.
        verifier = conn.pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        ).decode()
        found = conn.execute(
            """
            SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication
                       OR r.rolbypassrls,
                   EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                           WHERE g.rolname = %s AND m.member = r.oid)
            FROM pg_roles r WHERE r.rolname = %s
            """,
            [hubschema.DESK_GROUP, role],
        ).fetchone()
        ident = sql.Identifier(role)
        if found is not None:
            powerful, member = found
            if powerful or not member:
                raise HubError(f"a role named {role} already exists and is not an EventDesk desk")
            conn.execute(
                sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(verifier))
            )
        else:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE"
                    " NOREPLICATION NOBYPASSRLS PASSWORD {} IN ROLE {}"
                ).format(ident, sql.Literal(verifier), sql.Identifier(hubschema.DESK_GROUP))
            )
        # The same limit the client sets, as the role's default: a desk session left open in
        # a transaction (a crashed laptop, a person in psql) cannot stall the other desks.
        conn.execute(
            sql.SQL("ALTER ROLE {} SET idle_in_transaction_session_timeout = '60s'").format(ident)
        )
        return found is not None


def desk_role_name(name: str) -> str:
    """The PostgreSQL role for a desk name: ASCII letters, digits and _, with a fixed prefix."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    clean = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not clean:
        raise ValueError(f"desk name {name!r} needs at least one letter or digit")
    # PostgreSQL cuts identifiers at 63 bytes; cut here so the name we print is the real one.
    return (hubschema.DESK_ROLE_PREFIX + clean)[:63].rstrip("_")


def desk_url(url: str, role: str, password: str) -> str:
    """`url` with its user and password replaced: same host, port, database and TLS settings."""
    params = _parse(url)
    params.pop("user", None)
    params.pop("password", None)
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = params.pop("dbname", "")
    if host and ("," in host or "/" in host):
        # Several hosts or a socket directory: leave them to the query string.
        params["host"], host = host, ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{urllib.parse.quote(role, safe='')}:{urllib.parse.quote(password, safe='')}@{host}"
    if port:
        if "," in port:
            params["port"] = port
        else:
            netloc += f":{port}"
    query = urllib.parse.urlencode(params)
    path = "/" + urllib.parse.quote(dbname, safe="")
    return urllib.parse.urlunsplit(("postgresql", netloc, path, query, ""))


class HubClient:
    """A desk's connection to the hub. Not thread-safe: use one per worker thread.

    Connects on first use and again after a failure; every failure is raised as a HubError.
    """

    def __init__(self, url: str, *, batch_size: int = PUSH_BATCH) -> None:
        self.url = url
        self.address = _address(url)
        self.batch_size = batch_size
        self._conn: psycopg.Connection[Any] | None = None
        self._staging = True

    def __enter__(self) -> HubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def check(self) -> None:
        """Connect and check the hub schema; raise HubError if the hub cannot be used."""
        self._run(lambda conn: None)

    def push(self, ops: Sequence[Mapping[str, Any]]) -> int:
        """Insert operations in batches, one transaction each; return how many were new.

        Operations the hub already has (same op_id) are skipped. After a failure, pushing the
        same operations again is safe: batches that made it are not counted twice.
        """
        return self.push_prepared(prepare_push(ops))

    def push_prepared(self, prepared: PreparedPush) -> int:
        """`push` of operations checked beforehand by `prepare_push` (perhaps in another thread)."""
        rows, trusting = prepared.rows, prepared.trusting
        inserted = 0
        start = 0
        while start < len(rows):
            insert = functools.partial(self._insert, rows[start : start + self.batch_size])
            try:
                inserted += self._run(_refusing_data(insert) if trusting else insert)
            except _StoredTextRefused:
                # Some stored payload text the hub would not parse: check every one strictly
                # (OpShapeError names the culprit), then send this batch again.
                rows, trusting = _push_rows(prepared.ops, trust_stored=False), False
                continue
            start += self.batch_size
        return inserted

    def _insert(self, rows: list[_Row], conn: psycopg.Connection[Any]) -> int:
        if self._staging:
            try:
                # The staging table is made inside the transaction so a pooler that hands each
                # transaction to another server session (pgbouncer) cannot separate the steps.
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(_STAGE)
                    with cur.copy(_COPY) as copy:
                        for row in rows:
                            copy.write_row(row)
                    cur.execute(_FROM_STAGE)
                    return max(cur.rowcount, 0)
            except errors.InsufficientPrivilege:
                self._staging = False  # no temporary tables here; the arrays below still work
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(_FROM_ARRAYS, [list(column) for column in zip(*rows, strict=True)])
            return max(cur.rowcount, 0)

    def pull(
        self,
        event_id: str | None,
        after_seq: int,
        limit: int = PUSH_BATCH,
        *,
        without_payload_of: str | None = None,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Up to `limit` operations with seq above `after_seq` (of one event, or all), by seq.

        Operations of the desk `without_payload_of` (of one event) come with payload None.
        """
        params: list[Any]
        if event_id is None:
            query, params = _PULL_ALL, [after_seq, limit]
        elif without_payload_of is not None:
            query, params = _PULL_EVENT_NOT_OWN, [without_payload_of, event_id, after_seq, limit]
        else:
            query, params = _PULL_EVENT, [event_id, after_seq, limit]
        rows: list[tuple[Any, ...]] = self._run(lambda conn: conn.execute(query, params).fetchall())
        return [
            (
                row[0],
                {
                    "op_id": row[1],
                    "event_id": row[2],
                    "desk_id": row[3],
                    "hlc": row[4],
                    "kind": row[5],
                    "payload": row[6],
                    "operator_id": row[7],
                },
            )
            for row in rows
        ]

    def pull_raw(
        self,
        event_id: str,
        after_seq: int,
        limit: int = PUSH_BATCH,
        *,
        without_payload_of: str | None = None,
    ) -> list[PulledRow]:
        """Like `pull` for one event, as plain rows with the payload as JSON text (not decoded).

        Rows are (seq, op_id, event_id, desk_id, hlc, kind, payload text or None, operator_id).
        """
        params: list[Any]
        if without_payload_of is not None:
            query, params = _PULL_TEXT_NOT_OWN, [without_payload_of, event_id, after_seq, limit]
        else:
            query, params = _PULL_TEXT, [event_id, after_seq, limit]
        return self._run(lambda conn: conn.execute(query, params).fetchall())

    def hub_id(self) -> str:
        """This hub's identity: the same across restarts and new passwords, new for a hub made
        afresh. A desk keys its pull cursor on it."""
        row = self._run(lambda conn: conn.execute(_HUB_ID).fetchone())
        if row is None or row[0] is None:
            raise HubNotInitialised(_NOT_INIT)
        return str(row[0])

    def events(self) -> list[tuple[str, int]]:
        """The events on the hub with their number of operations, for a desk choosing one."""
        rows = self._run(
            lambda conn: conn.execute(
                "SELECT event_id, count(*) FROM ops GROUP BY event_id ORDER BY event_id"
            ).fetchall()
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def _run(self, work: Callable[[psycopg.Connection[Any]], _T]) -> _T:
        try:
            return work(self._connection())
        except HubError:
            self.close()
            raise
        except psycopg.Error as exc:
            # Whatever broke, a fresh connection next time is the safe way on.
            self.close()
            raise _wrap(exc, self.address) from exc

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        conn = _connect(self.url, autocommit=True)
        try:
            for statement in _SESSION_SETTINGS:
                conn.execute(statement)
            _check_version(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn


# A hub set up before hub ids existed has none: its database and table ids stand in.
_HUB_ID = f"""
SELECT coalesce(
    (SELECT value FROM {hubschema.META_TABLE} WHERE key = 'hub_id'),
    (SELECT 'oid-' || d.oid || '-' || 'ops'::regclass::oid FROM pg_database d
     WHERE d.datname = current_database())
)
"""

_TOO_NEW = "hub schema is newer than this program (update EventDesk)"
_NOT_INIT = "hub is not initialised (run eventdesk hub init)"


def _check_version(conn: psycopg.Connection[Any]) -> None:
    try:
        with conn.transaction():
            row = conn.execute(hubschema.READ_VERSION).fetchone()
    except errors.UndefinedTable:
        raise HubNotInitialised(_NOT_INIT) from None
    if row is None:
        raise HubNotInitialised(_NOT_INIT)
    version = int(row[0])
    if version > hubschema.SCHEMA_VERSION:
        raise HubSchemaTooNew(_TOO_NEW)
    if version < hubschema.SCHEMA_VERSION:
        raise HubNotInitialised("hub schema is older than this program (run eventdesk hub init)")


def _parse(url: str) -> dict[str, str]:
    if "://" in url and not url.startswith(("postgresql://", "postgres://")):
        raise HubError("hub URL must start with postgresql:// or postgres://")
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except psycopg.ProgrammingError as exc:
        raise HubError(f"hub URL is not valid: {_first_line(str(exc))}") from None


def _connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    # The URL goes to libpq as it is (TLS and every other setting honoured); we only add
    # defaults it leaves open.
    params = _parse(url)
    extra = {k: v for k, v in _CONNECT_DEFAULTS.items() if k not in params}
    try:
        return psycopg.connect(make_conninfo(url, **extra), autocommit=autocommit)
    except psycopg.Error as exc:
        raise _wrap(exc, _address(url)) from exc


def _address(url: str) -> str:
    try:
        params = _parse(url)
    except HubError:
        return "the hub"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or '5432'}"


def _wrap(exc: psycopg.Error, address: str | None) -> HubError:
    kind, message = _classify(exc, address)
    return kind(message)


def describe_error(exc: BaseException) -> str:
    """Say in plain words what went wrong with the hub, for the status bar."""
    return _classify(exc, None)[1]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# libpq puts the address it tried in its message; a timeout message lacks it.
_AT = re.compile(r'server at "([^"]+)"(?: \([^)]*\))?, port (\d+)')

_LOST = "connection to hub lost"
_UNREACHABLE = "hub not reachable{at}"
_NO_ANSWER = "hub not reachable{at} (no answer in time)"

# (text in libpq's or the server's message, kind, words for a person); the first match wins.
# libpq gives no SQLSTATE for a failed connection, so the text is all there is to go on.
_MESSAGES: tuple[tuple[str, type[HubError], str], ...] = (
    ("password authentication failed", HubRefused, "hub refused the password"),
    ("no password supplied", HubRefused, "hub wants a password and the URL has none"),
    ("no pg_hba.conf entry", HubRefused, "hub does not accept this desk from this address"),
    ('database "', HubRefused, "hub database does not exist"),
    ('role "', HubRefused, "hub does not know this desk's user name"),
    ("server does not support ssl", HubRefused, "hub does not offer TLS but the URL requires it"),
    ("certificate verify failed", HubRefused, "hub's TLS certificate could not be verified"),
    ("too many", HubUnreachable, "hub has too many connections; will try again"),
    ("starting up", HubUnreachable, "hub is starting up; will try again"),
    ("shutting down", HubUnreachable, "hub is shutting down; will try again"),
    ("in recovery", HubUnreachable, "hub is recovering; will try again"),
    ("no route to host", HubUnreachable, "no route to hub{at}"),
    ("network is unreachable", HubUnreachable, "no route to hub (is the network connected?)"),
    ("failed to resolve host", HubUnreachable, "hub address not found{at} (check the host name)"),
    ("could not translate host", HubUnreachable, "hub address not found{at} (check the host name)"),
    ("connection refused", HubUnreachable, _UNREACHABLE + " (connection refused)"),
    ("timeout expired", HubUnreachable, _NO_ANSWER),
    ("timed out", HubUnreachable, _NO_ANSWER),
    ("terminating connection", HubUnreachable, _LOST + " (hub restarting?)"),
    ("connection is closed", HubUnreachable, _LOST),
    ("connection is lost", HubUnreachable, _LOST),
    ("server closed the connection", HubUnreachable, _LOST),
    ("consuming input failed", HubUnreachable, _LOST),
    ("sending query failed", HubUnreachable, _LOST),
    ("connection reset", HubUnreachable, _LOST),
    ("broken pipe", HubUnreachable, _LOST),
    ("eof detected", HubUnreachable, _LOST),
    ("ssl", HubUnreachable, "TLS with the hub failed{at}"),
)


def _classify(exc: BaseException, address: str | None) -> tuple[type[HubError], str]:
    if isinstance(exc, HubError):
        return type(exc), str(exc)
    text = str(exc)
    found = _AT.search(text)
    where = f"{found.group(1)}:{found.group(2)}" if found else address
    at = f" at {where}" if where else ""
    if isinstance(exc, errors.UndefinedTable):
        return HubNotInitialised, _NOT_INIT
    if isinstance(exc, errors.InsufficientPrivilege):
        return HubRefused, f"hub refused: this desk may not do that ({_first_line(text)})"
    if isinstance(exc, errors.LockNotAvailable | errors.QueryCanceled):
        return HubUnreachable, "hub was too slow to answer (timed out); will try again"
    if isinstance(exc, errors.AdminShutdown | errors.CrashShutdown):
        return HubUnreachable, _LOST + " (hub restarting?)"
    if isinstance(exc, errors.ConnectionTimeout):
        return HubUnreachable, _NO_ANSWER.format(at=at)
    if isinstance(exc, psycopg.OperationalError | OSError):
        low = text.lower()
        for needle, kind, words in _MESSAGES:
            if needle in low:
                return kind, words.format(at=at)
        if isinstance(exc, TimeoutError):
            return HubUnreachable, _NO_ANSWER.format(at=at)
        if isinstance(exc, ConnectionError):
            return HubUnreachable, _LOST
        if isinstance(exc, OSError):
            return HubUnreachable, f"no route to hub{at}"
        return HubUnreachable, f"hub connection failed{at}: {_first_line(text)}"
    if isinstance(exc, psycopg.Error):
        return HubError, "hub error: " + _first_line(text)
    return HubError, _first_line(text) or type(exc).__name__


__all__ = [
    "CONNECT_TIMEOUT_S",
    "PUSH_BATCH",
    "DeskLogin",
    "HubClient",
    "HubError",
    "HubNotInitialised",
    "HubRefused",
    "HubSchemaTooNew",
    "HubUnreachable",
    "PreparedPush",
    "PulledRow",
    "create_desk",
    "create_desk_login",
    "describe_error",
    "desk_role_name",
    "desk_url",
    "init_hub",
    "prepare_push",
]
