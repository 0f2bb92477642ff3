"""Records and progress as the central system's JSON (codes plus labels)."""

from __future__ import annotations

from typing import Any

from flows import Form
from storage.reporting import AreaProgress, RecordRow


def record_json(form: Form, row: RecordRow) -> dict[str, Any]:
    """One record: where, who, status, the newest answers (codes) and their labels."""
    labels = {
        key: form.label_of(key, value)
        for key, value in row.answers.items()
        if value not in (None, "", [])
    }
    return {
        "id": row.id,
        "status": str(row.status),
        "filled_by": str(row.filled_by),
        "form": {"id": row.form_id, "version": row.form_version},
        "revision": row.revision,
        "area": {
            "district_id": row.district_id,
            "district": row.district,
            "street": row.street,
            "community": row.community,
            "household": row.household,
        },
        "person": {"name": row.person_name, "id_number": row.id_number, "on_roster": row.on_roster},
        "investigator": row.investigator,
        "flags": list(row.flags),
        "duplicate_attempts": row.duplicate_attempts,
        "submitted_at": _iso(row.submitted_at),
        "confirmed_at": _iso(row.confirmed_at),
        "enrolment": (
            {"date": row.enrolled_at.isoformat(), "insurance": row.enrolled_insurance}
            if row.enrolled_at
            else None
        ),
        "return_comment": row.return_comment,
        "updated_at": _iso(row.updated_at),
        "answers": row.answers,
        "labels": labels,
    }


def progress_json(line: AreaProgress) -> dict[str, Any]:
    """One area's counts."""
    return {
        "level": line.level,
        "id": line.id,
        "name": line.name,
        "target": line.target,
        "households": line.households,
        "households_visited": line.households_visited,
        "drafts": line.drafts,
        "submitted": line.submitted,
        "returned": line.returned,
        "confirmed": line.confirmed,
        "collected": line.collected,
        "not_collected": dict(line.not_collected),
        "collection_rate": round(line.rate, 4),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
