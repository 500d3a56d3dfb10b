"""The hub against the real PostgreSQL: set-up, desk rights, push/pull, failures in plain words.

Every test gets a fresh database (tests/pg.py). Desk roles log in with a password (the helper
adds a SCRAM rule for them), so a wrong password is really refused.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pg
import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from tcpproxy import TcpProxy

from desktop import hubschema
from desktop.hub import (
    HubClient,
    HubError,
    HubNotInitialised,
    HubRefused,
    HubSchemaTooNew,
    HubUnreachable,
    create_desk,
    create_desk_login,
    describe_error,
    desk_role_name,
    desk_url,
    init_hub,
)
from desktop.opwire import OpShapeError

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="session")
def server() -> None:
    pg.require_desk_passwords()


@pytest.fixture
def bare_db(server: None) -> Iterator[str]:
    """Superuser URL of a new, empty database (no hub schema)."""
    with pg.fresh_database() as url:
        yield url


@pytest.fixture
def hub(bare_db: str) -> str:
    """Superuser URL of a new, initialised hub."""
    init_hub(bare_db)
    return bare_db


@pytest.fixture
def desk(hub: str) -> str:
    """Connection URL of a desk role on the hub."""
    return create_desk(hub, pg.desk_name(hub, "a"))


def make_op(i: int, *, event_id: str = "ev1", desk_id: str = "desk-a") -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "event_id": event_id,
        "desk_id": desk_id,
        "hlc": f"{1724800000000 + i:013d}-0000-{desk_id}",
        "kind": "scan",
        "payload": {"i": i, "name": "Ñoño Đặng 李", "deep": {"list": [1, 2.5, None, "x"]}},
        "operator_id": None if i % 2 else "op-1",
    }


def push_once(url: str, ops: list[dict[str, Any]]) -> int:
    with HubClient(url) as client:
        return client.push(ops)


def pull_all(
    client: HubClient, event_id: str | None, after: int = 0, limit: int = 1000
) -> list[tuple[int, dict[str, Any]]]:
    got: list[tuple[int, dict[str, Any]]] = []
    while True:
        batch = client.pull(event_id, after, limit)
        if not batch:
            return got
        got += batch
        after = batch[-1][0]


def hub_count(url: str) -> tuple[int, int]:
    """(rows, distinct op_ids) in ops, read as superuser."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT op_id) FROM ops").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


# --- set-up -----------------------------------------------------------------------------------


def test_init_is_idempotent_and_versioned(hub: str) -> None:
    init_hub(hub)  # a second run changes nothing and does not fail
    with psycopg.connect(hub, autocommit=True) as conn:
        row = conn.execute(hubschema.READ_VERSION).fetchone()
        assert row == (str(hubschema.SCHEMA_VERSION),)
        conn.execute("UPDATE eventdesk_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(HubSchemaTooNew) as raised:
        init_hub(hub)
    assert (
        describe_error(raised.value) == "hub schema is newer than this program (update EventDesk)"
    )
    with pytest.raises(HubSchemaTooNew), HubClient(hub) as client:
        client.check()


def test_missing_schema_is_named(bare_db: str) -> None:
    with pytest.raises(HubNotInitialised) as raised, HubClient(bare_db) as client:
        client.pull(None, 0, 10)
    assert describe_error(raised.value) == "hub is not initialised (run eventdesk hub init)"
    with pytest.raises(HubNotInitialised):
        create_desk(bare_db, "a")
    # A raw error from a half-built hub reads the same.
    with psycopg.connect(bare_db) as conn, pytest.raises(errors.UndefinedTable) as raw:
        conn.execute("SELECT * FROM ops")
    assert describe_error(raw.value) == "hub is not initialised (run eventdesk hub init)"


def test_desk_url_keeps_host_database_and_tls_settings(hub: str) -> None:
    url = hub.replace("postgresql://", "postgres://") + "?sslmode=disable&application_name=door"
    login = create_desk_login(url, pg.desk_name(hub, "Entrance Désk #2"))
    assert login.role.startswith("eventdesk_desk_entrance_desk_2_")
    assert not login.renewed
    assert login.url.startswith(f"postgresql://{login.role}:")
    params = conninfo_to_dict(login.url)
    assert params["host"] == "127.0.0.1"
    assert params["port"] == "5432"
    assert params["dbname"] == hub.rsplit("/", 1)[1]
    assert params["sslmode"] == "disable"
    assert params["application_name"] == "door"
    assert len(str(params["password"])) >= 40
    with psycopg.connect(login.url) as conn:
        row = conn.execute("SELECT current_user, current_setting('application_name')").fetchone()
    assert row == (login.role, "door")
    # TLS settings reach libpq: this server has no TLS, so requiring it must fail.
    with pytest.raises(HubRefused) as raised, HubClient(login.url + "&sslmode=require") as client:
        client.check()
    assert str(raised.value) == "hub does not offer TLS but the URL requires it"


def test_desk_url_quotes_odd_characters() -> None:
    url = desk_url("postgresql://admin:x@[::1]:6543/my%20db?sslmode=verify-full", "r", "p@ss/word")
    assert url == "postgresql://r:p%40ss%2Fword@[::1]:6543/my%20db?sslmode=verify-full"


def test_desk_names_are_sanitised() -> None:
    assert desk_role_name("Entrance Désk #2") == "eventdesk_desk_entrance_desk_2"
    assert desk_role_name("  Session-Door  ") == "eventdesk_desk_session_door"
    assert len(desk_role_name("x" * 200)) == 63
    with pytest.raises(ValueError, match="letter or digit"):
        desk_role_name("!!!")


def test_creating_a_desk_again_renews_its_password(hub: str) -> None:
    name = pg.desk_name(hub, "door")
    first = create_desk_login(hub, name)
    second = create_desk_login(hub, name)
    assert second.renewed
    assert second.role == first.role
    assert second.url != first.url
    with HubClient(second.url) as client:
        client.check()
    with pytest.raises(HubRefused, match="hub refused the password"), HubClient(first.url) as c:
        c.check()


def test_a_foreign_role_with_a_desk_name_is_not_taken_over(hub: str) -> None:
    name = pg.desk_name(hub, "foreign")
    with psycopg.connect(hub, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(desk_role_name(name))))
    with pytest.raises(HubError, match="already exists and is not an EventDesk desk"):
        create_desk(hub, name)


# --- rights -----------------------------------------------------------------------------------


def test_desk_role_may_insert_and_select_only(hub: str, desk: str) -> None:
    with HubClient(desk) as client:
        assert client.push([make_op(1)]) == 1
        assert len(client.pull(None, 0, 10)) == 1
    forbidden = [
        "UPDATE ops SET kind = 'x'",
        "DELETE FROM ops",
        "TRUNCATE ops",
        "DROP TABLE ops",
        "ALTER TABLE ops DISABLE TRIGGER ops_assign_seq",
        "UPDATE eventdesk_meta SET value = '0'",
        "INSERT INTO eventdesk_meta VALUES ('x', 'y')",
        "SELECT setval('ops_seq_seq', 1)",
        "CREATE TABLE public.mine (x int)",
    ]
    with psycopg.connect(desk, autocommit=True) as conn:
        for statement in forbidden:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        # A desk cannot choose its own seq (or received_at): the hub assigns them.
        conn.execute(
            "INSERT INTO ops (seq, op_id, event_id, desk_id, hlc, kind, payload, received_at)"
            " VALUES (1000000, %s, 'ev1', 'd', '1-0-d', 'scan', '{}', '2000-01-01')",
            [str(uuid.uuid4())],
        )
        row = conn.execute("SELECT max(seq), max(received_at) > now() - interval '1 day' FROM ops")
        assert row.fetchone() == (2, True)
    with psycopg.connect(desk) as conn, pytest.raises(errors.InsufficientPrivilege) as raised:
        conn.execute("DELETE FROM ops")
    assert describe_error(raised.value).startswith("hub refused: this desk may not do that")
    assert hub_count(hub) == (2, 2)


# --- push and pull ----------------------------------------------------------------------------


def test_push_pull_round_trip(desk: str) -> None:
    ops = [make_op(i, event_id="ev1" if i % 3 else "ev2") for i in range(30)]
    with HubClient(desk) as client:
        assert client.push(ops) == 30
        everything = pull_all(client, None, limit=7)
        assert [op for _, op in everything] == ops
        seqs = [seq for seq, _ in everything]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 30
        ev2 = pull_all(client, "ev2", limit=4)
        assert [op for _, op in ev2] == [op for op in ops if op["event_id"] == "ev2"]
        assert client.pull("ev1", everything[-1][0], 100) == []
        assert client.pull("nothing-here", 0, 100) == []
        assert client.events() == [("ev1", 20), ("ev2", 10)]
    with HubClient(desk.replace("postgresql://", "postgres://", 1)) as client:
        assert [op for _, op in client.pull(None, 0, 100)] == ops


def test_duplicates_are_ignored(hub: str, desk: str) -> None:
    ops = [make_op(i) for i in range(20)]
    with HubClient(desk) as client:
        assert client.push(ops[:10]) == 10
        assert client.push(ops[:10]) == 0
        assert client.push(ops[5:15]) == 5
        assert client.push([ops[15], ops[15], ops[16]]) == 2  # repeated inside one call
        assert client.push(ops) == 3
        assert [op["op_id"] for _, op in pull_all(client, None)] == [op["op_id"] for op in ops]
    assert hub_count(hub) == (20, 20)


def test_push_goes_in_batches_of_one_transaction_each(hub: str, desk: str) -> None:
    ops = [make_op(i) for i in range(50)]
    with HubClient(desk, batch_size=7) as client:
        assert client.push(ops) == 50
    with psycopg.connect(hub) as conn:
        row = conn.execute("SELECT count(DISTINCT xmin::text) FROM ops").fetchone()
    assert row == (8,)  # ceil(50 / 7) transactions


def test_a_bad_operation_is_refused_before_anything_is_sent(hub: str, desk: str) -> None:
    bad = make_op(2)
    bad["op_id"] = bad["op_id"].upper()
    with pytest.raises(OpShapeError, match="canonical"), HubClient(desk) as client:
        client.push([make_op(1), bad])
    assert hub_count(hub) == (0, 0)


def test_push_works_where_desks_may_not_make_temporary_tables(hub: str, desk: str) -> None:
    with psycopg.connect(hub, autocommit=True) as conn:
        dbname = sql.Identifier(hub.rsplit("/", 1)[1])
        conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(dbname))
    ops = [make_op(i) for i in range(25)]
    with HubClient(desk, batch_size=10) as client:
        assert client.push(ops) == 25
        assert not client._staging  # it really took the other way in
        assert client.push(ops) == 0
        assert [op for _, op in pull_all(client, None)] == ops


# --- the concurrency hazard -------------------------------------------------------------------


def wait_until_blocked_or_done(admin_url: str, thread: threading.Thread) -> None:
    """Block until `thread` has finished, or some session of this database waits for a lock."""
    deadline = time.monotonic() + 20
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while time.monotonic() < deadline and thread.is_alive():
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.02)
    assert time.monotonic() < deadline, "the second writer neither finished nor waited"


def test_naive_sequence_reader_skips_a_late_commit(hub: str) -> None:
    """The hazard is real: on a plain bigserial table a `seq > cursor` reader loses a row."""
    with psycopg.connect(hub, autocommit=True) as admin:
        admin.execute("CREATE TABLE naive (seq bigserial PRIMARY KEY, v text)")
        with psycopg.connect(hub) as first, psycopg.connect(hub, autocommit=True) as second:
            first.execute("INSERT INTO naive (v) VALUES ('first')")  # seq 1, not committed
            second.execute("INSERT INTO naive (v) VALUES ('second')")  # seq 2, committed
            seen = admin.execute("SELECT seq, v FROM naive WHERE seq > 0 ORDER BY seq").fetchall()
            assert seen == [(2, "second")]
            cursor = seen[-1][0]
            first.commit()
        later = admin.execute("SELECT v FROM naive WHERE seq > %s", [cursor]).fetchall()
        assert later == []  # 'first' is never delivered
        assert admin.execute("SELECT count(*) FROM naive").fetchone() == (2,)


def test_out_of_order_commit_is_not_skipped(hub: str, desk: str) -> None:
    """The same interleaving on the hub: every operation reaches a reader that keeps pulling."""
    op0, op1, op2 = make_op(0), make_op(1), make_op(2, desk_id="desk-b")
    reader = HubClient(desk)
    assert push_once(desk, [op0]) == 1
    seen = reader.pull(None, 0, 100)
    assert [op for _, op in seen] == [op0]
    cursor = seen[-1][0]

    holder = psycopg.connect(desk)  # a writer that inserts and keeps its transaction open
    holder.execute(
        "INSERT INTO ops (op_id, event_id, desk_id, hlc, kind, payload, operator_id)"
        " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
        [
            op1["op_id"],
            "ev1",
            "desk-a",
            op1["hlc"],
            "scan",
            Jsonb(op1["payload"]),
            op1["operator_id"],
        ],
    )
    pushed: list[int] = []
    second = threading.Thread(target=lambda: pushed.append(push_once(desk, [op2])))
    second.start()
    try:
        # The second writer has either committed (a naive hub) or is waiting behind the first.
        wait_until_blocked_or_done(hub, second)
        middle = reader.pull(None, cursor, 100)
        if middle:
            cursor = middle[-1][0]
        holder.commit()
        second.join(timeout=30)
        assert not second.is_alive()
    finally:
        holder.close()
    assert pushed == [1]
    rest = reader.pull(None, cursor, 100)
    delivered = [op["op_id"] for _, op in middle + rest]
    assert delivered == [op1["op_id"], op2["op_id"]]
    reader.close()


def test_concurrent_writers_and_a_reader_lose_nothing(hub: str, desk: str) -> None:
    writers = 4
    per_writer = 600
    batches = [[make_op(i, desk_id=f"desk-{w}") for i in range(per_writer)] for w in range(writers)]
    done = threading.Event()
    errors_seen: list[BaseException] = []

    def write(ops: list[dict[str, Any]]) -> None:
        try:
            with HubClient(desk, batch_size=25) as client:
                client.push(ops)
        except BaseException as exc:  # reported below
            errors_seen.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    got: list[tuple[int, dict[str, Any]]] = []
    cursor = 0
    with HubClient(desk) as reader:
        while not done.is_set():
            if not any(t.is_alive() for t in threads):
                done.set()  # one more pull after the last writer finished
            batch = reader.pull(None, cursor, 97)
            got += batch
            if batch:
                cursor = batch[-1][0]
        got += pull_all(reader, None, cursor)
    assert errors_seen == []
    ids = [op["op_id"] for _, op in got]
    assert len(ids) == len(set(ids)) == writers * per_writer
    assert set(ids) == {op["op_id"] for b in batches for op in b}


# --- failures in plain words ------------------------------------------------------------------


def test_wrong_password_is_named(hub: str, desk: str) -> None:
    wrong = desk.replace(desk.split("@")[0].split(":")[-1], "not-the-password")
    assert wrong != desk
    with pytest.raises(HubRefused) as raised, HubClient(wrong) as client:
        client.push([make_op(1)])
    assert describe_error(raised.value) == "hub refused the password"
    with pytest.raises(psycopg.OperationalError) as raw:
        psycopg.connect(wrong)
    assert describe_error(raw.value) == "hub refused the password"
    assert hub_count(hub) == (0, 0)


def test_missing_database_and_closed_port_are_named(desk: str) -> None:
    base, _, _ = desk.rpartition("/")
    with pytest.raises(HubRefused) as raised, HubClient(base + "/no_such_db_here") as client:
        client.check()
    assert describe_error(raised.value) == "hub database does not exist"
    with TcpProxy("127.0.0.1", 5432) as proxy:
        closed = proxy.url_for(desk)
        port = proxy.port
    with pytest.raises(HubUnreachable) as raised, HubClient(closed) as client:
        client.check()
    assert describe_error(raised.value) == (
        f"hub not reachable at 127.0.0.1:{port} (connection refused)"
    )


def test_silent_hub_times_out_quickly(desk: str) -> None:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        proxy.blackhole = True
        url = proxy.url_for(desk) + "?connect_timeout=2"
        # connect_timeout (5 s unless the URL says otherwise) ends the wait, not the system.
        with pytest.raises(HubUnreachable) as raised, HubClient(url) as client:
            client.check()
        assert proxy.connections == 1
    assert describe_error(raised.value) == (
        f"hub not reachable at 127.0.0.1:{proxy.port} (no answer in time)"
    )


def test_connection_cut_mid_push_then_retry_loses_and_doubles_nothing(hub: str, desk: str) -> None:
    ops = [make_op(i) for i in range(10_000)]
    batch = 1000
    batch_bytes = sum(len(str(op)) for op in ops[:batch])  # more than it takes on the wire
    with (
        TcpProxy("127.0.0.1", 5432) as proxy,
        HubClient(proxy.url_for(desk), batch_size=batch) as c,
    ):
        c.check()
        proxy.cut_after(client_bytes=int(batch_bytes * 2.5))
        with pytest.raises(HubUnreachable) as raised:
            c.push(ops)
        assert proxy.cuts == 1
        assert describe_error(raised.value) == "connection to hub lost"
        before = hub_count(hub)[0]
        assert 0 < before < len(ops)  # it really was cut in the middle
        assert c.push(ops) == len(ops) - before  # the same client reconnects
    assert hub_count(hub) == (len(ops), len(ops))
    with HubClient(desk) as client:
        assert [op for _, op in pull_all(client, None, limit=2500)] == ops


def test_connection_cut_mid_pull_then_retry_loses_and_doubles_nothing(desk: str) -> None:
    ops = [make_op(i) for i in range(4000)]
    with HubClient(desk) as client:
        assert client.push(ops) == len(ops)
    with TcpProxy("127.0.0.1", 5432) as proxy, HubClient(proxy.url_for(desk)) as c:
        c.check()
        first = c.pull(None, 0, 1000)
        assert len(first) == 1000
        proxy.cut_after(server_bytes=100_000)  # in the middle of the next 3000 rows
        with pytest.raises(HubUnreachable) as raised:
            c.pull(None, first[-1][0], 3000)
        assert proxy.cuts == 1
        assert describe_error(raised.value) == "connection to hub lost"
        rest = pull_all(c, None, first[-1][0], limit=3000)
    got = [op for _, op in first + rest]
    assert got == ops
    assert len({op["op_id"] for op in got}) == len(ops)


def test_bad_urls_are_named() -> None:
    with pytest.raises(HubError, match="must start with postgresql:// or postgres://"):
        HubClient("mysql://u@h/db").check()
    with pytest.raises(HubError, match="hub URL is not valid"):
        HubClient("postgresql://[::1/db").check()


def test_describe_error_words() -> None:
    assert describe_error(OSError(113, "No route to host")) == "no route to hub"
    assert describe_error(TimeoutError("timed out")) == "hub not reachable (no answer in time)"
    assert describe_error(ConnectionResetError(104, "reset")) == "connection to hub lost"
    assert describe_error(HubNotInitialised("x")) == "x"
    lost = psycopg.OperationalError("consuming input failed: server closed the connection")
    assert describe_error(lost) == "connection to hub lost"
    assert describe_error(errors.AdminShutdown("terminating connection")).startswith(
        "connection to hub lost"
    )
