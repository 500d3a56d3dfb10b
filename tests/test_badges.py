"""Badges: choosing attendees, real PDFs read back, QR codes verified, the print record."""

from __future__ import annotations

import shutil
import unicodedata
import uuid
from pathlib import Path

import pypdf
import pytest
from conftest_layout_helpers import decode_qr, pdf_to_pngs
from sqlalchemy import select

from desktop import badges, desk, journal, registry
from desktop.badges import BadgeFilter, PrinterSettings
from desktop.demo import DEMO_EVENT_ID
from desktop.journal import DeskContext, Op
from desktop.models import Attendee, Event, Operation
from desktop.operators import demo_operator_id
from desktop.permissions import PermissionDenied
from desktop.store import Store, open_store
from desktop.tokens import TokenCheck, verify_token

THAI = "OI-AA88"  # Siriporn BOONMEE, ศิริพร บุญมี
PERSIAN = "OI-2D6Y"  # Reza AHMADI, رضا احمدی
VIETNAMESE = "OI-4X9P"  # Ngọc ĐẶNG


def _id(store: Store, code: str) -> str:
    with store.begin() as session:
        info = registry.get(session, DEMO_EVENT_ID, code)
        assert info is not None
        return info.id


def _ctx(store: Store, role: str | None = None) -> DeskContext:
    with store.begin() as session:
        ctx = desk.context(session)
    return DeskContext(ctx.event_id, ctx.desk_id, demo_operator_id(role) if role else None)


def _text(pdf: Path) -> str:
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in pypdf.PdfReader(pdf).pages]
    return " ".join(" ".join(pages).split())


def _public_keys(store: Store) -> dict[int, bytes]:
    with store.begin() as session:
        event = session.get(Event, DEMO_EVENT_ID)
        assert event is not None
        return {int(k): bytes.fromhex(v) for k, v in event.public_keys.items()}


# --- choosing attendees ---------------------------------------------------------------------


def test_filters_by_country_category_and_ids(demo: Store) -> None:
    with demo.begin() as session:
        everyone = badges.select_attendees(session, DEMO_EVENT_ID, BadgeFilter())
        thai = badges.select_attendees(session, DEMO_EVENT_ID, BadgeFilter(countries=("th",)))
        mixed = badges.select_attendees(
            session, DEMO_EVENT_ID, BadgeFilter(countries=("TH", "IR"), categories=("participant",))
        )
        secretariat = badges.select_ids(
            session, DEMO_EVENT_ID, BadgeFilter(categories=("secretariat",))
        )
        count = badges.count_attendees(session, DEMO_EVENT_ID, BadgeFilter(countries=("TH",)))
    assert len(everyone) == 130
    families = [p.family_name.casefold() for p in everyone]
    assert families == sorted(families)  # badge order: by family name
    assert thai and {p.country for p in thai} == {"TH"}
    assert count == len(thai)
    assert {p.country for p in mixed} == {"TH", "IR"}
    assert all(p.category == "participant" for p in mixed)
    assert secretariat and len(secretariat) < len(everyone)
    chosen = (_id(demo, PERSIAN), _id(demo, THAI), "not-an-attendee")
    with demo.begin() as session:
        picked = badges.select_attendees(session, DEMO_EVENT_ID, BadgeFilter(ids=chosen))
        ids = badges.select_ids(session, DEMO_EVENT_ID, BadgeFilter(ids=chosen))
    assert [p.short_code for p in picked] == [PERSIAN, THAI]  # the order given
    assert ids == [p.id for p in picked]


def test_cancelled_registrations_get_no_badge(demo: Store) -> None:
    thai = _id(demo, THAI)
    with demo.begin() as session:
        registry.cancel(session, desk.context(session), thai, "not coming")
    with demo.begin() as session:
        ids = badges.select_ids(session, DEMO_EVENT_ID, BadgeFilter(countries=("TH",)))
        assert thai not in ids
        assert badges.select_ids(session, DEMO_EVENT_ID, BadgeFilter(ids=(thai,))) == []
        with pytest.raises(badges.BadgeError, match="cancelled"):
            badges.check_print(session, desk.context(session), thai)


def test_not_printed_means_the_current_badge_has_not_been_printed(demo: Store) -> None:
    thai = _id(demo, THAI)
    flt = BadgeFilter(countries=("TH",), not_printed=True)
    with demo.begin() as session:
        before = badges.select_ids(session, DEMO_EVENT_ID, flt)
        badges.record_print(session, desk.context(session), thai, "a6")
    with demo.begin() as session:
        after = badges.select_ids(session, DEMO_EVENT_ID, flt)
        assert thai in before and thai not in after
        assert len(after) == len(before) - 1
        # A lost badge is revoked: the new one is not printed yet.
        badges.revoke_badge(session, desk.context(session), thai, "lost at lunch")
    with demo.begin() as session:
        assert thai in badges.select_ids(session, DEMO_EVENT_ID, flt)


# --- rendering ----------------------------------------------------------------------------


def test_badges_render_names_in_every_script_and_qr_codes_that_verify(
    demo: Store, tmp_path: Path
) -> None:
    refs = (VIETNAMESE, THAI, PERSIAN)
    ids = tuple(_id(demo, code) for code in refs)
    pdf = tmp_path / "badges.pdf"
    with demo.begin() as session:
        report = badges.render_badges(
            session, demo.data_dir, DEMO_EVENT_ID, pdf, "a6", BadgeFilter(ids=ids)
        )
    assert (report.pages, report.documents, report.cancelled) == (3, 3, False)
    assert report.warnings == []
    text = _text(pdf)
    for needle in ("Ngọc ĐẶNG", "Siriporn BOONMEE", "ศิริพร บุญมี", "Reza AHMADI", *refs):
        assert needle in text, needle
    assert "رضا" in text or "رضا"[::-1] in text  # Arabic script comes out as shaped forms
    assert "Conference on Open Innovation" in text and "Manila, Philippines" in text
    assert "Viet Nam" in text.title() or "VIETNAM" in text.upper()
    keys = _public_keys(demo)
    found: list[uuid.UUID] = []
    for png in pdf_to_pngs(pdf, tmp_path, dpi=203, gray=True):
        for barcode in decode_qr(png):
            check, info = verify_token(barcode.text, keys, uuid.UUID(DEMO_EVENT_ID))
            assert check is TokenCheck.VALID and info is not None
            assert info.badge_seq == 0
            found.append(info.attendee_id)
    assert found == [uuid.UUID(i) for i in ids]


def test_a_replaced_badge_carries_the_new_sequence(demo: Store, tmp_path: Path) -> None:
    thai = _id(demo, THAI)
    with demo.begin() as session:
        badges.record_print(session, desk.context(session), thai, "cr80")
        seq = badges.revoke_badge(session, desk.context(session), thai, "lost")
    assert seq == 1
    pdf = tmp_path / "card.pdf"
    with demo.begin() as session:
        badges.render_badges(
            session, demo.data_dir, DEMO_EVENT_ID, pdf, "cr80", BadgeFilter(ids=(thai,))
        )
    [png] = pdf_to_pngs(pdf, tmp_path, dpi=203, gray=True)
    [barcode] = decode_qr(png)
    check, info = verify_token(barcode.text, _public_keys(demo), uuid.UUID(DEMO_EVENT_ID))
    assert check is TokenCheck.VALID and info is not None and info.badge_seq == 1


def test_nothing_to_render_and_unknown_layouts_are_errors(demo: Store, tmp_path: Path) -> None:
    with demo.begin() as session:
        with pytest.raises(badges.BadgeError, match="no registered attendee matches"):
            badges.render_badges(
                session, demo.data_dir, DEMO_EVENT_ID, tmp_path / "x.pdf", "a6",
                BadgeFilter(countries=("FR",)),
            )  # fmt: skip
        from desktop.layout import LayoutError

        with pytest.raises(LayoutError, match="No layout called 'postcard'"):
            badges.render_badges(
                session, demo.data_dir, DEMO_EVENT_ID, tmp_path / "y.pdf", "postcard"
            )
    assert not (tmp_path / "x.pdf").exists()


def test_the_organisers_own_layout_is_offered_and_used(demo: Store, tmp_path: Path) -> None:
    folder = badges.user_layout_dir(demo.data_dir)
    folder.mkdir()
    (folder / "lanyard.json").write_text(
        '{"title": "Lanyard card", "extends": "cr80", "defaults": {"brand_colour": "#7a1f5c"}}',
        encoding="utf-8",
    )
    infos = {i.name: i for i in badges.badge_layouts(demo.data_dir)}
    assert {"a6", "cr80", "label-4x3", "a4-sheet", "lanyard"} <= set(infos)
    assert infos["lanyard"].builtin is False
    pdf = tmp_path / "lanyard.pdf"
    with demo.begin() as session:
        report = badges.render_badges(
            session, demo.data_dir, DEMO_EVENT_ID, pdf, "lanyard", BadgeFilter(countries=("IR",))
        )
    page = pypdf.PdfReader(pdf).pages[0]
    assert report.documents >= 1
    assert round(float(page.mediabox.width) * 25.4 / 72, 1) == 85.6


def test_sheet_layout_puts_four_badges_on_a_page(demo: Store, tmp_path: Path) -> None:
    pdf = tmp_path / "sheet.pdf"
    with demo.begin() as session:
        report = badges.render_badges(
            session, demo.data_dir, DEMO_EVENT_ID, pdf, "a4-sheet", BadgeFilter(countries=("TH",))
        )
        count = badges.count_attendees(session, DEMO_EVENT_ID, BadgeFilter(countries=("TH",)))
    assert report.documents == count
    assert report.pages == -(-count // 4)
    assert len(pypdf.PdfReader(pdf).pages) == report.pages


# --- the print record -----------------------------------------------------------------------


def test_first_print_is_a_journal_fact_and_a_reprint_needs_a_reason(demo: Store) -> None:
    thai = _id(demo, THAI)
    with demo.begin() as session:
        op = badges.record_print(session, desk.context(session), thai, "a6")
    assert op.kind == "badge.print"
    assert set(op.payload) == {"attendee_id", "layout", "badge_seq", "reason", "at"}
    assert op.payload["attendee_id"] == thai and op.payload["layout"] == "a6"
    with demo.begin() as session:
        with pytest.raises(badges.ReasonRequired) as refused:
            badges.record_print(session, desk.context(session), thai, "a6", "  ")
        assert refused.value.first.op_id == op.op_id
        message = str(refused.value)
        assert "first printed" in message and "a reprint needs a reason" in message
        assert refused.value.first.desk_name in message
        again = badges.record_print(session, desk.context(session), thai, "cr80", "printer jam")
    with demo.begin() as session:
        status = badges.badge_status(session, DEMO_EVENT_ID, thai)
        log = badges.print_log(session, DEMO_EVENT_ID)
        stored = session.get(Operation, again.op_id)
    assert stored is not None and stored.payload["reason"] == "printer jam"
    assert [p.op_id for p in status.prints] == [op.op_id, again.op_id]
    assert status.printed and status.current_printed
    assert [e.op_id for e in log] == [again.op_id, op.op_id]  # newest first
    assert [e.reprint for e in log] == [True, False]
    assert log[0].reason == "printer jam" and log[0].layout == "cr80"
    assert log[0].attendee_name == "Siriporn Boonmee" and log[0].short_code == THAI


def test_roles_first_print_for_desk_staff_reprint_for_supervisors(demo: Store) -> None:
    thai, persian = _id(demo, THAI), _id(demo, PERSIAN)
    staff = _ctx(demo, "desk")
    supervisor = _ctx(demo, "supervisor")
    with demo.begin() as session:
        badges.record_print(session, staff, thai, "a6")
    with demo.begin() as session:
        with pytest.raises(PermissionDenied, match="supervisor"):
            badges.record_print(session, staff, thai, "a6", "smudged")
        with pytest.raises(PermissionDenied):
            badges.revoke_badge(session, staff, thai, "lost")
        badges.record_print(session, supervisor, thai, "a6", "smudged")
        badges.record_print(session, supervisor, persian, "a6")
    with demo.begin() as session:
        log = badges.print_log(session, DEMO_EVENT_ID)
    operators = {(e.short_code, e.reprint): e.operator_name for e in log}
    assert operators[(THAI, False)] != operators[(THAI, True)]
    assert all(e.operator_name for e in log)


def test_revoke_raises_the_badge_sequence_through_the_journal(demo: Store) -> None:
    thai = _id(demo, THAI)
    with demo.begin() as session:
        with pytest.raises(badges.BadgeError, match="say why"):
            badges.revoke_badge(session, desk.context(session), thai, " ")
        assert badges.revoke_badge(session, desk.context(session), thai, "lost") == 1
        assert badges.revoke_badge(session, desk.context(session), thai, "lost again") == 2
    with demo.begin() as session:
        person = session.get(Attendee, thai)
        ops = session.scalars(
            select(Operation).where(Operation.kind == "badge.revoke").order_by(Operation.hlc)
        ).all()
    assert person is not None and person.badge_seq == 2
    assert [(o.payload["id"], o.payload["badge_seq"], o.payload["reason"]) for o in ops] == [
        (thai, 1, "lost"),
        (thai, 2, "lost again"),
    ]


def test_batch_records_the_sequence_that_was_printed(demo: Store) -> None:
    ids = [_id(demo, THAI), _id(demo, PERSIAN)]
    with demo.begin() as session:
        ctx = desk.context(session)
        badges.record_print(session, ctx, ids[0], "a6")
        with pytest.raises(badges.ReasonRequired):
            badges.record_prints(session, ctx, ids, "a6")
    with demo.begin() as session:
        # Printed already (seq 0 on the paper), recorded even though it became a reprint.
        ops = badges.record_prints(
            session, desk.context(session), ids, "a6", printed_seqs={ids[0]: 0, ids[1]: 0}
        )
    assert [o.payload["attendee_id"] for o in ops] == ids
    assert len({o.hlc for o in ops}) == 2
    with demo.begin() as session:
        assert badges.print_counts(session, DEMO_EVENT_ID, ids) == {ids[0]: 2, ids[1]: 1}
        assert badges.reprint_needed(session, DEMO_EVENT_ID, [*ids, "x"]) == ids


def test_prints_from_another_desk_converge(
    demo: Store, demo_template: Path, tmp_path: Path
) -> None:
    thai = _id(demo, THAI)
    with demo.begin() as session:
        first = badges.record_print(session, desk.context(session), thai, "a6")
        second = badges.record_print(session, desk.context(session), thai, "a6", "torn")
        ops = [
            Op(o.op_id, o.event_id, o.desk_id, o.hlc, o.kind, dict(o.payload), o.operator_id)
            for o in session.scalars(select(Operation).order_by(Operation.hlc))
            if o.kind.startswith("badge.")
        ]
    other_folder = tmp_path / "other"
    shutil.copytree(demo_template, other_folder)
    other = open_store(other_folder)
    try:
        with other.begin() as session:
            # Out of order and twice: the same log comes out.
            assert journal.apply_many(session, [*reversed(ops), *ops]) == 2
        with other.begin() as session:
            log = badges.print_log(session, DEMO_EVENT_ID)
    finally:
        other.close()
    assert [e.op_id for e in log] == [second.op_id, first.op_id]
    assert [e.reprint for e in log] == [True, False]


# --- this desk's printer and retry queue --------------------------------------------------


def test_printer_settings_round_trip_and_survive_garbage(demo: Store) -> None:
    with demo.begin() as session:
        assert badges.load_printer_settings(session) == PrinterSettings()
        badges.save_printer_settings(
            session, PrinterSettings(printer="Zebra ZD421", paper="layout", dpi=203, layout="cr80")
        )
    with demo.begin() as session:
        loaded = badges.load_printer_settings(session)
        assert loaded.printer == "Zebra ZD421" and loaded.dpi == 203 and loaded.layout == "cr80"
        assert loaded.configured
        desk.set_setting(session, badges.PRINTER_SETTING, "{not json")
    with demo.begin() as session:
        assert badges.load_printer_settings(session) == PrinterSettings()


def test_retry_queue_keeps_failed_jobs_until_printed_or_dropped(demo: Store) -> None:
    ids = [_id(demo, THAI), _id(demo, PERSIAN)]
    with demo.begin() as session:
        job = badges.queue_print(
            session, ids, ["Siriporn", "Reza"], "a6", "", "The printer “Zebra” is not available"
        )
        other = badges.queue_print(session, ids[:1], ["Siriporn"], "cr80", "jam", "refused")
    with demo.begin() as session:
        pending = badges.pending_prints(session)
        assert [p.job_id for p in pending] == [job.job_id, other.job_id]
        assert pending[0].attendee_ids == tuple(ids) and pending[0].attempts == 1
        assert pending[1].reason == "jam"
        again = badges.queue_print(
            session, ids[1:], ["Reza"], "a6", "", "still off", job_id=job.job_id
        )
        assert again.attempts == 2 and again.error == "still off"
        assert again.attendee_ids == (ids[1],) and again.names == ("Reza",)
    with demo.begin() as session:
        assert len(badges.pending_prints(session)) == 2
        assert badges.drop_pending(session, job.job_id) is True
        assert badges.drop_pending(session, job.job_id) is False
    with demo.begin() as session:
        assert [p.job_id for p in badges.pending_prints(session)] == [other.job_id]
        desk.set_setting(session, badges.QUEUE_SETTING, '[{}, 3, {"job_id": "x"}]')
    with demo.begin() as session:
        assert [p.job_id for p in badges.pending_prints(session)] == ["x"]


def test_filter_describes_itself() -> None:
    assert BadgeFilter().describe() == "everyone registered"
    text = BadgeFilter(countries=("TH",), categories=("resource_person",), not_printed=True)
    assert text.describe() == "Thailand · Resource person · not yet printed"
