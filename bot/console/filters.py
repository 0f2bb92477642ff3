"""The queue's filters, read from the query string (the exports use the same ones)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from bot import clock
from bot.telegram.i18n import N_
from storage.models import FilledBy, RecordStatus
from storage.reporting import FLAG_FILTERS, RecordFilter

STATUS_LABELS = {
    RecordStatus.draft: N_("草稿"),
    RecordStatus.submitted: N_("待审核"),
    RecordStatus.returned: N_("已退回"),
    RecordStatus.confirmed: N_("已确认"),
}
FILLED_BY_LABELS = {FilledBy.resident: N_("本人填报"), FilledBy.investigator: N_("调查员采集")}
FLAG_LABELS = {
    "none": N_("无标记"),
    "any": N_("有标记"),
    "warnings": N_("一致性提示"),
    "not_on_roster": N_("不在花名册"),
    "duplicate": N_("重复身份证号尝试"),
    "identity": N_("身份号码与名册不符"),
}
FILTER_KEYS = (
    "district",
    "street",
    "community",
    "status",
    "filled_by",
    "flag",
    "from",
    "to",
    "investigator",
)


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def parse_filter(query: Mapping[str, Any], *, default_status: str = "submitted") -> RecordFilter:
    """A :class:`RecordFilter` from query parameters; unknown or malformed values are ignored.

    ``status`` may be ``all``; when absent the queue shows ``default_status``.
    """
    status = str(query.get("status", default_status) or "all")
    statuses = (
        ()
        if status == "all"
        else tuple(RecordStatus(s) for s in status.split(",") if s in RecordStatus.__members__)
    )
    filled = str(query.get("filled_by", ""))
    flag = str(query.get("flag", ""))
    return RecordFilter(
        district_id=_int(query.get("district")),
        street_id=_int(query.get("street")),
        community_id=_int(query.get("community")),
        statuses=statuses,
        filled_by=FilledBy(filled) if filled in FilledBy.__members__ else None,
        flag=flag if flag in FLAG_FILTERS else None,
        date_from=_date(query.get("from")),
        date_to=_date(query.get("to")),
        investigator_id=_int(query.get("investigator")),
        zone=clock.zone(),
    )


def filter_query(query: Mapping[str, Any], **overrides: Any) -> str:
    """The filter part of a query string (for paging and export links)."""
    params = {k: str(query[k]) for k in FILTER_KEYS if query.get(k)}
    params.update({k: str(v) for k, v in overrides.items() if v is not None})
    return urlencode(params)


def describe_filter(f: RecordFilter) -> dict[str, Any]:
    """The filter as plain JSON for the audit log."""
    return {
        "district_id": f.district_id,
        "street_id": f.street_id,
        "community_id": f.community_id,
        "statuses": [str(s) for s in f.statuses],
        "filled_by": str(f.filled_by) if f.filled_by else None,
        "flag": f.flag,
        "from": f.date_from.isoformat() if f.date_from else None,
        "to": f.date_to.isoformat() if f.date_to else None,
        "investigator_id": f.investigator_id,
    }
