"""Every button the form can draw fits Telegram's 64-byte callback_data and reads back."""

from __future__ import annotations

from bot.telegram.callbacks import HouseCb, HouseOp, Op, PersonCb, StepCb
from flows import regions
from tests.telegram.test_resident_support import FORM

BIG_ID = 2**53  # far beyond any real record id or version


def _values() -> set[str]:
    values = {field.name for field in FORM.fields}
    for field in FORM.fields:
        values.update(choice.code for choice in field.choices)
    values.update(place.code for place in regions.provinces())
    for province in regions.provinces():
        values.update(place.code for place in regions.cities(province.name))
    values.update(choice.code for choice in FORM.address.local_districts)
    return values


def test_every_step_button_fits_and_round_trips() -> None:
    values = _values()
    assert "employer_uninsured" in values and "320508" in values
    for op in Op:
        for value in values:
            data = StepCb(r=BIG_ID, v=BIG_ID, o=op, x=value).pack()
            assert len(data.encode()) <= 64, data
            assert StepCb.unpack(data) == StepCb(r=BIG_ID, v=BIG_ID, o=op, x=value)


def test_household_buttons_fit() -> None:
    for op in HouseOp:
        assert len(HouseCb(o=op, h=BIG_ID, p=10**6).pack().encode()) <= 64
    assert len(PersonCb(i=BIG_ID).pack().encode()) <= 64
