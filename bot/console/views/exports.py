"""Exports: the 采集表 as XLSX / CSV, the employers list, one record as PDF. Scoped, audited."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session
from sqlalchemy.ext.asyncio import AsyncSession

from bot import clock
from bot.appkeys import FORM, SESSIONMAKER
from bot.console import present
from bot.console.auth import current_staff
from bot.console.filters import describe_filter, filter_query, parse_filter
from bot.console.sessions import csrf_token
from bot.exports import rows as layout
from bot.exports.csvfile import BOM, encode_row
from bot.exports.employers import HEADERS as EMPLOYER_HEADERS
from bot.exports.employers import aiter_rows, employer_rows
from bot.exports.pdf import PdfRecord, render_pdf
from bot.exports.xlsx import write_xlsx
from flows import Form
from storage import reporting
from storage.models import Staff
from storage.repositories import Actor
from storage.repositories.audit import add_event

router = web.RouteTableDef()
CHUNK = 256 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> str:
    # RFC 6266: an ASCII fallback and the UTF-8 name for browsers that read it.
    return f"attachment; filename=\"export{Path(name).suffix}\"; filename*=UTF-8''{quote(name)}"


def _stamp() -> str:
    return clock.now().strftime("%Y%m%d-%H%M")


async def _audit(
    request: web.Request, details: dict[str, Any], record_id: int | None = None
) -> None:
    # Written before the data leaves, so an interrupted download is on the record too.
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        add_event(
            db,
            Actor.staff(staff),
            "exported",
            record_id=record_id,
            channel="console",
            details=details,
        )


async def _form_rows(
    db: AsyncSession, staff: Staff, form: Form, f: reporting.RecordFilter
) -> AsyncIterator[list[Any]]:
    async for row in reporting.stream_records(db, staff.district_id, f):
        yield layout.values(present.form_for(form, row.form_id, row.form_version), row)


async def _send_file(
    request: web.Request, path: Path, content_type: str, name: str
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": content_type,
            "Content-Disposition": _attachment(name),
            "Content-Length": str((await asyncio.to_thread(path.stat)).st_size),
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    # The file is deleted right after this returns, so it is sent here, not by FileResponse.
    f = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            await response.write(chunk)
    finally:
        f.close()
    await response.write_eof()
    return response


@contextlib.contextmanager
def _temp_path(suffix: str) -> Any:
    fd, name = tempfile.mkstemp(suffix=suffix, prefix="canbao-export-")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


@router.get("/exports/records.xlsx", name="console_export_xlsx")
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    """The 采集表 of every handed-in record matching the queue's filters, as XLSX."""
    staff = current_staff(request)
    form: Form = request.config_dict[FORM]
    f = parse_filter(request.query, default_status="all")
    await _audit(request, {"format": "xlsx", "filter": describe_filter(f)})
    with _temp_path(".xlsx") as path:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            await write_xlsx(
                path,
                "信息采集表",
                layout.headers(form),
                _form_rows(db, staff, form, f),
                widths={i: 22 for i in layout.text_columns(form)},
            )
        return await _send_file(request, path, XLSX_TYPE, f"信息采集表-{_stamp()}.xlsx")


@router.get("/exports/records.csv", name="console_export_csv")
async def export_csv(request: web.Request) -> web.StreamResponse:
    """The same as CSV (UTF-8 with BOM), streamed row by row."""
    staff = current_staff(request)
    form: Form = request.config_dict[FORM]
    f = parse_filter(request.query, default_status="all")
    await _audit(request, {"format": "csv", "filter": describe_filter(f)})
    text_cols = layout.text_columns(form)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": _attachment(f"信息采集表-{_stamp()}.csv"),
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await response.write((BOM + encode_row(layout.headers(form))).encode())
    buffer: list[str] = []
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        async for values in _form_rows(db, staff, form, f):
            buffer.append(encode_row(values, text_cols))
            if len(buffer) >= 500:
                await response.write("".join(buffer).encode())
                buffer = []
    if buffer:
        await response.write("".join(buffer).encode())
    await response.write_eof()
    return response


async def _employers(request: web.Request) -> tuple[Staff, list[reporting.EmployerLine]]:
    staff = current_staff(request)
    f = parse_filter(request.query, default_status="all")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        lines = await reporting.uninsuring_employers(db, staff.district_id, f)
    return staff, lines


@router.get("/employers", name="console_employers")
async def employers_page(request: web.Request) -> web.Response:
    """Employers reported as 单位未参保, grouped, with the number of people."""
    staff, lines = await _employers(request)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "rows": employer_rows(lines),
        "total_people": sum(line.people for line in lines),
        "filter_qs": filter_query(request.query),
    }
    return aiohttp_jinja2.render_template("console/employers.html", request, context)


@router.get("/exports/employers.xlsx", name="console_export_employers")
async def export_employers(request: web.Request) -> web.StreamResponse:
    """The employers list as XLSX, for 劳动保障监察."""
    _, lines = await _employers(request)
    f = parse_filter(request.query, default_status="all")
    await _audit(
        request,
        {"format": "employers.xlsx", "filter": describe_filter(f), "employers": len(lines)},
    )
    rows: Sequence[Sequence[Any]] = employer_rows(lines)
    with _temp_path(".xlsx") as path:
        await write_xlsx(
            path, "单位未参保", EMPLOYER_HEADERS, aiter_rows(rows), widths={1: 36, 2: 40}
        )
        return await _send_file(request, path, XLSX_TYPE, f"单位未参保名单-{_stamp()}.xlsx")


@router.get(r"/records/{record_id:\d+}.pdf", name="console_record_pdf")
async def record_pdf(request: web.Request) -> web.Response:
    """One record as the paper form (PDF)."""
    staff = current_staff(request)
    record_id = int(request.match_info["record_id"])
    async with request.config_dict[SESSIONMAKER]() as db:
        row = await reporting.record_row(db, staff.district_id, record_id)
    if row is None:
        raise web.HTTPNotFound()
    form = present.form_for(request.config_dict[FORM], row.form_id, row.form_version)
    await _audit(request, {"format": "pdf"}, record_id=record_id)
    footer = (
        f"记录编号 {row.id} · 第 {row.revision} 版 · "
        f"{layout.STATUS_TEXT.get(str(row.status), str(row.status))} · "
        f"打印于 {clock.format_time(clock.now())}"
    )
    item = PdfRecord(row.district, row.street, row.community, row.household, row.answers, footer)
    body = render_pdf(form, item)
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="record-{row.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )
