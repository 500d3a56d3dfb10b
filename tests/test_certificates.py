"""Certificates: eligibility from real scans, issuing, PDFs read back, QR codes verified."""

from __future__ import annotations

import base64
import shutil
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from conftest_demo_helpers import venue
from conftest_layout_helpers import decode_qr, pdf_to_pngs
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from desktop import (
    audit,
    badgetokens,
    certificatepdf,
    certificates,
    certtokens,
    checkin,
    desk,
    journal,
    pictures,
    registry,
)
from desktop.certificates import CertificateError, Settings, Signatory
from desktop.certtokens import CERT_PREFIX, CertCheck, make_certificate_token
from desktop.checkin import DeskMode
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.digest import state_digest
from desktop.journal import DeskContext
from desktop.keys import generate_signing_key
from desktop.models import Certificate, Event, Operation
from desktop.operators import demo_operator_id
from desktop.permissions import PermissionDenied, as_owner
from desktop.store import Store, open_store

MANILA = ZoneInfo("Asia/Manila")
OP_KEYS = ("op_id", "event_id", "desk_id", "hlc", "kind", "payload", "operator_id")
# (session key, venue day, hour, minute) of the six demo sessions that count.
COUNTING = [
    ("opening", 28, 9, 5),
    ("session-1", 28, 10, 35),
    ("session-2", 28, 13, 35),
    ("session-3", 29, 9, 5),
    ("session-4", 29, 10, 50),
    ("closing", 29, 16, 35),
]
ALL = [key for key, *_ in COUNTING]


def attend(store: Store, index: int, sessions: list[str], days: tuple[int, ...] = (28, 29)) -> str:
    """Scan the attendee's real badge at the entrance each day and at each session's door."""
    attendee_id = demo_attendee_id(index)
    with store.begin() as session:
        token = badgetokens.token_for(session, store.data_dir, DEMO_EVENT_ID, attendee_id)
        ctx = desk.context(session)
        for day in days:
            result = checkin.scan(session, ctx, token, DeskMode("entrance"), at=venue(day, 8, 30))
            assert result.decision == "ok"
        for key, day, hour, minute in COUNTING:
            if key in sessions:
                mode = DeskMode("session", demo_session_id(key))
                result = checkin.scan(session, ctx, token, mode, at=venue(day, hour, minute))
                assert result.decision == "ok", result.detail
    return attendee_id


def index_of(store: Store, predicate: object) -> list[int]:
    with store.begin() as session:
        found = []
        for n in range(130):
            row = registry.get(session, DEMO_EVENT_ID, demo_attendee_id(n))
            if row is not None and predicate(row):  # type: ignore[operator]
                found.append(n)
        return found


def own(session: Session) -> DeskContext:
    return as_owner(desk.context(session))


def issue(store: Store, **kw: object) -> certificates.CertificateBatch:
    with store.begin() as session:
        return certificates.issue(session, own(session), store.data_dir, **kw)  # type: ignore[arg-type]


def standing(store: Store, attendee_id: str) -> certificates.Eligibility:
    with store.begin() as session:
        return certificates.explain(session, DEMO_EVENT_ID, attendee_id)


def participants(store: Store) -> list[int]:
    return index_of(store, lambda r: r.category == "participant")


# --- eligibility -----------------------------------------------------------------------------


def test_rules_explain_eligible_and_missed_sessions(demo: Store) -> None:
    first, second, third = participants(demo)[:3]
    full = attend(demo, first, ALL)
    partial = attend(demo, second, ALL[:3], days=(28,))
    nobody = demo_attendee_id(third)
    yes = standing(demo, full)
    assert yes.eligible and yes.by_rules and yes.kind == "attendance"
    assert yes.reasons[0].startswith("eligible: attended 6 of 6 sessions that count (100 %")
    assert "arrived every day (28 Aug, 29 Aug)" in yes.reasons[0]
    no = standing(demo, partial)
    assert not no.eligible and (no.attended, no.counting) == (3, 6)
    assert "attended 3 of 6" in no.reasons[0] and "no arrival on 29 Aug" in no.reasons[0]
    assert no.reasons[1].startswith("missed: Session 3: Collaborative Innovation Platforms")
    assert "Closing Session" in no.reasons[1]
    assert not standing(demo, nobody).eligible


def test_rules_combine_any_and_minimum_sessions(demo: Store) -> None:
    index = participants(demo)[0]
    attendee_id = attend(demo, index, ALL[:3], days=(28,))
    assert not standing(demo, attendee_id).eligible
    with demo.begin() as session:
        settings = certificates.load_settings(session, DEMO_EVENT_ID)
        rules = certificates.Rules(min_percent=0, min_sessions=3, every_day=True, combine="any")
        new = Settings(rules, settings.paper, signatories=settings.signatories)
        op = certificates.save_settings(session, own(session), new)
        assert op is not None and op.kind == "certificate.settings.put"
        assert "min_percent" in op.payload and "logo" in op.payload  # the logo was cleared
        assert certificates.save_settings(session, own(session), new) is None  # no change
    yes = standing(demo, attendee_id)
    assert yes.eligible and "attended 3 session(s) (3 needed)" in yes.reasons[0]
    with demo.begin() as session:
        all_rules = certificates.Rules(min_percent=0, min_sessions=3, every_day=True)
        certificates.save_settings(session, own(session), Settings(all_rules))
    assert not standing(demo, attendee_id).eligible  # all: the second day is missing


def test_categories_decide_the_kind(demo: Store) -> None:
    resource = index_of(demo, lambda r: r.category == "resource_person")[0]
    staff = index_of(demo, lambda r: r.category == "secretariat")[0]
    came = attend(demo, resource, [], days=(28,))
    helper = attend(demo, staff, ALL)
    thanks = standing(demo, came)
    assert thanks.eligible and thanks.kind == "appreciation"
    assert "certificate of appreciation" in thanks.reasons[0]
    nope = standing(demo, helper)
    assert not nope.eligible and nope.kind is None
    assert "no certificate for the category secretariat" in nope.reasons[0]


def test_supervisor_override_with_reason_is_a_journal_fact(demo: Store) -> None:
    index = participants(demo)[0]
    attendee_id = attend(demo, index, ALL[:2], days=(28,))
    with demo.begin() as session:
        desk_staff = DeskContext(DEMO_EVENT_ID, desk.desk_id(session), demo_operator_id("desk"))
        with pytest.raises(PermissionDenied, match="supervisor"):
            certificates.set_override(session, desk_staff, attendee_id, True, "sick on day 2")
    with demo.begin() as session:
        supervisor = DeskContext(
            DEMO_EVENT_ID, desk.desk_id(session), demo_operator_id("supervisor")
        )
        with pytest.raises(CertificateError, match="reason"):
            certificates.set_override(session, supervisor, attendee_id, True, "  ")
        op = certificates.set_override(
            session, supervisor, attendee_id, True, "in hospital on day 2, attested"
        )
        assert op.kind == "certificate.override"
    forced = standing(demo, attendee_id)
    assert forced.eligible and forced.overridden and not forced.by_rules
    assert forced.reasons[0].startswith("eligible by override of Marco Santos")
    assert forced.reasons[0].endswith("in hospital on day 2, attested")
    assert forced.reasons[1].startswith("by the rules: not eligible")
    with demo.begin() as session:
        certificates.set_override(session, supervisor, attendee_id, None, "back to the rules")
    assert not standing(demo, attendee_id).eligible


def test_certificate_name_keeps_the_persons_order() -> None:
    name = certificates.certificate_name
    assert name("Dara", "Sok", "SOK Dara") == "SOK Dara"
    assert name("Văn Hùng", "Trần", "Hùng TRẦN", country="VN") == "TRẦN Văn Hùng"
    assert name("Ana Patricia", "Soriano", "Ana Patricia SORIANO", "Dr.") == (
        "Dr. Ana Patricia SORIANO"
    )
    assert name("Priya", "Rajendran", "Priya R.", "Ms.") == "Priya RAJENDRAN"
    assert name("Wahyudi", "", "Wahyudi") == "Wahyudi"


# --- issuing, PDFs and QR codes -----------------------------------------------------------------


def test_generate_pdf_names_and_every_qr_verifies(demo: Store, tmp_path: Path) -> None:
    people = participants(demo)
    with demo.begin() as session:
        vietnamese = [
            n
            for n in people
            if registry.get(session, DEMO_EVENT_ID, demo_attendee_id(n)).country == "VN"  # type: ignore[union-attr]
        ]
    chosen = sorted({*people[:5], vietnamese[0]})
    eligible_ids = [attend(demo, n, ALL) for n in chosen]
    attend(demo, people[6], ALL[:2], days=(28,))  # not eligible: left out
    resource = index_of(demo, lambda r: r.category == "resource_person")[0]
    eligible_ids.append(attend(demo, resource, ["opening"], days=(28,)))
    batch = issue(demo)
    assert {r.attendee_id for r in batch.records} == set(eligible_ids)
    assert batch.issued == len(eligible_ids) and batch.reissued == 0
    out = tmp_path / "all.pdf"
    report = certificatepdf.draw(batch, out)
    assert report.pages == len(eligible_ids)
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == len(eligible_ids)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "CERTIFICATE OF ATTENDANCE" in text and "CERTIFICATE OF APPRECIATION" in text
    assert "TRẦN" in text or "NGUYỄN" in text or "PHẠM" in text or "LÊ" in text  # diacritics
    for record in batch.records:
        assert record.name in text, record.name
        assert record.serial in text
    assert "Dr. Teodora M. Salcedo-Ylagan" in text and "Leandro P. Macaraeg" in text
    pages = pdf_to_pngs(out, tmp_path, dpi=150)
    tokens = [r.token for r in batch.records]
    for png, record in zip(pages, batch.records, strict=True):
        codes = decode_qr(png)
        assert [c.text for c in codes] == [record.token]
        with demo.begin() as session:
            verdict = certificates.verify(session, DEMO_EVENT_ID, codes[0].text)
        assert verdict.genuine and verdict.serial == record.serial
        assert verdict.attendee_id == record.attendee_id and verdict.version == 1
        assert record.name in " ".join(verdict.details)
    assert len(set(tokens)) == len(tokens)


def test_generating_again_gives_the_same_serials_and_records_nothing(demo: Store) -> None:
    for n in participants(demo)[:3]:
        attend(demo, n, ALL)
    first = issue(demo)
    with demo.begin() as session:
        ops = session.scalar(select(func.count()).select_from(Operation)) or 0
    again = issue(demo)
    with demo.begin() as session:
        assert (session.scalar(select(func.count()).select_from(Operation)) or 0) == ops
    assert (again.issued, again.reissued) == (0, 0)
    assert [(r.serial, r.version, r.token) for r in again.records] == [
        (r.serial, r.version, r.token) for r in first.records
    ]
    serials = [r.serial for r in first.records]
    assert len(set(serials)) == 3
    prefix = certificates.serial_prefix(_event(demo), desk_id(demo))
    assert all(s.startswith(prefix) for s in serials)
    assert sorted(s[len(prefix) :] for s in serials) == ["0001", "0002", "0003"]


def _event(store: Store) -> Event:
    with store.begin() as session:
        event = session.get(Event, DEMO_EVENT_ID)
        assert event is not None
        session.expunge(event)
        return event


def desk_id(store: Store) -> str:
    with store.begin() as session:
        return desk.desk_id(session)


def test_reissue_after_name_correction_keeps_serial_and_supersedes(
    demo: Store, tmp_path: Path
) -> None:
    index = participants(demo)[0]
    attendee_id = attend(demo, index, ALL)
    old = issue(demo).records[0]
    with demo.begin() as session:
        registry.update(session, own(session), attendee_id, {"family_name": "Corrected-Name"})
    new_batch = issue(demo)
    assert (new_batch.issued, new_batch.reissued) == (0, 1)
    new = new_batch.records[0]
    assert new.serial == old.serial and new.version == 2 and "CORRECTED-NAME" in new.name
    with demo.begin() as session:
        stale = certificates.verify(session, DEMO_EVENT_ID, old.token)
        current = certificates.verify(session, DEMO_EVENT_ID, new.token)
    assert stale.status == "superseded" and stale.latest_version == 2
    assert "Version 2 replaced it" in " ".join(stale.details)
    assert current.genuine and current.version == 2
    out = tmp_path / "v2.pdf"
    certificatepdf.draw(new_batch, out)
    assert "version 2" in pypdf.PdfReader(out).pages[0].extract_text()


def test_revoked_certificate_reads_revoked_and_is_not_reused(demo: Store) -> None:
    attendee_id = attend(demo, participants(demo)[0], ALL)
    record = issue(demo).records[0]
    with demo.begin() as session:
        with pytest.raises(CertificateError, match="why"):
            certificates.revoke(session, own(session), record.serial, "")
        certificates.revoke(session, own(session), record.serial.lower(), "issued in error")
        with pytest.raises(CertificateError, match="already revoked"):
            certificates.revoke(session, own(session), record.serial, "again")
        verdict = certificates.verify(session, DEMO_EVENT_ID, record.token)
    assert verdict.status == "revoked"
    assert "issued in error" in " ".join(verdict.details)
    fresh = issue(demo).records[0]
    assert fresh.attendee_id == attendee_id and fresh.serial != record.serial


def test_forged_and_foreign_certificates_are_refused(demo: Store) -> None:
    attend(demo, participants(demo)[0], ALL)
    record = issue(demo).records[0]
    body = record.token[len(CERT_PREFIX) :]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[30] ^= 0x01  # one bit of the serial changed, signature kept
    tampered = CERT_PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")
    stranger = make_certificate_token(
        generate_signing_key(),
        1,
        uuid.UUID(DEMO_EVENT_ID),
        uuid.UUID(record.attendee_id),
        serial=record.serial,
        version=1,
        issued_on=date(2024, 8, 29),
    )
    other_event = make_certificate_token(
        generate_signing_key(),
        1,
        uuid.uuid4(),
        uuid.UUID(record.attendee_id),
        serial="XX-1",
        version=1,
        issued_on=date(2024, 8, 29),
    )
    with demo.begin() as session:
        verdicts = [
            certificates.verify(session, DEMO_EVENT_ID, text)
            for text in (tampered, stranger, other_event, "EVD1NOTACERTIFICATE", "hello")
        ]
    assert [v.status for v in verdicts] == ["forged", "forged", "wrong_event", "invalid", "invalid"]
    assert not any(v.genuine for v in verdicts)
    # A scanner's symbology prefix and lower case still verify.
    with demo.begin() as session:
        assert certificates.verify(session, DEMO_EVENT_ID, "]Q1" + record.token.lower()).genuine


def test_token_round_trip_and_canonical_form() -> None:
    key = generate_signing_key()
    from desktop.keys import public_bytes

    event = uuid.uuid4()
    token = make_certificate_token(
        key, 3, event, uuid.uuid4(), serial="OI24-ABC-0001", version=2,
        issued_on=date(2024, 8, 29), kind="appreciation",
    )  # fmt: skip
    check, payload = certtokens.verify_certificate_token(token, {3: public_bytes(key)}, event)
    assert check is CertCheck.VALID and payload is not None
    assert (payload.serial, payload.version, payload.kind) == ("OI24-ABC-0001", 2, "appreciation")
    assert payload.issued_on == date(2024, 8, 29)
    assert token.isupper() and certtokens.looks_like_certificate(token)
    assert certtokens.verify_certificate_token(token + "A", {3: public_bytes(key)}, event)[0] in (
        CertCheck.INVALID,
        CertCheck.FORGED,
    )
    with pytest.raises(ValueError):
        make_certificate_token(
            key, 1, event, uuid.uuid4(), serial="bad serial", version=1, issued_on=date.today()
        )


def _second_desk(demo: Store, tmp_path: Path) -> Store:
    """Another desk holding what the demo desk holds now, opened."""
    folder = tmp_path / "desk-b"
    shutil.copytree(demo.data_dir, folder)
    other = open_store(folder)
    with other.begin() as session:
        desk.set_setting(session, "desk_id", "b0b0b0b0b0b0")
    return other


def test_serials_from_two_desks_never_clash(demo: Store, tmp_path: Path) -> None:
    """Two desks issue apart, then exchange operations: every serial stays unique."""
    people = participants(demo)
    for n in people[:6]:
        attend(demo, n, ALL)
    other = _second_desk(demo, tmp_path)
    try:
        with demo.begin() as session:
            a_ops = len(certificates.issue(session, own(session), demo.data_dir, ids=[
                demo_attendee_id(n) for n in people[:3]]).records)  # fmt: skip
        with other.begin() as session:
            ctx = as_owner(desk.context(session))
            b_batch = certificates.issue(
                session, ctx, other.data_dir, ids=[demo_attendee_id(n) for n in people[3:6]]
            )
        assert a_ops == 3 and len(b_batch.records) == 3
        # Exchange every operation both ways, as a sync would.
        for source, target in ((demo, other), (other, demo)):
            with source.begin() as session:
                rows = session.scalars(select(Operation).order_by(Operation.hlc))
                ops = [journal.Op.from_dict({c: getattr(r, c) for c in OP_KEYS}) for r in rows]
            with target.begin() as session:
                journal.apply_many(session, ops)
        for store in (demo, other):
            with store.begin() as session:
                serials = list(session.scalars(select(Certificate.serial)))
                assert len(serials) == 6 and len(set(serials)) == 6
        with demo.begin() as session:
            a_digest = state_digest(session)["tables"]["certificates"]
        with other.begin() as session:
            assert state_digest(session)["tables"]["certificates"] == a_digest
            # Desk B's certificates verify at desk B with desk A's register too.
            for record in b_batch.records:
                assert certificates.verify(session, DEMO_EVENT_ID, record.token).genuine
    finally:
        other.close()


def test_per_person_files_have_safe_unique_names(demo: Store, tmp_path: Path) -> None:
    ids = [attend(demo, n, ALL) for n in participants(demo)[:4]]
    batch = issue(demo, ids=ids)
    files, report = certificatepdf.draw_each(batch, tmp_path / "each")
    assert len(files) == 4 and report.documents == 4
    assert len({f.name.casefold() for f in files}) == 4
    for path, record in zip(files, batch.records, strict=True):
        assert path.name.endswith(f" - {record.serial}.pdf")
        assert len(pypdf.PdfReader(path).pages) == 1
    taken: set[str] = set()
    odd = certificatepdf.safe_file_name('CON: "A/B" <x>?\u200b  ', "OI-1", taken)
    assert odd == "CON A B x - OI-1.pdf" or odd.startswith("_CON")
    assert not any(c in odd for c in '<>:"/\\|?*\u200b')
    again = certificatepdf.safe_file_name("Thảo Nguyễn", "S-1", taken)
    clash = certificatepdf.safe_file_name("THẢO NGUYỄN", "s-1", taken)
    assert again == "Thảo Nguyễn - S-1.pdf" and clash == "THẢO NGUYỄN - s-1 (2).pdf"
    long = certificatepdf.safe_file_name("ස" * 300, "S-2", taken)
    assert len(long.encode("utf-8")) < 255


def test_issuing_needs_an_administrator_and_eligible_people(demo: Store) -> None:
    with demo.begin() as session:
        supervisor = DeskContext(
            DEMO_EVENT_ID, desk.desk_id(session), demo_operator_id("supervisor")
        )
        with pytest.raises(PermissionDenied, match="administrator"):
            certificates.issue(session, supervisor, demo.data_dir)
        with pytest.raises(CertificateError, match="nobody is eligible"):
            certificates.issue(session, own(session), demo.data_dir)


def test_letter_paper_and_three_signatories(demo: Store, tmp_path: Path) -> None:
    attend(demo, participants(demo)[0], ALL)
    with demo.begin() as session:
        settings = certificates.load_settings(session, DEMO_EVENT_ID)
        three = (*settings.signatories, Signatory("Ma. Luisa B. Enriquez", "Rapporteur"))
        certificates.save_settings(
            session,
            own(session),
            Settings(settings.rules, "letter", settings.partner, settings.logo, "", "", three),
        )
    batch = issue(demo)
    out = tmp_path / "letter.pdf"
    certificatepdf.draw(batch, out)
    page = pypdf.PdfReader(out).pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 279  # 11 in, landscape
    assert "Ma. Luisa B. Enriquez" in page.extract_text()
    with demo.begin() as session:
        four = (*three, Signatory("One Too Many"))
        with pytest.raises(CertificateError, match="at most 3"):
            certificates.save_settings(session, own(session), Settings(signatories=four))


def _signature_png(path: Path, size: tuple[int, int]) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(5, size[1] - 10), (size[0] // 2, 8), (size[0] - 5, 30)], width=4)
    image.save(path, "PNG")
    return path


def test_a_picture_chosen_on_one_desk_is_drawn_by_another(demo: Store, tmp_path: Path) -> None:
    other = _second_desk(demo, tmp_path)
    try:
        signature = _signature_png(tmp_path / "signature.png", (411, 97))
        with demo.begin() as session:
            before = session.scalar(select(func.max(Operation.hlc)))
            current = certificates.load_settings(session, DEMO_EVENT_ID)
            chosen = replace(
                current,
                signatories=(Signatory("Ma. Luisa B. Enriquez", "Rapporteur", str(signature)),),
            )
            certificates.save_settings(session, own(session), chosen)
            kept = certificates.load_settings(session, DEMO_EVENT_ID).signatories[0].signature
            ops = [
                journal.Op.from_dict({c: getattr(r, c) for c in OP_KEYS})
                for r in session.scalars(
                    select(Operation).where(Operation.hlc > before).order_by(Operation.hlc)
                )
            ]
        assert pictures.is_kept(kept) and str(tmp_path) not in kept
        assert [op.kind for op in ops] == ["picture.put", "certificate.settings.put"]
        # The audit trail names it without its bytes.
        picture_id = kept.removeprefix(pictures.PREFIX)
        assert audit.describe("picture.put", ops[0].payload, {}) == (
            f"a certificate picture ({picture_id[:8]})"
        )
        signature.unlink()  # the file chosen on desk A is gone: desk B has its own copy
        with other.begin() as session:
            journal.apply_many(session, ops)
        shutil.rmtree(pictures.cache_dir(), ignore_errors=True)
        attend(other, participants(other)[0], ALL)
        with other.begin() as session:
            ctx = as_owner(desk.context(session))
            batch = certificates.issue(session, ctx, other.data_dir)
        out = tmp_path / "b.pdf"
        report = certificatepdf.draw(batch, out)
        assert not [w for w in report.warnings if "cannot be read" in w], report.warnings
        sizes = {image.image.size for image in pypdf.PdfReader(out).pages[0].images}
        assert (411, 97) in sizes
        assert digest_of(other, "pictures") == digest_of(demo, "pictures")
    finally:
        other.close()


def digest_of(store: Store, table: str) -> str:
    with store.begin() as session:
        return str(state_digest(session)["tables"][table])


def test_a_picture_not_received_yet_is_reported_not_drawn(demo: Store, tmp_path: Path) -> None:
    signature = _signature_png(tmp_path / "s.png", (300, 80))
    with demo.begin() as session:
        current = certificates.load_settings(session, DEMO_EVENT_ID)
        chosen = replace(current, signatories=(Signatory("A. Signer", "", str(signature)),))
        certificates.save_settings(session, own(session), chosen)
        # As on a desk that has the settings but not (yet) the picture.
        session.execute(text("DELETE FROM pictures"))
    shutil.rmtree(pictures.cache_dir(), ignore_errors=True)
    attend(demo, participants(demo)[0], ALL)
    report = certificatepdf.draw(issue(demo), tmp_path / "a.pdf")
    assert [w for w in report.warnings if "cannot be read" in w]


def test_a_file_that_is_not_a_picture_is_refused_and_nothing_recorded(
    demo: Store, tmp_path: Path
) -> None:
    fake = tmp_path / "signature.png"
    fake.write_text("not a picture", encoding="utf-8")
    with demo.begin() as session:
        current = certificates.load_settings(session, DEMO_EVENT_ID)
        count = session.scalar(select(func.count()).select_from(Operation))
        chosen = replace(current, logo=str(fake))
        words = r"^signature\.png is not a picture EventDesk can draw: choose a PNG or JPEG file$"
        with pytest.raises(CertificateError, match=words):
            certificates.save_settings(session, own(session), chosen)
        with pytest.raises(CertificateError, match="cannot be read"):
            certificates.save_settings(
                session, own(session), replace(current, logo=str(tmp_path / "gone.png"))
            )
        assert session.scalar(select(func.count()).select_from(Operation)) == count


def test_a_picture_whose_bytes_do_not_match_its_name_is_refused(demo: Store) -> None:
    data = base64.b64encode(b"\x89PNG not really").decode("ascii")
    op = journal.Op(
        op_id=journal.new_op_id(),
        event_id=DEMO_EVENT_ID,
        desk_id="c0c0c0c0c0c0",
        hlc="1732800000000-0000-c0c0c0c0c0c0",
        kind="picture.put",
        payload={"id": "0" * 64, "media_type": "image/png", "content": data},
    )
    with demo.begin() as session, pytest.raises(journal.JournalError, match="does not match"):
        journal.apply(session, op)


def test_a_cache_folder_that_cannot_be_written_reports_the_picture(
    demo: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signature = _signature_png(tmp_path / "s.png", (300, 80))
    with demo.begin() as session:
        current = certificates.load_settings(session, DEMO_EVENT_ID)
        chosen = replace(current, signatories=(Signatory("A. Signer", "", str(signature)),))
        certificates.save_settings(session, own(session), chosen)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    attend(demo, participants(demo)[0], ALL)
    report = certificatepdf.draw(issue(demo), tmp_path / "a.pdf")
    assert [w for w in report.warnings if "cannot be read" in w]
