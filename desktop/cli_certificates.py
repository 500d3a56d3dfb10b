"""``eventdesk certificates``: eligibility, PDFs, verifying, revoking, overrides and rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from desktop import certificatepdf, certificates, desk
from desktop.certificates import CertificateError, Settings
from desktop.cli import EXIT_FAILED, EXIT_OK, CommandError, command, print_json, store_for
from desktop.keys import KeyFileError
from desktop.layout import LayoutError
from desktop.permissions import as_owner

ACTIONS = ("verify", "revoke", "override", "rules")


def add_commands(sub: Any) -> None:
    """Add ``certificates`` to the command line."""
    parser = sub.add_parser(
        "certificates",
        help="certificates of attendance: eligibility, PDFs, verify, revoke, rules",
        description=(
            "Without an action: issue the certificates eligible attendees have earned and "
            "draw them: --out FILE.pdf writes one merged PDF, --out FOLDER one PDF per person. "
            "Issuing again gives the same serials. --dry-run lists who is eligible and why. "
            "Actions: verify TOKEN (or --image FILE; exit 0 only for a genuine certificate), "
            "revoke SERIAL --reason, override REF --eligible|--not-eligible|--clear --reason, "
            "rules [--min-percent N --every-day ...] to show or change the rules."
        ),
    )
    parser.add_argument("action", nargs="?", choices=ACTIONS, help="what to do (default: issue)")
    parser.add_argument("target", nargs="?", metavar="ARG", help="token, serial or attendee")
    parser.add_argument("--out", metavar="PATH", help="a .pdf file (merged) or a folder")
    parser.add_argument("--dry-run", action="store_true", help="list eligibility; issue nothing")
    parser.add_argument("--ids", metavar="REF", nargs="+", default=[], help="only these people")
    parser.add_argument(
        "--kind",
        choices=(certificates.ATTENDANCE, certificates.APPRECIATION),
        help="only certificates of this kind",
    )
    parser.add_argument("--image", metavar="FILE", help="verify: read the QR code from a picture")
    parser.add_argument("--reason", metavar="TEXT", default="", help="why (revoke, override)")
    decision = parser.add_mutually_exclusive_group()
    decision.add_argument("--eligible", dest="decision", action="store_const", const="yes")
    decision.add_argument("--not-eligible", dest="decision", action="store_const", const="no")
    decision.add_argument("--clear", dest="decision", action="store_const", const="clear")
    parser.add_argument("--min-percent", type=int, metavar="N", help="rules: N %% of sessions")
    days = parser.add_mutually_exclusive_group()
    days.add_argument("--every-day", dest="every_day", action="store_true", default=None)
    days.add_argument("--no-every-day", dest="every_day", action="store_false")
    parser.add_argument("--min-sessions", type=int, metavar="N", help="rules: N sessions")
    parser.add_argument("--combine", choices=tuple(certificates.COMBINES), help="rules: all|any")
    parser.add_argument("--paper", choices=tuple(certificates.PAPERS), help="rules: paper size")
    parser.add_argument("--json", action="store_true")


@command("certificates")
def cmd_certificates(args: argparse.Namespace) -> int:
    try:
        if args.action == "verify":
            return _verify(args)
        if args.action == "revoke":
            return _revoke(args)
        if args.action == "override":
            return _override(args)
        if args.action == "rules":
            return _rules(args)
        if args.dry_run:
            return _dry_run(args)
        return _issue(args)
    except (CertificateError, LayoutError, KeyFileError) as exc:
        raise CommandError(str(exc)) from None


def _refs(session: Session, event_id: str, args: argparse.Namespace) -> list[str] | None:
    refs = [part.strip() for value in args.ids for part in value.split(",") if part.strip()]
    return certificates.attendee_by_ref(session, event_id, refs) if refs else None


def _dry_run(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            standings = certificates.eligibility(session, event.id, _refs(session, event.id, args))
    finally:
        store.close()
    if args.kind:
        standings = [s for s in standings if s.kind == args.kind]
    if args.json:
        print_json([s.to_json() for s in standings])
        return EXIT_OK
    for s in standings:
        mark = "yes" if s.eligible else "no "
        flag = "*" if s.overridden else " "
        print(f"{mark}{flag} {s.person.short_code:9} {s.person.name[:36]:36} {s.summary}")
    eligible = sum(1 for s in standings if s.eligible)
    print(f"{eligible} of {len(standings)} eligible (* = overridden)", file=sys.stderr)
    return EXIT_OK


def _issue(args: argparse.Namespace) -> int:
    if not args.out:
        raise CommandError("give --out FILE.pdf (merged) or --out FOLDER (one PDF each)")
    out = Path(args.out)
    merged = out.suffix.lower() == ".pdf"
    if merged and out.is_dir():
        raise CommandError(f"{out} is a folder; give a file name ending in .pdf")
    if not merged and out.exists() and not out.is_dir():
        raise CommandError(f"{out} is a file; give a .pdf name, or a folder for one PDF each")
    kinds = (args.kind,) if args.kind else (certificates.ATTENDANCE, certificates.APPRECIATION)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            ids = _refs(session, event.id, args)
            ctx = as_owner(desk.context(session))
            batch = certificates.issue(
                session,
                ctx,
                store.data_dir,
                ids=ids,
                kinds=kinds,
                user_layouts=store.data_dir / "layouts",
            )
        files: list[str] = []
        if merged:
            out.parent.mkdir(parents=True, exist_ok=True)
            # Written beside the target and moved into place: a failed run leaves no half PDF.
            partial = out.with_name(f".{out.name}.partial")
            try:
                report = certificatepdf.draw(batch, partial)
                partial.replace(out)
            finally:
                partial.unlink(missing_ok=True)
            files.append(str(out))
        else:
            written, report = certificatepdf.draw_each(batch, out)
            files.extend(str(p) for p in written)
    finally:
        store.close()
    for warning in report.warnings:
        print(f"eventdesk: warning: {warning}", file=sys.stderr)
    for attendee_id, why in batch.left_out:
        print(f"eventdesk: warning: {attendee_id} left out: {why}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "out": str(out),
                "certificates": report.documents,
                "pages": report.pages,
                "issued": batch.issued,
                "reissued": batch.reissued,
                "files": files,
                "serials": [
                    {"attendee": r.attendee_id, "serial": r.serial, "version": r.version}
                    for r in batch.records
                ],
                "warnings": report.warnings,
            }
        )
    else:
        where = out if merged else f"{len(files)} file(s) in {out}"
        print(
            f"{report.documents} certificate(s) written to {where}; "
            f"{batch.issued} newly issued, {batch.reissued} reissued as a new version"
        )
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    if (args.target is None) == (args.image is None):
        raise CommandError("give the certificate's TOKEN or --image FILE (one of them)")
    if args.image:
        from desktop import camerascan

        try:
            text = camerascan.read_picture(args.image)
        except camerascan.PictureError as exc:
            raise CommandError(str(exc)) from None
    else:
        text = str(args.target)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            verdict = certificates.verify(session, desk.required_event(session).id, text)
    finally:
        store.close()
    if args.json:
        print_json(verdict.to_json())
    else:
        print(verdict.headline.upper())
        for line in verdict.details:
            print(f"  {line}")
    return EXIT_OK if verdict.genuine else EXIT_FAILED


def _revoke(args: argparse.Namespace) -> int:
    if not args.target:
        raise CommandError("give the SERIAL of the certificate to revoke")
    if not args.reason.strip():
        raise CommandError("say why with --reason")
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            desk.required_event(session)
            certificates.revoke(session, as_owner(desk.context(session)), args.target, args.reason)
    finally:
        store.close()
    print(f"Certificate {args.target.strip().upper()} revoked.")
    return EXIT_OK


def _override(args: argparse.Namespace) -> int:
    if not args.target or args.decision is None:
        raise CommandError("give the attendee and --eligible, --not-eligible or --clear")
    if not args.reason.strip():
        raise CommandError("say why with --reason")
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            attendee_id = certificates.attendee_by_ref(session, event.id, [args.target])[0]
            eligible = {"yes": True, "no": False, "clear": None}[args.decision]
            ctx = as_owner(desk.context(session))
            certificates.set_override(session, ctx, attendee_id, eligible, args.reason)
            standing = certificates.explain(session, event.id, attendee_id)
    finally:
        store.close()
    if args.json:
        print_json(standing.to_json())
    else:
        print(f"{standing.person.name}: {standing.summary}")
    return EXIT_OK


def _rules(args: argparse.Namespace) -> int:
    changes = {
        "min_percent": args.min_percent,
        "every_day": args.every_day,
        "min_sessions": args.min_sessions,
        "combine": args.combine,
        "paper": args.paper,
    }
    wanted = {k: v for k, v in changes.items() if v is not None}
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            settings = certificates.load_settings(session, event.id)
            if wanted:
                fields = settings.to_fields()
                fields.update(wanted)
                settings = Settings.from_fields(fields)
                certificates.save_settings(session, as_owner(desk.context(session)), settings)
    finally:
        store.close()
    if args.json:
        print_json(settings.to_json())
        return EXIT_OK
    rules = settings.rules
    print(rules.describe() + f" ({certificates.COMBINES[rules.combine]} must hold).")
    print(f"Attendance: {', '.join(rules.attendance_categories) or 'no category'}")
    print(f"Appreciation: {', '.join(rules.appreciation_categories) or 'no category'}")
    print(f"Paper: {certificates.PAPERS.get(settings.paper, settings.paper)}")
    for person in settings.signatories:
        print(f"Signatory: {person.name}, {person.title}")
    return EXIT_OK
