"""Path and query parameters of the console, the API and the web chat, parsed in one place.

Every value a URL carries is checked here before it reaches a query: ids are decimal numbers
within what the database stores (1 … 2⁶³−1; a larger one made SQLite raise OverflowError),
dates lie within the survey's plausible range (``0001-01-01`` made the day arithmetic
overflow), times with a zone convert without overflow, pages are bounded, choices come from
their list. What fails is a
:class:`ParamError`: a 400 whose message says which parameter and what is expected (the API
turns it into its JSON error body, the console into its error page). A path whose id cannot
name anything is a 404 (:func:`path_id`).

Query strings of HTML forms send empty fields for "no filter", so the console reads an empty
value as absent; the API's callers are programs, and there an empty value is as wrong as any
other value that is not what the description says (``blank="invalid"``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal

from aiohttp import web
from multidict import MultiDictProxy

MAX_ID = 2**63 - 1  # BIGINT, and SQLite's INTEGER
# The survey's plausible dates: any date a filter, a deadline or an answer may carry.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
MAX_PAGE = 100_000

_DIGITS = re.compile(r"[0-9]{1,19}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


AREA_ID_REQUIRED = "参数 id 必填（区、街道或社区的编号）。"


class ParamError(web.HTTPBadRequest):
    """A path or query parameter is malformed (400); ``message`` says which and what is
    expected, in Chinese."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(reason="Bad Request", text=message)
        self.name = name
        self.message = message


def id_value(raw: str, name: str) -> int:
    """An id: decimal digits (ASCII only; ``int()`` would also take ``+1``, ``١`` or
    ``1_000``) within 1 … :data:`MAX_ID`."""
    if _DIGITS.fullmatch(raw) is not None:
        value = int(raw)
        if 1 <= value <= MAX_ID:
            return value
    raise ParamError(
        name, f"参数 {name} 应为 1 到 {MAX_ID} 之间的整数编号（收到“{_shown(raw)}”）。"
    )


def path_id(request: web.Request, name: str) -> int:
    """The id in the path's ``{name}``; 404 when it cannot name anything."""
    try:
        return id_value(request.match_info[name], name)
    except ParamError:
        raise web.HTTPNotFound() from None


def day_value(raw: str, name: str) -> dt.date:
    """A date ``YYYY-MM-DD`` within :data:`FIRST_DAY` … :data:`LAST_DAY`."""
    day: dt.date | None = None
    if _DAY.fullmatch(raw) is not None:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise ParamError(
            name,
            f"参数 {name} 应为 {FIRST_DAY} 到 {LAST_DAY} 之间的日期，格式如 2014-11-01"
            f"（收到“{_shown(raw)}”）。",
        )
    return day


def instant_value(raw: str, name: str) -> dt.datetime:
    """An ISO 8601 / RFC 3339 time with its zone (``2014-11-01T00:00:00+08:00`` or ``…Z``), in
    UTC. A time that only names "before everything" or "after everything" (its UTC falls
    outside years 1 … 9999) is taken as the first or the last instant: a "changed since" may
    name it, and converting it must not overflow."""
    expected = f"参数 {name} 应为带时区的 ISO 8601 时间，如 2014-11-01T00:00:00+08:00"
    value: dt.datetime | None = None
    if _INSTANT.fullmatch(raw) is not None:
        try:
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            value = None
    if value is None:
        raise ParamError(name, f"{expected}（收到“{_shown(raw)}”）。")
    if value.tzinfo is None:
        raise ParamError(name, f"参数 {name} 须带时区，如 2014-11-01T00:00:00+08:00。")
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        end = dt.datetime.min if value.year < 5000 else dt.datetime.max
        return end.replace(tzinfo=dt.UTC)


def choices_value(raw: str, name: str, allowed: Collection[str]) -> tuple[str, ...]:
    """A comma-separated list of ``allowed`` values, each once, in the order given."""
    wanted = [part.strip() for part in raw.split(",")]
    bad = [part for part in wanted if part not in allowed]
    if bad:
        raise ParamError(
            name,
            f"参数 {name} 只能是 {'、'.join(allowed)}，可用逗号分隔多个"
            f"（收到“{_shown(bad[0])}”）。",
        )
    return tuple(dict.fromkeys(wanted))


def _shown(raw: str) -> str:
    # Quoted back so the caller sees what arrived; short, and printable whatever it was.
    text = "".join(c if c.isprintable() else "?" for c in raw[:40])
    return text + ("…" if len(raw) > 40 else "")


class Query:
    """Typed reads of a query string (or of a form's fields, which are parsed the same way).

    ``blank``: ``"absent"`` (an empty value means "not given", as HTML forms send it) or
    ``"invalid"`` (an empty value is refused like any malformed one).
    """

    def __init__(
        self, query: Mapping[str, Any], *, blank: Literal["absent", "invalid"] = "absent"
    ) -> None:
        self._query = query
        self._blank = blank

    def raw(self, name: str) -> str | None:
        """The value as sent; None when absent (or blank, where blank means absent)."""
        value = self._query.get(name)
        if value is None:
            return None
        text = str(value)
        if text == "" and self._blank == "absent":
            return None
        return text

    def id(self, name: str) -> int | None:
        """An optional id (see :func:`id_value`)."""
        raw = self.raw(name)
        return None if raw is None else id_value(raw, name)

    def area(self, levels: Collection[str]) -> tuple[str, int | None]:
        """An area as ``level`` (one of ``levels``, default ``city``) and ``id``: the id is
        required below the city and ignored for it (the city has no id). OpenAPI cannot say
        that one parameter is required by another's value; the API's description says it."""
        level = self.choice("level", levels, "city") or "city"
        area_id = self.id("id")  # a malformed id is refused at every level
        if level == "city":
            return level, None
        if area_id is None:
            raise ParamError("id", AREA_ID_REQUIRED)
        return level, area_id

    def number(self, name: str, *, default: int, maximum: int) -> int:
        """A count such as a page or a limit: 1 … ``maximum``, ``default`` when absent."""
        raw = self.raw(name)
        if raw is None:
            return default
        if _DIGITS.fullmatch(raw) is not None and 1 <= int(raw) <= maximum:
            return int(raw)
        raise ParamError(
            name, f"参数 {name} 应为 1 到 {maximum} 之间的整数（收到“{_shown(raw)}”）。"
        )

    def page(self, name: str = "page") -> int:
        """A page number, 1 … :data:`MAX_PAGE`."""
        return self.number(name, default=1, maximum=MAX_PAGE)

    def day(self, name: str) -> dt.date | None:
        """An optional date (see :func:`day_value`)."""
        raw = self.raw(name)
        return None if raw is None else day_value(raw, name)

    def instant(self, name: str) -> dt.datetime | None:
        """An optional time with its zone (see :func:`instant_value`)."""
        raw = self.raw(name)
        return None if raw is None else instant_value(raw, name)

    def choice(self, name: str, allowed: Collection[str], default: str | None = None) -> str | None:
        """One of ``allowed``, ``default`` when absent."""
        raw = self.raw(name)
        if raw is None:
            return default
        if raw in allowed:
            return raw
        raise ParamError(name, f"参数 {name} 只能是 {'、'.join(allowed)}（收到“{_shown(raw)}”）。")

    def choices(self, name: str, allowed: Collection[str]) -> tuple[str, ...]:
        """A comma-separated list of ``allowed`` values (empty when absent)."""
        raw = self.raw(name)
        return () if raw is None else choices_value(raw, name, allowed)

    def text(self, name: str, *, max_length: int = 200) -> str | None:
        """An optional free string of at most ``max_length`` characters."""
        raw = self.raw(name)
        if raw is not None and len(raw) > max_length:
            raise ParamError(name, f"参数 {name} 最多 {max_length} 个字符。")
        return raw


async def form_of(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form fields (400 when the body cannot be read as a UTF-8 form: a
    browser never sends one, so it is a broken or hand-made request)."""
    try:
        return await request.post()
    except (UnicodeDecodeError, ValueError):
        raise ParamError(
            "form", "提交的内容无法读取（应为 UTF-8 编码的表单），请刷新页面后重试。"
        ) from None
