"""Staff console benchmark: progress and queue response times on a 200,000-person roster.

    python3 bench/console.py                     # 200,000 people, SQLite
    python3 bench/console.py --people 50000 --pg postgresql+asyncpg://postgres@127.0.0.1/test

Builds a synthetic roster (``bot.synthetic.make_roster``) and records for ~70 % of the people
(submitted / returned / confirmed / drafts / 未采集, spread over the survey window, some
flagged), written with bulk inserts. Then, through the real aiohttp application and a signed-in
test client, times each page several times and reports the median and the slowest run:
progress at city / district / street / community level, the queue (default, filtered, a deep
page), the record page, and one full XLSX and CSV export (rows/s and peak memory).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Table, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.server import create_app
from bot.settings import Settings
from bot.synthetic import make_roster
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import Person, Record, RecordRevision, RecordStatus
from storage.repositories.accounts import create_staff
from storage.repositories.roster import RosterRow, import_roster
from storage.testing import temporary_database

PASSWORD = "bench password 2014"
CHUNK = 5000
START = dt.datetime(2014, 10, 15, 1, 0, tzinfo=dt.UTC)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def answers_for(person: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str, str]:
    """A plausible final record (codes as the form engine writes them), and its denormalised
    insured / current status."""
    insured = rng.choice(("never", "lapsed", "elsewhere"))
    current = rng.choice(("employed", "flexible", "unemployed", "student", "elderly_no_benefit"))
    answers: dict[str, Any] = {
        "filler_role": "self",
        "name": person["name"],
        "id_number": person["id_number"],
        "mobile": person["mobile"],
        "insured_status": insured,
        "confirmer_name": person["name"],
        "acknowledgement": True,
        "birth_date": f"{person['id_number'][6:10]}-{person['id_number'][10:12]}-"
        f"{person['id_number'][12:14]}",
        "sex": "male" if int(person["id_number"][16]) % 2 else "female",
        "age": 2014 - int(person["id_number"][6:10]),
        "collection_date": "2014-11-01",
    }
    if insured == "elsewhere":
        answers.update(insured_place={"province": "上海市", "city": "浦东新区"}, medical="employee")
    else:
        answers.update(
            residence={
                "province": "江苏省",
                "city": "苏州市",
                "district": "姑苏区",
                "road": "人民路",
            },
            current_status=current,
            uninsured_reasons=["employer_uninsured"] if current == "employed" else ["unaware"],
        )
        if current == "employed":
            answers["workplace_name"] = f"苏州第{rng.randint(1, 400)}电子有限公司"
    return answers, insured, current


async def build(url: str | None, people: int, tmp: Path) -> tuple[Any, Any]:
    """A database with the roster and records; returns (engine context, sessions)."""
    context = temporary_database(url, directory=tmp)
    engine = await context.__aenter__()
    sessions = make_sessionmaker(engine)
    rows = make_roster(people, seed=2014)
    roster = [
        RosterRow(
            district=r["区"],
            street=r["街道"],
            community=r["社区"],
            household=r["户号"],
            name=r["姓名"],
            id_number=r["公民身份号码"],
            mobile=r["联系电话"] or None,
            residence_address=r["居住地址"] or None,
        )
        for r in rows
    ]
    started = time.perf_counter()
    async with sessions() as s, s.begin():
        await import_roster(s, roster)
        await create_staff(s, "bench_city", PASSWORD)
    print(f"roster of {people:,} imported in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    rng = random.Random(7)
    form = load_default_form()
    records: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    async with sessions() as s:
        persons = (
            (
                await s.execute(
                    select(
                        Person.id,
                        Person.name,
                        Person.id_number,
                        Person.mobile,
                        Person.district_id,
                        Person.street_id,
                        Person.community_id,
                        Person.household_id,
                    )
                )
            )
            .mappings()
            .all()
        )
    next_id = 1
    for p in persons:
        roll = rng.random()
        if roll > 0.7:
            continue
        status = (
            "draft"
            if roll < 0.05
            else "returned"
            if roll < 0.08
            else "confirmed"
            if roll < 0.4
            else "submitted"
        )
        submitted = START + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 55))
        answers, insured, current = answers_for(dict(p), rng)
        not_collected = rng.random() < 0.04
        flags = ["W_EMPLOYER_REASON"] if rng.random() < 0.03 else []
        records.append(
            {
                "id": next_id,
                "person_id": p["id"],
                "live_person_id": p["id"],
                "form_id": form.id,
                "form_version": form.version,
                "status": status,
                "filled_by": "investigator" if not_collected else "resident",
                "state": {"form_id": form.id, "form_version": form.version},
                "flags": flags,
                "duplicate_attempts": 0,
                "district_id": p["district_id"],
                "street_id": p["street_id"],
                "community_id": p["community_id"],
                "household_id": p["household_id"],
                "collection_status": "not_collected" if not_collected else "collected",
                "not_collected_reason": rng.choice(("separated", "away", "unknown"))
                if not_collected
                else None,
                "insured_status": insured,
                "current_status": current,
                "employer_name": answers.get("workplace_name"),
                "submitted_at": None if status == "draft" else submitted,
                "confirmed_at": submitted + dt.timedelta(days=2) if status == "confirmed" else None,
                "version": 2,
                "created_at": submitted,
                "updated_at": submitted,
            }
        )
        if status != "draft":
            revisions.append(
                {
                    "record_id": next_id,
                    "n": 1,
                    "form_id": form.id,
                    "form_version": form.version,
                    "answers": answers,
                    "submitted_at": submitted,
                    "actor_kind": "resident",
                    "actor_label": "调查对象本人",
                }
            )
        next_id += 1
    async with sessions() as s, s.begin():
        for table, batch in ((Record.__table__, records), (RecordRevision.__table__, revisions)):
            assert isinstance(table, Table)
            for i in range(0, len(batch), CHUNK):
                await s.execute(insert(table), batch[i : i + CHUNK])
    print(
        f"{len(records):,} records ({len(revisions):,} handed in) written in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return context, sessions


async def timed(client: TestClient, path: str, runs: int) -> tuple[float, float, int]:  # type: ignore[type-arg]
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(path)
        body = await response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, (path, response.status)
        size = len(body)
    return statistics.median(times), max(times), size


async def time_queries(sessions: Any, runs: int) -> None:
    """Each query of the city's progress page and the queue's first page on its own."""
    from bot import clock
    from storage import people, reporting

    zone = clock.zone()
    SUBMITTED = reporting.RecordFilter(statuses=(RecordStatus.submitted,))
    calls: list[tuple[str, Any]] = [
        ("reporting.progress", lambda s: reporting.progress(s, None)),
        ("people.reach", lambda s: people.reach(s, None)),
        ("reporting.investigator_progress", lambda s: reporting.investigator_progress(s, None)),
        ("people.investigator_reach", lambda s: people.investigator_reach(s, None)),
        ("reporting.daily_counts", lambda s: reporting.daily_counts(s, None, zone=zone)),
        ("reporting.queue", lambda s: reporting.queue(s, None, SUBMITTED)),
    ]
    print(f"\n{'query (city)':<34} {'median':>9} {'slowest':>9}")
    for label, call in calls:
        times = []
        for _ in range(runs):
            async with sessions() as s:
                started = time.perf_counter()
                await call(s)
                times.append(time.perf_counter() - started)
        print(f"{label:<34} {statistics.median(times) * 1000:>7.0f}ms {max(times) * 1000:>7.0f}ms")


async def measure(sessions: Any, tmp: Path, runs: int, exports: bool, queries: bool) -> None:
    """Sign in as the city's reviewer and time every page (and each query, with ``queries``)."""
    if queries:
        await time_queries(sessions, runs)
    settings = Settings(data_dir=tmp / "data", session_secret="bench")
    app = create_app(settings, sessions, load_default_form())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/console/login")).text()
        token = re.search(r'name="_csrf" value="([^"]+)"', page)
        assert token
        await client.post(
            "/console/login",
            data={"_csrf": token.group(1), "username": "bench_city", "password": PASSWORD},
        )
        async with sessions() as s:
            ids = {
                level: (await s.execute(select(column).limit(1))).scalar_one()
                for level, column in (
                    ("district", Record.district_id),
                    ("street", Record.street_id),
                    ("community", Record.community_id),
                )
            }
            record_id = (
                (await s.execute(select(Record.id).where(Record.status == "submitted")))
                .scalars()
                .first()
            )
        pages = [
            ("progress: city", "/console/progress"),
            ("progress: district", f"/console/progress?level=district&id={ids['district']}"),
            ("progress: street", f"/console/progress?level=street&id={ids['street']}"),
            ("progress: community", f"/console/progress?level=community&id={ids['community']}"),
            ("queue: submitted, page 1", "/console/queue"),
            (
                "queue: community + flag filter",
                f"/console/queue?community={ids['community']}&flag=warnings&status=all",
            ),
            ("queue: all, page 1000", "/console/queue?status=all&page=1000"),
            ("record page", f"/console/records/{record_id}"),
        ]
        print(f"\n{'page':<34} {'median':>9} {'slowest':>9} {'size':>9}")
        for label, path in pages:
            median, slowest, size = await timed(client, path, runs)
            print(
                f"{label:<34} {median * 1000:>7.0f}ms {slowest * 1000:>7.0f}ms "
                f"{size / 1024:>7.0f}KB"
            )
        if exports:
            for fmt in ("csv", "xlsx"):
                before = peak_mb()
                median, _, size = await timed(
                    client, f"/console/exports/records.{fmt}?status=all", 1
                )
                print(
                    f"export {fmt}: {median:.1f} s, {size / 1024 / 1024:.1f} MB, "
                    f"peak RSS {before:.0f} → {peak_mb():.0f} MB"
                )


async def run(
    people: int,
    url: str | None,
    runs: int,
    exports: bool,
    queries: bool = False,
    reuse: Path | None = None,
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if reuse is not None:
            # A SQLite file an earlier run left (--keep): no roster to build again.
            engine = make_engine(f"sqlite+aiosqlite:///{reuse}")
            try:
                await measure(make_sessionmaker(engine), Path(tmp), runs, exports, queries)
            finally:
                await engine.dispose()
            return
        context, sessions = await build(url, people, Path(tmp))
        try:
            await measure(sessions, Path(tmp), runs, exports, queries)
        finally:
            await context.__aexit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--pg", help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--queries", action="store_true", help="also time each query alone")
    parser.add_argument("--reuse", type=Path, help="measure this SQLite file instead of building")
    args = parser.parse_args()
    asyncio.run(run(args.people, args.pg, args.runs, not args.no_exports, args.queries, args.reuse))


if __name__ == "__main__":
    main()
