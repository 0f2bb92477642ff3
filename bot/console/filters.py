"""The queue's filters, read from the query string (the exports use the same ones)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from bot import clock
from bot.params import Query, choices_value
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
# The channel a record was filled through (its newest submission's, else its chat's).
CHANNEL_LABELS = {"telegram": N_("Telegram"), "web": N_("网页")}
FLAG_LABELS = {
    "none": N_("无标记"),
    "any": N_("有标记"),
    "warnings": N_("一致性提示"),
    "not_on_roster": N_("不在花名册"),
    "duplicate": N_("重复身份证号尝试"),
    "identity": N_("身份号码与名册不符"),
}
STATUSES = tuple(str(s) for s in RecordStatus)
FILLED_BY = tuple(str(f) for f in FilledBy)
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


def parse_filter(query: Mapping[str, Any], *, default_status: str = "submitted") -> RecordFilter:
    """A :class:`RecordFilter` from query parameters (or a form's fields); a malformed value is
    a 400 (:class:`bot.params.ParamError`), an empty one means "no filter".

    ``status`` may be ``all``; when absent the queue shows ``default_status``.
    """
    q = Query(query)
    status = q.raw("status") or default_status
    statuses = (
        ()
        if status == "all"
        else tuple(map(RecordStatus, choices_value(status, "status", STATUSES)))
    )
    filled = q.choice("filled_by", FILLED_BY)
    return RecordFilter(
        district_id=q.id("district"),
        street_id=q.id("street"),
        community_id=q.id("community"),
        statuses=statuses,
        filled_by=FilledBy(filled) if filled else None,
        flag=q.choice("flag", FLAG_FILTERS),
        date_from=q.day("from"),
        date_to=q.day("to"),
        investigator_id=q.id("investigator"),
        zone=clock.zone(),
    )


def filter_params(f: RecordFilter) -> dict[str, str]:
    """The query parameters that select exactly ``f`` (``status=all`` when it has none): links
    that must carry the filter a page applies, defaults included, such as the exports'."""
    params = {
        "district": f.district_id,
        "street": f.street_id,
        "community": f.community_id,
        "status": ",".join(str(s) for s in f.statuses) or "all",
        "filled_by": f.filled_by,
        "flag": f.flag,
        "from": f.date_from.isoformat() if f.date_from else None,
        "to": f.date_to.isoformat() if f.date_to else None,
        "investigator": f.investigator_id,
    }
    return {k: str(v) for k, v in params.items() if v is not None}


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
