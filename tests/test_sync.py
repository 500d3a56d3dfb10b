"""Desk sync against the real PostgreSQL: rounds, cursors, failures in plain words, nothing lost.

That a desk's role may only insert and select on the hub (never update or delete) is proved
in tests/test_hub.py::test_desk_role_may_insert_and_select_only; the hub's own side of the
out-of-order commit hazard in test_hub.py::test_out_of_order_commit_is_not_skipped. Here the
same hazard is driven from whole desks (test_a_pull_never_skips_while_desks_push_at_once).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pg
import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import func, select
from tcpproxy import TcpProxy

from desktop import desk, deskkit, digest, journal, registry, sync
from desktop.attendance import desk_names
from desktop.demo import create_demo
from desktop.hub import HubClient, create_desk_login, init_hub
from desktop.models import Attendee, Operation, SyncCursor
from desktop.store import Store, open_store

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server() -> None:
    pg.require_desk_passwords()


@dataclass
class Hub:
    admin: str

    def desk(self, label: str) -> str:
        """A new desk login's connection URL."""
        return create_desk_login(self.admin, pg.desk_name(self.admin, label)).url

    def rows(self) -> tuple[int, int]:
        """(rows, distinct op_ids) on the hub."""
        with psycopg.connect(self.admin) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT op_id) FROM ops").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])


@pytest.fixture
def hub(server: None) -> Iterator[Hub]:
    with pg.fresh_database() as url:
        init_hub(url)
        yield Hub(url)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[dict[str, Store]]:
    opened: dict[str, Store] = {}

    class Opener(dict[str, Store]):
        def __missing__(self, name: str) -> Store:
            store = open_store(tmp_path / name)
            opened[name] = store
            self[name] = store
            return store

    yield Opener()
    for store in opened.values():
        store.close()


def organiser(store: Store) -> str:
    """Create the demo event at this desk; its id."""
    with store.begin() as session:
        return create_demo(session, store.data_dir).event_id


def fingerprint(store: Store) -> str:
    with store.begin() as session:
        return str(digest.state_digest(session)["all"])


def op_ids(store: Store) -> set[str]:
    with store.begin() as session:
        return set(session.scalars(select(Operation.op_id)))


def waiting(store: Store) -> int:
    with store.begin() as session:
        return sync.waiting_count(session)


def record_scans(store: Store, count: int) -> list[journal.Op]:
    with store.begin() as session:
        ctx = desk.context(session)
        people = [a.id for a in registry.list_attendees(session, ctx.event_id)]
        items = [
            (
                "scan",
                {
                    "attendee_id": people[i % len(people)],
                    "session_id": None,
                    "decision": "ok",
                    "at": f"2024-08-28T0{i % 10}:00:00",
                    "raw": f"scan {i}",
                },
            )
            for i in range(count)
        ]
        return journal.record_many(session, ctx, items)


def edit(store: Store, index: int, **fields: str) -> None:
    with store.begin() as session:
        ctx = desk.context(session)
        people = registry.list_attendees(session, ctx.event_id)
        registry.update(session, ctx, people[index].id, fields)


def cursor_of(store: Store) -> int:
    with store.begin() as session:
        return int(session.scalar(select(func.max(SyncCursor.last_seq))) or 0)


# --- rounds -----------------------------------------------------------------------------------


def test_two_desks_converge_through_the_hub(hub: Hub, stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    a_url, b_url = hub.desk("a"), hub.desk("b")
    made = len(op_ids(a))
    first = sync.sync_once(a, a_url)
    assert first.ok and first.error is None
    assert first.pushed == made
    assert first.waiting == 0
    assert hub.rows() == (made, made)

    joined = deskkit.join_from_hub(b, b_url)
    assert joined.event_id == event_id
    assert joined.applied == made
    edit(b, 3, organisation="Edited at B")
    edit(a, 3, position="Edited at A")
    record_scans(a, 5)
    assert waiting(a) == 5 + 1
    report_a = sync.sync_once(a, a_url)
    assert report_a.pushed == 6
    assert report_a.applied == 1  # B's desk name, sent when B joined
    report_b = sync.sync_once(b, b_url)
    assert report_b.pushed == 1  # the edit
    assert report_b.applied == 6
    assert sync.sync_once(a, a_url).applied == 1  # B's edit
    assert fingerprint(a) == fingerprint(b)
    with b.begin() as session:
        person = registry.list_attendees(session, event_id)[3]
        assert (person.organisation, person.position) == ("Edited at B", "Edited at A")
    # Nothing moves when nothing changed.
    again = sync.sync_once(b, b_url)
    assert (again.pushed, again.pulled, again.applied) == (0, 0, 0)
    assert hub.rows()[0] == hub.rows()[1] == len(op_ids(a))


def test_push_goes_in_clock_order_in_batches_and_marks_pushed(
    hub: Hub, stores: dict[str, Store]
) -> None:
    a = stores["a"]
    organiser(a)
    record_scans(a, 40)
    url = hub.desk("a")
    report = sync.sync_once(a, url, batch_size=7)
    assert report.ok
    with a.begin() as session:
        local = list(session.scalars(select(Operation.op_id).order_by(Operation.hlc)))
        assert session.scalar(select(func.count()).where(~Operation.pushed)) == 0
    with psycopg.connect(hub.admin) as conn:
        on_hub = [str(r[0]) for r in conn.execute("SELECT op_id FROM ops ORDER BY seq")]
        batches = conn.execute("SELECT count(DISTINCT xmin::text) FROM ops").fetchone()
    assert on_hub == local
    assert batches is not None and batches[0] >= len(local) // 7


def test_pulled_batch_and_cursor_move_in_one_transaction(
    hub: Hub, stores: dict[str, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    record_scans(a, 30)
    sync.sync_once(a, hub.desk("a"))
    b_url = hub.desk("b")
    # B pulls in batches of 50; the third batch's cursor move fails as a crash would.
    moves: list[int] = []
    real_move = sync._move_cursor

    def failing_move(session: Any, hub_id: str, event: str, seq: int) -> None:
        moves.append(seq)
        if len(moves) == 3:
            raise sync.SyncError("the desk was switched off")
        real_move(session, hub_id, event, seq)

    monkeypatch.setattr(sync, "_move_cursor", failing_move)
    report = sync.sync_once(b, b_url, event_ids=[event_id], batch_size=50)
    assert report.error == "the desk was switched off"
    assert report.state == sync.FAILED
    assert cursor_of(b) == moves[1] == 100
    assert len(op_ids(b)) == 100  # the third batch went with its cursor move
    monkeypatch.setattr(sync, "_move_cursor", real_move)
    report = sync.sync_once(b, b_url, event_ids=[event_id], batch_size=50)
    assert report.ok
    assert report.applied == len(op_ids(a)) - 100
    assert op_ids(b) == op_ids(a)


def test_an_operation_back_from_the_hub_counts_as_pushed(
    hub: Hub, stores: dict[str, Store]
) -> None:
    """A push that reached the hub but broke before the desk heard so is settled by the pull."""
    a = stores["a"]
    event_id = organiser(a)
    url = hub.desk("a")
    with a.begin() as session:
        ops = [
            journal.Op(r.op_id, r.event_id, r.desk_id, r.hlc, r.kind, r.payload, r.operator_id)
            for r in session.scalars(select(Operation))
        ]
    with HubClient(url) as client:
        client.push([op.to_dict() for op in ops])
    assert waiting(a) == len(ops)
    with HubClient(url) as client:
        # Pull only, as a round whose push broke after the hub committed would go on.
        hub_id = client.hub_id()
        sync._adopt_hub(a, hub_id)
        tally = sync._Tally()
        sync._pull(a, client, hub_id, event_id, 1000, tally, None)
    assert tally.pulled == tally.applied == 0  # its own came back as a confirmation only
    assert waiting(a) == 0
    assert hub.rows() == (len(ops), len(ops))


# --- failures: each says what happened, and nothing is lost or doubled -----------------------


def test_cut_mid_push_then_sync_again(hub: Hub, stores: dict[str, Store]) -> None:
    a = stores["a"]
    organiser(a)
    record_scans(a, 3000)
    total = len(op_ids(a))
    url = hub.desk("a")
    with TcpProxy("127.0.0.1", 5432) as proxy, HubClient(proxy.url_for(url), batch_size=500) as c:
        c.check()
        proxy.cut_after(client_bytes=400_000)  # a few batches in
        report = sync.sync_round(a, c, batch_size=500)
        assert proxy.cuts == 1
    assert report.error == "connection to hub lost"
    assert report.state == sync.OFFLINE
    assert 0 < report.pushed < total
    assert waiting(a) == total - report.pushed
    with a.begin() as session:
        sync.set_hub_url(session, url)
        status = sync.sync_status(session)
    assert status.state == sync.OFFLINE
    assert status.last_error == "connection to hub lost"
    assert status.status_line() == (
        f"Sync: offline · {total - report.pushed} waiting · never synced · connection to hub lost"
    )
    on_hub = hub.rows()
    assert on_hub[0] == on_hub[1] >= report.pushed  # the cut batch may have committed

    again = sync.sync_once(a, url)
    assert again.ok
    assert again.pushed == total - report.pushed
    assert hub.rows() == (total, total)
    assert waiting(a) == 0
    with a.begin() as session:
        assert sync.sync_status(session).state == sync.ONLINE


def test_cut_mid_pull_then_sync_again(hub: Hub, stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    record_scans(a, 3000)
    sync.sync_once(a, hub.desk("a"))
    b_url = hub.desk("b")
    with TcpProxy("127.0.0.1", 5432) as proxy, HubClient(proxy.url_for(b_url), batch_size=500) as c:
        c.check()
        proxy.cut_after(server_bytes=600_000)
        report = sync.sync_round(b, c, event_ids=[event_id], batch_size=500)
        assert proxy.cuts == 1
    assert report.error == "connection to hub lost"
    assert 0 < report.applied < len(op_ids(a))
    assert len(op_ids(b)) == report.applied == cursor_of(b)
    again = deskkit.join_from_hub(b, b_url, event_id)
    assert again.applied == len(op_ids(a)) - report.applied
    sync.sync_once(a, hub.desk("a2"))
    assert fingerprint(a) == fingerprint(b)
    with b.begin() as session:
        assert session.scalar(select(func.count()).select_from(Attendee)) == 130


def test_wrong_password_is_said_and_nothing_is_lost(hub: Hub, stores: dict[str, Store]) -> None:
    a = stores["a"]
    organiser(a)
    url = hub.desk("a")
    wrong = url.replace(url.split("@")[0].split(":")[-1], "not-the-password")
    report = sync.sync_once(a, wrong)
    assert report.error == "hub refused the password"
    assert report.state == sync.REFUSED
    assert (report.pushed, report.pulled) == (0, 0)
    with a.begin() as session:
        sync.set_hub_url(session, wrong)
        status = sync.sync_status(session)
    assert status.status_line() == (
        f"Sync: hub refused this desk · {waiting(a)} waiting · never synced"
        " · hub refused the password"
    )
    assert hub.rows() == (0, 0)
    made = waiting(a)
    assert made > 0
    assert sync.sync_once(a, url).pushed == made
    assert hub.rows() == (made, made)


def test_missing_schema_is_said_then_init_fixes_it(server: None, stores: dict[str, Store]) -> None:
    a = stores["a"]
    organiser(a)
    with pg.fresh_database() as bare:
        report = sync.sync_once(a, bare)
        assert report.error == "hub is not initialised (run eventdesk hub init)"
        assert report.state == sync.REFUSED
        assert waiting(a) > 0
        init_hub(bare)
        assert sync.sync_once(a, bare).ok
        assert waiting(a) == 0


def test_no_hub_at_all_is_offline(stores: dict[str, Store]) -> None:
    a = stores["a"]
    organiser(a)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = sync.sync_once(a, f"postgresql://x:y@127.0.0.1:{port}/hub")
    assert report.state == sync.OFFLINE
    assert report.error == f"hub not reachable at 127.0.0.1:{port} (connection refused)"


def test_a_desk_without_an_event_is_told_to_join(hub: Hub, stores: dict[str, Store]) -> None:
    report = sync.sync_once(stores["empty"], hub.desk("e"))
    assert report.error == "no event open on this desk: join one first (eventdesk join)"


def test_a_hub_made_afresh_gets_everything_again(server: None, stores: dict[str, Store]) -> None:
    """A re-created hub starts its sequence again: old cursors must not be used on it."""
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    name = f"edtest_afresh_{uuid.uuid4().hex[:8]}"
    admin = pg.admin_url(name)

    def create() -> tuple[str, str]:
        with psycopg.connect(pg.ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        init_hub(admin)
        return (
            create_desk_login(admin, f"a_{name}").url,
            create_desk_login(admin, f"b_{name}").url,
        )

    try:
        a_url, b_url = create()
        sync.sync_once(a, a_url)
        deskkit.join_from_hub(b, b_url)
        record_scans(a, 10)
        sync.sync_once(a, a_url)
        sync.sync_once(b, b_url)
        assert cursor_of(b) > 0
        made_at_a = len(op_ids(a)) - 1  # all but B's desk name
        with HubClient(a_url) as client:
            old_id = client.hub_id()
        init_hub(admin)  # init again keeps the hub's identity
        with HubClient(a_url) as client:
            assert client.hub_id() == old_id
        pg.drop_database(name)

        a_url, b_url = create()
        with HubClient(a_url) as client:
            assert client.hub_id() != old_id
        record_scans(b, 3)
        b_report = sync.sync_once(b, b_url)
        assert b_report.ok
        assert b_report.pushed == 3 + 1  # its scans and its desk name: everything it made
        a_report = sync.sync_once(a, a_url)
        assert a_report.pushed == made_at_a
        assert a_report.applied == 3  # B's scans; B's desk name was here already
        sync.sync_once(b, b_url)
        assert op_ids(a) == op_ids(b)
        assert fingerprint(a) == fingerprint(b)
        with psycopg.connect(admin) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT op_id) FROM ops").fetchone()
        assert row == (len(op_ids(a)), len(op_ids(a)))
        assert event_id in {e.event_id for e in deskkit.hub_events(a_url)}
    finally:
        pg.drop_database(name)


def test_newer_and_malformed_operations_on_the_hub(hub: Hub, stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    a_url = hub.desk("a")
    sync.sync_once(a, a_url)
    deskkit.join_from_hub(b, hub.desk("b"))
    # A desk role can insert anything the hub accepts; a newer program may send new kinds.
    hlc = "1999999999999-0000-zz"
    with psycopg.connect(a_url, autocommit=True) as conn:
        for kind, payload in (
            ("attendee.put", {"given_name": "no id"}),  # malformed: skipped
            ("future.thing", {"id": "x"}),  # newer: stops here
        ):
            conn.execute(
                "INSERT INTO ops (op_id, event_id, desk_id, hlc, kind, payload)"
                " VALUES (%s, %s, 'zz', %s, %s, %s)",
                [str(uuid.uuid4()), event_id, hlc, kind, Jsonb(payload)],
            )
    record_scans(a, 2)
    sync.sync_once(a, a_url)
    before = cursor_of(b)
    report = sync.sync_once(b, hub.desk("b2"))
    assert report.skipped == 1
    assert report.error is not None
    assert "newer EventDesk (kind 'future.thing')" in report.error
    assert "update EventDesk" in report.error
    assert cursor_of(b) == before + 1  # past the malformed one, in front of the newer one
    again = sync.sync_once(b, hub.desk("b3"))
    assert again.error == report.error
    assert cursor_of(b) == before + 1  # it does not skip what it cannot apply yet


def test_an_operation_the_hub_cannot_hold_stays_and_does_not_block(
    hub: Hub, stores: dict[str, Store]
) -> None:
    a = stores["a"]
    organiser(a)
    with a.begin() as session:
        ctx = desk.context(session)
        journal.record(session, ctx, "scan", {"decision": "invalid", "raw": "bad\x00scan"})
    record_scans(a, 3)
    url = hub.desk("a")
    report = sync.sync_once(a, url, batch_size=50)
    assert report.ok
    assert report.unsendable == 1
    assert waiting(a) == 1
    assert hub.rows()[0] == len(op_ids(a)) - 1
    assert "1 operation(s) here cannot be sent" in report.summary()
    assert sync.sync_once(a, url).unsendable == 1  # still here, still not blocking


# --- a pull never skips ---------------------------------------------------------------------


def test_a_pull_never_skips_while_desks_push_at_once(hub: Hub, stores: dict[str, Store]) -> None:
    a, b, c = stores["a"], stores["b"], stores["c"]
    event_id = organiser(a)
    sync.sync_once(a, hub.desk("a"))
    deskkit.join_from_hub(b, hub.desk("b"))
    deskkit.join_from_hub(c, hub.desk("c"))
    record_scans(a, 1500)
    record_scans(b, 1500)
    errors: list[BaseException] = []

    def push(store: Store, url: str) -> None:
        try:
            # Many small batches, so the two desks' inserts interleave on the hub.
            with HubClient(url, batch_size=20) as client:
                report = sync.sync_round(store, client, batch_size=20)
            assert report.ok, report.error
        except BaseException as exc:  # reported below
            errors.append(exc)

    writers = [
        threading.Thread(target=push, args=(a, hub.desk("a2"))),
        threading.Thread(target=push, args=(b, hub.desk("b2"))),
    ]
    for t in writers:
        t.start()
    rounds = 0
    with HubClient(hub.desk("c2"), batch_size=37) as reader:
        while any(t.is_alive() for t in writers):
            report = sync.sync_round(c, reader, event_ids=[event_id], batch_size=37)
            assert report.ok, report.error
            rounds += 1
        for t in writers:
            t.join()
        assert sync.sync_round(c, reader, event_ids=[event_id], batch_size=37).ok
    assert errors == []
    assert rounds > 1
    assert op_ids(a) | op_ids(b) <= op_ids(c)
    assert len(op_ids(c)) == hub.rows()[0]


# --- the hub restarted (a private PostgreSQL cluster, so the shared one is left alone) -------


@dataclass
class Cluster:
    bindir: Path
    datadir: Path
    port: int
    runas: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.runas, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir} -c fsync=off"
        self.ctl("-o", options, "-l", str(self.datadir / "server.log"), "-w", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "-w", "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))[-1].parent
    root = Path(tempfile.mkdtemp(prefix="eventdesk-pg-"))
    runas: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        shutil.chown(root, "postgres", "postgres")
        runas = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(bindir, root / "data", _free_port(), runas)
    started = False
    try:
        subprocess.run(
            [
                *runas,
                str(bindir / "initdb"),
                "-D",
                str(cluster.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        cluster.start()
        started = True
        yield cluster
    finally:
        if started:
            with contextlib.suppress(subprocess.SubprocessError):
                cluster.ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_hub_restart_is_said_and_nothing_is_lost(stores: dict[str, Store]) -> None:
    a, b = stores["a"], stores["b"]
    organiser(a)
    with private_cluster() as cluster:
        init_hub(cluster.url)
        a_url = create_desk_login(cluster.url, "a").url
        b_url = create_desk_login(cluster.url, "b").url
        # One long-lived client per desk, as the app's background worker keeps.
        with HubClient(a_url, batch_size=200) as ca, HubClient(b_url, batch_size=200) as cb:
            assert sync.sync_round(a, ca).ok
            event_id = deskkit.join_from_hub(b, b_url).event_id
            record_scans(a, 500)
            record_scans(b, 300)
            cluster.stop()
            down = sync.sync_round(a, ca)
            assert down.state == sync.OFFLINE
            assert down.error is not None
            assert down.error.startswith(("connection to hub lost", "hub not reachable"))
            down_again = sync.sync_round(a, ca)
            assert down_again.error == (
                f"hub not reachable at 127.0.0.1:{cluster.port} (connection refused)"
            )
            assert waiting(a) == 500
            cluster.start()
            for store, client in ((a, ca), (b, cb), (a, ca)):
                report = sync.sync_round(store, client, event_ids=[event_id])
                assert report.ok, report.error
        assert waiting(a) == waiting(b) == 0
        assert op_ids(a) == op_ids(b)
        assert fingerprint(a) == fingerprint(b)
        with psycopg.connect(cluster.url) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT op_id) FROM ops").fetchone()
        assert row == (len(op_ids(a)), len(op_ids(a)))


# --- settings and words ---------------------------------------------------------------------


def test_status_without_a_hub(stores: dict[str, Store]) -> None:
    a = stores["a"]
    organiser(a)
    with a.begin() as session:
        status = sync.sync_status(session)
    assert not status.configured
    assert status.state == sync.NO_HUB
    assert status.status_line() == (
        f"Sync: no hub configured · {status.waiting} change(s) kept on this desk"
    )
    assert status.waiting > 100


def test_hub_url_settings_and_masking(stores: dict[str, Store]) -> None:
    a = stores["a"]
    url = "postgresql://eventdesk_desk_a:s3cr%2Ft@10.0.0.5:6543/hub?sslmode=require"
    with a.begin() as session:
        sync.set_hub_url(session, f"  {url} ")
        assert sync.hub_url(session) == url
        with pytest.raises(sync.SyncError, match="starts with postgresql://"):
            sync.set_hub_url(session, "http://example.org")
        sync.set_hub_url(session, "")
        assert sync.hub_url(session) == ""
    masked = sync.mask_url(url)
    assert "s3cr" not in masked
    assert masked == "postgresql://eventdesk_desk_a:••••••@10.0.0.5:6543/hub?sslmode=require"
    assert "pw" not in sync.mask_url("postgresql://h/db?user=u&password=pw")
    assert sync.hub_label(url) == "10.0.0.5:6543/hub"
    assert sync.hub_label("postgresql://u@[::1]/db") == "[::1]:5432/db"


@pytest.mark.parametrize("batch", [1, 2, 3, 7])
def test_tiny_batches_move_everything_both_ways(
    hub: Hub, stores: dict[str, Store], batch: int
) -> None:
    # Pushing overlaps sending one batch with reading the next: every size must still send
    # each operation once, and the pulling desk must end up with the same state.
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    record_scans(a, 9)
    count = len(op_ids(a))
    pushed = sync.sync_once(a, hub.desk("a"), batch_size=batch)
    assert pushed.ok and pushed.pushed == count
    assert waiting(a) == 0
    pulled = sync.sync_once(b, hub.desk("b"), batch_size=batch, event_ids=[event_id])
    assert pulled.ok and pulled.applied == count
    assert fingerprint(a) == fingerprint(b)
    assert sync.sync_once(a, hub.desk("a-again"), batch_size=batch).pushed == 0


def test_operations_sharing_a_clock_across_a_batch_edge_are_each_sent_once(
    hub: Hub, stores: dict[str, Store]
) -> None:
    a = stores["a"]
    organiser(a)
    record_scans(a, 6)
    with a.begin() as session:
        rows = session.execute(select(Operation.op_id, Operation.hlc).order_by(Operation.hlc)).all()
        tied = rows[3].hlc
        for row in rows[4:8]:
            session.execute(
                Operation.__table__.update().where(Operation.op_id == row.op_id).values(hlc=tied)
            )
    count = len(op_ids(a))
    for batch in (2, 3, 4):
        with a.begin() as session:
            session.execute(Operation.__table__.update().values(pushed=False))
        report = sync.sync_once(a, hub.desk(f"a{batch}"), batch_size=batch)
        assert report.ok and report.pushed == count, (batch, report)
        assert waiting(a) == 0


def test_stored_text_the_hub_refuses_is_named_and_the_connection_goes_on(hub: Hub) -> None:
    from desktop.opwire import OpShapeError, StoredJson

    good = {
        "op_id": "0190a0b0-0000-7000-8000-000000000001",
        "event_id": "e",
        "desk_id": "d",
        "hlc": "1724800000000-0000-d",
        "kind": "scan",
        "payload": StoredJson('{"a": 1}'),
        "operator_id": None,
    }
    bad = dict(good, op_id="0190a0b0-0000-7000-8000-000000000002", payload=StoredJson("{abc}"))
    with HubClient(hub.desk("x")) as client:
        with pytest.raises(OpShapeError):
            client.push([good, bad])
        assert client.push([good]) == 1
        assert client.pull("e", 0, 10)[0][1]["payload"] == {"a": 1}


def test_a_desk_joins_under_the_name_given_and_the_others_show_it(
    hub: Hub, stores: dict[str, Store]
) -> None:
    a, b = stores["a"], stores["b"]
    event_id = organiser(a)
    a_url = hub.desk("a")
    assert sync.sync_once(a, a_url).ok
    deskkit.join_from_hub(b, hub.desk("b"), desk_name="  Entrance   2 ")
    with b.begin() as session:
        assert desk.desk_name(session) == "Entrance 2"
        b_id = desk.desk_id(session)
    record_scans(b, 1)
    assert sync.sync_once(b, hub.desk("b-again")).ok
    assert sync.sync_once(a, a_url).ok
    with a.begin() as session:
        assert desk_names(session, [b_id]) == {b_id: "Entrance 2"}
    with pytest.raises(deskkit.KitError, match="desk name"):
        deskkit.join_from_hub(stores["c"], hub.desk("c"), event_id, desk_name="   ")
