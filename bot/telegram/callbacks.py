"""Inline-button payloads (``callback_data``, at most 64 bytes).

A button that changes a record carries the record's id and the record's ``version`` at the
moment the button was drawn. Every accepted answer bumps the version, so a button from an
older message (or pressed twice) no longer matches and is refused without changing anything;
a button naming someone else's record is refused by the ownership check. Data that does not
parse at all (forged by a modified client) reaches no handler but the fallback.
"""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData


class Op(enum.StrEnum):
    """What a question / review / submit button does."""

    choose = "c"  # answer with a choice code
    keep = "k"  # accept the value shown as current (prefill or earlier answer)
    skip = "s"  # leave an optional question empty
    toggle = "t"  # select / unselect one option of a multi-select question
    finish = "f"  # finish a multi-select question
    note = "n"  # "read it" on an information note
    proceed = "p"  # from the review to the confirmation questions
    warned = "w"  # keep the answers despite the consistency hints, then proceed
    edit = "e"  # jump to a question from the summary
    submit = "u"  # submit the completed form


class StepCb(CallbackData, prefix="q"):
    """A button on a record's question, summary or submit message."""

    r: int  # record id
    v: int  # record version when drawn (stale-button nonce)
    o: Op
    x: str = ""  # choice code or field name


class HouseOp(enum.StrEnum):
    """Investigator buttons on the household list and a household."""

    page = "l"  # show a page of the household list
    view = "v"  # show one household
    contacts = "c"  # show the insured family members' full phone numbers
    add = "a"  # add a person found at home who is not on the roster


class HouseCb(CallbackData, prefix="h"):
    """An investigator's household navigation button."""

    o: HouseOp
    h: int = 0  # household id
    p: int = 0  # page of the household list to return to


class PersonCb(CallbackData, prefix="m"):
    """An investigator's "collect this person" button."""

    i: int  # person id


class MemberOp(enum.StrEnum):
    """Investigator buttons on one person of a household and on recording a contact."""

    view = "v"  # show the person: status, newest contact, what can be done
    phone = "t"  # show their full mobile number
    contact = "c"  # record a contact: choose how it ended
    outcome = "o"  # the outcome chosen (x): a note may follow
    save = "s"  # save the contact (x) without a note


class MemberCb(CallbackData, prefix="p"):
    """An investigator's button on one person."""

    o: MemberOp
    i: int  # person id
    p: int = 0  # page of the household list to return to
    x: str = ""  # contact outcome code
