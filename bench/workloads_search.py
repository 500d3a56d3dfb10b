"""Search workloads: search as you type on the large event, against a bare FTS5 query.

The query mix is what desk staff type: prefixes of family names, of organisations, short
codes (with and without the dash, or only the four characters), names with their accents and
special letters typed as plain ASCII ("nguyen", "yilmaz"), and a given name and family name
begun together ("yuk mats"). Each query is timed as the attendees area runs it on a keystroke:
the number found and the first page of 50 attendees, best match first
(``search.find`` + ``registry.get_many``). The baseline, on the same file
with the same strings: a bare sqlite3 connection running
``SELECT rowid FROM attendee_search WHERE attendee_search MATCH '"<string>"*'`` and fetching
every match. One untimed pass over the mix warms the caches first, as typing would; then
each string is timed both ways back to back.
"""

from __future__ import annotations

import random
import sqlite3
import time
import unicodedata

from eventdesk_bench.metrics import Metric, median, percentile
from eventdesk_bench.synthetic import SyntheticEvent
from sqlalchemy import select

from desktop import registry, search
from desktop.models import Attendee
from desktop.store import DB_NAME

QUERIES = 1000
PAGE = 50


def _ascii(text: str) -> str:
    """A name typed on a plain keyboard: accents and special letters dropped."""
    folded = search.fold(text)
    plain = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in plain if ch.isascii()).lower()


def query_mix(people: list[tuple[str, str, str, str]], count: int, seed: int = 11) -> list[str]:
    """``count`` strings typed at a desk, drawn from the event's own attendees."""
    rng = random.Random(seed)
    accented = [p for p in people if not (p[0] + p[1]).isascii()] or people
    found: list[str] = []
    for index in range(count):
        given, family, organisation, code = rng.choice(people)
        kind = index % 5
        if kind == 0:
            found.append(_ascii(family)[: rng.randint(3, 6)] or family[:3])
        elif kind == 1:
            first = (organisation.split() or ["Ministry"])[0]
            found.append(first[: rng.randint(3, 8)])
        elif kind == 2:
            forms = (code, code.replace("-", "").lower(), code.split("-")[-1])
            found.append(forms[index // 5 % 3])
        elif kind == 3:
            g, f, _, _ = rng.choice(accented)
            found.append(f"{_ascii(f)} {_ascii(g)}"[: rng.randint(4, 12)].strip())
        else:
            found.append(f"{_ascii(given)[:3]} {_ascii(family)[:4]}".strip())
    return [q for q in found if q.strip()]


def search_as_you_type(event: SyntheticEvent) -> list[Metric]:
    """p99 and median per query of the mix, against the bare FTS5 query on the same file."""
    store = event.open()
    conn = sqlite3.connect(event.folder / DB_NAME)
    ours: list[float] = []
    bare: list[float] = []
    sql = "SELECT rowid FROM attendee_search WHERE attendee_search MATCH ?"
    try:
        with store.begin() as session:
            search.sync_index(session)
            found = session.execute(
                select(
                    Attendee.given_name,
                    Attendee.family_name,
                    Attendee.organisation,
                    Attendee.short_code,
                ).where(Attendee.event_id == event.event_id)
            )
            people = [(str(g), str(f), str(o), str(c)) for g, f, o, c in found]
        queries = query_mix(people, QUERIES)
        with store.begin() as session:

            def run_ours(typed: str) -> float:
                start = time.perf_counter()
                found = search.find(session, event.event_id, search.Query(text=typed), PAGE)
                rows = registry.get_many(session, found.ids)
                seconds = time.perf_counter() - start
                assert len(rows) == min(found.total, PAGE), (typed, found.total, len(rows))
                return seconds

            def run_bare(typed: str) -> float:
                expression = '"' + typed.replace('"', '""') + '"*'
                start = time.perf_counter()
                conn.execute(sql, (expression,)).fetchall()
                return time.perf_counter() - start

            for typed in queries:
                run_ours(typed)
                run_bare(typed)
            # Each string timed both ways back to back, first one way then the other, so a
            # noisy moment on the machine weighs on both sides alike.
            for index, typed in enumerate(queries):
                if index % 2:
                    ours.append(run_ours(typed))
                    bare.append(run_bare(typed))
                else:
                    bare.append(run_bare(typed))
                    ours.append(run_ours(typed))
    finally:
        conn.close()
        store.close()
    ms = 1000.0
    return [
        Metric(
            "search_p99",
            percentile(ours, 99) * ms,
            "ms",
            baseline=percentile(bare, 99) * ms,
            target="< 20 ms, ≤ 1.5× bare FTS5",
        ),
        Metric("search_median", median(ours) * ms, "ms", baseline=median(bare) * ms),
    ]


def list_first_page(event: SyntheticEvent, rounds: int = 20) -> list[Metric]:
    """The attendees area with no search: everyone counted, the first page by name."""
    store = event.open()
    times: list[float] = []
    try:
        with store.begin() as session:
            for index in range(rounds + 1):
                start = time.perf_counter()
                found = search.find(session, event.event_id, search.Query(), PAGE)
                registry.get_many(session, found.ids)
                if index:
                    times.append(time.perf_counter() - start)
                assert found.total == event.size
    finally:
        store.close()
    return [Metric("search_list_first_page_median", median(times) * 1000.0, "ms")]
