"""Three desks change things while syncing in random orders over a network that breaks.

Desk A creates the demo event; B and C join it from the hub. Then, step by step, a random desk
edits an attendee, records a scan or a badge print, or syncs through its own TCP proxy, which
now and then cuts the connection in the middle of a push or a pull. At the end every desk's
digest is the same, and equals that of a fresh desk that applied every operation at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pg
import psycopg
import pytest
from sqlalchemy import select
from tcpproxy import TcpProxy

from desktop import desk, deskkit, digest, journal, registry, sync
from desktop.demo import create_demo
from desktop.hub import HubClient, create_desk_login, init_hub
from desktop.models import Operation
from desktop.store import Store, open_store

pytestmark = pytest.mark.postgres

DESKS = ("a", "b", "c")
COUNTRIES = ("PH", "JP", "ID", "TH", "VN", "MY", "IN", "FJ")


@pytest.fixture(scope="module")
def server() -> None:
    pg.require_desk_passwords()


@pytest.fixture
def hub_url(server: None) -> Iterator[str]:
    with pg.fresh_database() as url:
        init_hub(url)
        yield url


def _fingerprint(store: Store) -> str:
    with store.begin() as session:
        return str(digest.state_digest(session)["all"])


def _tables(store: Store) -> dict[str, str]:
    with store.begin() as session:
        return dict(digest.state_digest(session)["tables"])


def _change(rng: random.Random, store: Store, step: int) -> str:
    with store.begin() as session:
        ctx = desk.context(session)
        people = [p.id for p in registry.list_attendees(session, ctx.event_id)]
        who = rng.choice(people[:12])  # a few people, so desks edit the same ones
        choice = rng.random()
        if choice < 0.4:
            field = rng.choice(("organisation", "position", "country", "badge_name"))
            value = rng.choice(COUNTRIES) if field == "country" else f"{field} {step}"
            registry.update(session, ctx, who, {field: value})
            return "edit"
        if choice < 0.8:
            journal.record(
                session,
                ctx,
                "scan",
                {
                    "attendee_id": who,
                    "session_id": None,
                    "direction": rng.choice(("entry", "exit")),
                    "decision": rng.choice(("ok", "already_in", "exit_ok")),
                    "at": f"2024-08-28T0{step % 10}:{step % 60:02d}:00",
                    "raw": f"step {step}",
                },
            )
            return "scan"
        journal.record(
            session,
            ctx,
            "badge.print",
            {"attendee_id": who, "layout": "standard", "badge_seq": 0, "reason": ""},
        )
        return "print"


def _sync(rng: random.Random, store: Store, client: HubClient, proxy: TcpProxy) -> sync.SyncReport:
    roll = rng.random()
    if roll < 0.2:
        proxy.cut_after(client_bytes=rng.randint(50, 3000))  # mid-push (or before)
    elif roll < 0.4:
        proxy.cut_after(server_bytes=rng.randint(50, 20000))  # mid-pull
    report = sync.sync_round(store, client, batch_size=rng.choice((3, 10, 50)))
    proxy.cut_after()  # any cut not used up does not carry over to the next round
    return report


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_desks_converge_despite_cuts(hub_url: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    stores = {name: open_store(tmp_path / name) for name in DESKS}
    urls = {name: create_desk_login(hub_url, pg.desk_name(hub_url, name)).url for name in DESKS}
    proxies = {name: TcpProxy("127.0.0.1", 5432) for name in DESKS}
    clients = {name: HubClient(proxies[name].url_for(urls[name])) for name in DESKS}
    try:
        with stores["a"].begin() as session:
            create_demo(session, stores["a"].data_dir)
        assert sync.sync_once(stores["a"], urls["a"]).ok
        for name in ("b", "c"):
            deskkit.join_from_hub(stores[name], urls[name])

        done = {"edit": 0, "scan": 0, "print": 0}
        failures = 0
        for step in range(120):
            name = rng.choice(DESKS)
            if rng.random() < 0.6:
                done[_change(rng, stores[name], step)] += 1
            else:
                report = _sync(rng, stores[name], clients[name], proxies[name])
                failures += not report.ok
                if not report.ok:
                    assert report.state == sync.OFFLINE
                    assert report.error is not None and "hub" in report.error
        assert min(done.values()) > 0
        assert failures > 0, "the proxies should have cut some rounds"
        assert sum(p.cuts for p in proxies.values()) >= failures

        # The network is back: each desk syncs until nothing moves.
        for _ in range(3):
            for name in rng.sample(DESKS, len(DESKS)):
                assert sync.sync_round(stores[name], clients[name]).ok
        prints = {name: _fingerprint(stores[name]) for name in DESKS}
        assert prints["a"] == prints["b"] == prints["c"], {n: _tables(s) for n, s in stores.items()}
        for name in DESKS:
            with stores[name].begin() as session:
                assert sync.waiting_count(session) == 0

        # Nothing was lost or doubled on the hub.
        with psycopg.connect(hub_url) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT op_id) FROM ops").fetchone()
        with stores["a"].begin() as session:
            ops = [
                journal.Op(r.op_id, r.event_id, r.desk_id, r.hlc, r.kind, r.payload, r.operator_id)
                for r in session.scalars(select(Operation))
            ]
        assert row == (len(ops), len(ops))

        # A fresh desk applying every operation at once, in a shuffled order, agrees.
        fresh = open_store(tmp_path / "fresh")
        try:
            rng.shuffle(ops)
            with fresh.begin() as session:
                assert journal.apply_many(session, ops) == len(ops)
            assert _fingerprint(fresh) == prints["a"]
        finally:
            fresh.close()
    finally:
        for client in clients.values():
            client.close()
        for proxy in proxies.values():
            proxy.close()
        for store in stores.values():
            store.close()
