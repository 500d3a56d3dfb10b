"""Drawing certificates with the layout engine: one merged PDF, or one PDF per person.

A certificate layout (``certificate-a4``, ``certificate-letter``, or the organiser's own of
the same name in the data folder's ``layouts/``) draws both kinds; its ``defaults`` hold the
wording of each kind (``title_attendance``, ``statement_appreciation``, …), which is copied
into each record's values by kind. Signatories, logos and the background come from the
event's certificate settings through the batch's context.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from desktop.certificates import CertificateBatch, CertificateRecord
from desktop.countries import country_name
from desktop.layout import Layout, RenderReport, load_layout, render

LAYOUTS = {"a4": "certificate-a4", "letter": "certificate-letter"}
# Wording a layout gives per kind: "{key}_{kind}" in its defaults becomes "{key}".
WORDING = ("title", "presented", "statement")
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(10)}
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ and ZWJ spell some names (Persian, Sinhala)
MAX_NAME_CHARS = 80

Progress = Callable[[int, int], bool | None]


def layout_for(paper: str, user_layouts: Path | None = None) -> Layout:
    """The certificate layout for a paper size (``a4`` or ``letter``)."""
    return load_layout(LAYOUTS.get(paper, LAYOUTS["a4"]), user_layouts)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def record_values(record: CertificateRecord, layout: Layout) -> dict[str, str]:
    """The fields a certificate layout fills in for one certificate (plain strings)."""
    country = country_name(record.country) if record.country else ""
    values = {
        "id": record.attendee_id,
        "short_code": record.short_code,
        "kind": record.kind,
        "name": record.name,
        "native_name": record.native_name,
        "organisation": record.organisation,
        "position": record.position,
        "country_name": country,
        "affiliation": ", ".join(p for p in (record.organisation, country) if p),
        "serial": record.serial,
        "version": str(record.version),
        "version_note": f"version {record.version}" if record.version > 1 else "",
        "token": record.token,
        "issue_date": f"{record.issued_on.day} {record.issued_on:%B %Y}",
        "issue_day": _ordinal(record.issued_on.day),
        "issue_month_year": f"{record.issued_on:%B %Y}",
    }
    for key in WORDING:
        wording = layout.defaults.get(f"{key}_{record.kind}")
        if wording is not None:
            values[key] = wording
    return values


def draw(
    batch: CertificateBatch,
    out: Path | BinaryIO,
    *,
    progress: Progress | None = None,
    layout: Layout | None = None,
) -> RenderReport:
    """Every certificate of the batch into one PDF, a page each (``progress`` may stop it)."""
    chosen = layout or layout_for(batch.paper, batch.user_layouts)
    records = [record_values(r, chosen) for r in batch.records]
    return render(chosen, records, out, context=batch.context, progress=progress)


def safe_file_name(name: str, serial: str, taken: set[str]) -> str:
    """``NAME - SERIAL.pdf``, safe on any file system, in any script, not in ``taken``.

    Characters Windows forbids and invisible ones go, the name is cut to a sensible length,
    reserved device names are avoided, and a clash (compared without case) gets a number.
    ``taken`` is updated.
    """
    text = unicodedata.normalize("NFC", name)
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in _FORBIDDEN.sub(" ", text)
        if unicodedata.category(c) != "Cf" or c in _KEEP_FORMAT
    )
    text = " ".join(text.split())[:MAX_NAME_CHARS].strip(" .")
    # Keep the whole name well under the 255-byte limit of most file systems.
    while len(text.encode("utf-8")) > 180:
        text = text[:-1].rstrip(" .")
    clean_serial = re.sub(r"[^A-Za-z0-9-]", "", serial) or "certificate"
    stem = f"{text} - {clean_serial}" if text else clean_serial
    if stem.split(".")[0].split(" ")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    candidate = f"{stem}.pdf"
    number = 2
    while candidate.casefold() in taken:
        candidate = f"{stem} ({number}).pdf"
        number += 1
    taken.add(candidate.casefold())
    return candidate


def draw_each(
    batch: CertificateBatch,
    folder: Path,
    *,
    progress: Progress | None = None,
    layout: Layout | None = None,
) -> tuple[list[Path], RenderReport]:
    """One PDF per certificate in ``folder``; returns the files written and a joint report.

    A file of the same name is replaced (the same certificate drawn again). ``progress``
    returning False stops after the current file.
    """
    chosen = layout or layout_for(batch.paper, batch.user_layouts)
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    written: list[Path] = []
    joint = RenderReport()
    total = len(batch.records)
    for index, record in enumerate(batch.records):
        target = folder / safe_file_name(record.name, record.serial, taken)
        partial = target.with_name(f".{target.name}.partial")
        try:
            report = render(chosen, [record_values(record, chosen)], partial, context=batch.context)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(target)
        joint.pages += report.pages
        joint.documents += report.documents
        for warning in report.warnings:
            joint.warn(warning)
        if progress is not None and progress(index + 1, total) is False:
            joint.cancelled = index + 1 < total
            break
    return written, joint


def names_in(records: Iterable[CertificateRecord]) -> list[str]:
    """The printed names, in order (what a confirmation lists)."""
    return [r.name for r in records]
