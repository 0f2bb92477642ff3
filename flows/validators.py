"""The value checkers under their older import path; they live in :mod:`flows.values`."""

from __future__ import annotations

from flows.values import (
    Invalid,
    age,
    birth_date,
    clean_name,
    clean_text,
    id_number,
    mask_id,
    mask_mobile,
    mobile,
    one_line,
    person_name,
    sex,
)

__all__ = [
    "Invalid",
    "age",
    "birth_date",
    "clean_name",
    "clean_text",
    "id_number",
    "mask_id",
    "mask_mobile",
    "mobile",
    "one_line",
    "person_name",
    "sex",
]
