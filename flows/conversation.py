"""One person's walk through a form: the API every channel drives.

The whole state is a plain JSON value (:attr:`Conversation.state`) that the store persists
after every answer; :meth:`Conversation.restore` continues exactly where it was. The question
order comes from the form's compiled ``transitions`` machine (see :mod:`flows.machine`).
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from flows import address as addr
from flows.errors import EngineError
from flows.expr import Expression
from flows.inputs import read_answer, read_codes
from flows.model import COMPLETE, DERIVED, REVIEW, START, Choice, Field, Form
from flows.results import Accepted, ConsistencyWarning, Prompt, Rejected, SummaryItem
from flows.scope import AnswerScope, derived_values
from flows.values import Invalid, mask_id, mask_id_numbers, mask_mobile

MODES = ("resident", "investigator")
# Kept in the state: the return (its marker) already reopened for changes.
REOPENED_KEY = "reopened_after"
_DERIVED_LABELS = {"birth_date": "出生日期", "sex": "性别", "age": "年龄"}
# The machine is shared by every conversation of a form version; transitions does not promise
# that firing events on one machine from several threads at once is safe.
_machine_lock = threading.Lock()


class _Walker:
    """The per-call model of the shared machine: its conditions ask the conversation.

    It is never registered with the machine (see :meth:`Conversation._fire`): an event only
    reads and sets the model's ``state`` and looks its conditions up by name.
    """

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self.state = START

    def __getattr__(self, name: str) -> Any:
        if name.startswith("is_relevant_"):
            state = name.removeprefix("is_relevant_")
            return lambda *args, **kwargs: self._conversation._state_relevant(state)
        if name.startswith("is_pending_"):
            state = name.removeprefix("is_pending_")
            return lambda *args, **kwargs: self._conversation._state_pending(state)
        raise AttributeError(name)


def _split(state: str) -> tuple[str, str | None]:
    name, _, part = state.partition(".")
    return name, part or None


@dataclass
class _Snapshot:
    """What the answers as they are now imply, worked out once and reused until one changes.

    Every change to the answers goes through :meth:`Conversation._put_answer` or
    :meth:`Conversation._drop_answer`, which throw the snapshot away.
    """

    scope: AnswerScope
    relevant: dict[str, bool] = dataclass_field(default_factory=dict)  # by field name
    required: dict[str, bool] = dataclass_field(default_factory=dict)  # by machine state
    steps: tuple[str, ...] | None = None  # relevant questions with a step number, in order
    derived: dict[str, Any] | None = None
    rules: dict[int, bool] = dataclass_field(default_factory=dict)  # by id of the Expression

    def holds(self, rule: Expression) -> bool:
        """Whether a relevance rule holds; a group's rules are shared by all its questions, so
        each is worked out once."""
        known = self.rules.get(id(rule))
        if known is None:
            known = self.rules[id(rule)] = bool(rule(self.scope))
        return known


class Conversation:
    """A form being filled in. Create with :meth:`start` or :meth:`restore`."""

    def __init__(self, form: Form, state: dict[str, Any]) -> None:
        self.form = form
        self._s = state
        self._snapshot: _Snapshot | None = None
        self._on: dt.date | None = None

    # ------------------------------------------------------------------ creation

    @classmethod
    def start(
        cls,
        form: Form,
        mode: str = "resident",
        prefill: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Conversation:
        """Begin a new conversation.

        ``prefill``: roster values (name, id_number, mobile, residence as text or parts) shown
        for confirmation. ``context``: ``collection_date`` (date or ISO text, required),
        ``investigator`` (recorded as 社区经办人 in investigator mode) and ``reopen``: a list of
        fields. With ``reopen`` the prefill is an earlier record's answers: they are taken as
        answers (when still valid) and only the listed fields are asked again, then the review.
        """
        if mode not in MODES:
            raise EngineError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        context = dict(context or {})
        # The engine reads no clock: the channel gives the survey's date (bot.clock.today()).
        when = context.get("collection_date")
        if isinstance(when, str):
            when = dt.date.fromisoformat(when)
        if not isinstance(when, dt.date):
            raise EngineError("context must give the collection_date (a date or ISO text)")
        state: dict[str, Any] = {
            "form_id": form.id,
            "form_version": form.version,
            "mode": mode,
            "answers": {},
            "position": START,
            "history": [],
            "prefill": _clean_prefill(form, prefill or {}, keep_empty="reopen" in context),
            "context": {
                "collection_date": when.isoformat()[:10],
                "investigator": context.get("investigator") if mode == "investigator" else None,
            },
            "confirmed_warnings": [],
            "revisit": False,
            "reask": [],
            "selection": None,
            "reopen": None,
        }
        conversation = cls(form, state)
        reopen = context.get("reopen")
        if reopen is not None:
            conversation._adopt_prefill()
            conversation.reopen([str(name) for name in reopen])
            return conversation
        conversation._move(conversation._fire("next", START))
        return conversation

    @classmethod
    def restore(cls, form: Form, state: Mapping[str, Any]) -> Conversation:
        """Continue a conversation from its :attr:`state`."""
        if state.get("form_id") != form.id or state.get("form_version") != form.version:
            raise EngineError(
                f"state of form {state.get('form_id')!r} v{state.get('form_version')} "
                f"cannot continue on {form.id!r} v{form.version}"
            )
        if state.get("position") not in form.states:
            raise EngineError(f"unknown position {state.get('position')!r}")
        return cls(form, _copy_plain(dict(state)))

    @property
    def state(self) -> dict[str, Any]:
        """The whole conversation as plain JSON types (a copy)."""
        state: dict[str, Any] = _copy_plain(self._s)
        return state

    # ------------------------------------------------------------------ reading

    @property
    def mode(self) -> str:
        """``resident`` or ``investigator``."""
        return str(self._s["mode"])

    @property
    def collection_date(self) -> dt.date:
        """The date ages are computed at (采集日期)."""
        # The context never changes after the start; parsed once, on first use (a hand-made
        # state with a bad date still fails only where the date is needed).
        if self._on is None:
            self._on = dt.date.fromisoformat(self._s["context"]["collection_date"])
        return self._on

    @property
    def answers(self) -> dict[str, Any]:
        """A copy of the answers given so far."""
        answers: dict[str, Any] = _copy_plain(self._s["answers"])
        return answers

    @property
    def position(self) -> str:
        """The machine state: a question (``name`` or ``name.part``), ``review`` or ``complete``."""
        return str(self._s["position"])

    @property
    def at_review(self) -> bool:
        """True while the summary is shown."""
        return self.position == REVIEW

    @property
    def complete(self) -> bool:
        """True once every question, the review and the acknowledgement are done."""
        return self.position == COMPLETE

    @property
    def prompt(self) -> Prompt | None:
        """The current question, or ``None`` at the review or when complete."""
        if not self._asking:
            return None
        return self._prompt(self.position)

    @property
    def _asking(self) -> bool:
        """True when :attr:`prompt` is a question (without building it)."""
        return self.position not in (REVIEW, COMPLETE, START)

    # ------------------------------------------------------------------ answering

    def answer(self, text: str) -> Accepted | Rejected:
        """Answer the current question with typed text or a choice code."""
        if not self._asking:
            return self._not_asking()
        state = self.position
        field, _part = self._field(state)
        if field.type == "select_multiple" and not str(text).strip() and self._s["selection"]:
            return self.finish_multi()
        if not str(text).strip() and field.type != "note" and not self._required(state):
            return self.skip()
        return self._accept(state, text)

    def keep(self) -> Accepted | Rejected:
        """Accept the value shown as current (an earlier answer, a prefill or a default)."""
        if not self._asking:
            return self._not_asking()
        state = self.position
        field, _part = self._field(state)
        raw, _prefilled = self._current_raw(state)
        if raw is None:
            return Rejected("这一项还没有可以沿用的内容，请直接填写。", self.prompt)
        if field.type == "select_multiple" and isinstance(raw, list):
            try:
                value = read_codes(field.choices, [str(c) for c in raw])
            except Invalid as exc:
                return Rejected(exc.message, self.prompt)
            return self._store_and_advance(state, value)
        if field.type == "confirm":
            raw = "yes" if raw is True else "no"
        return self._accept(state, str(raw))

    def skip(self) -> Accepted | Rejected:
        """Leave an optional question empty."""
        prompt = self.prompt
        if prompt is None:
            return self._not_asking()
        if not prompt.optional:
            return Rejected(f"“{prompt.label}”必须填写，不能跳过。", prompt)
        return self._store_and_advance(self.position, None)

    def toggle(self, code: str) -> Prompt | None:
        """Select or unselect one option of a multi-select question."""
        prompt = self.prompt
        if prompt is None or prompt.kind != "select_multiple":
            return prompt
        if code not in {c.code for c in prompt.choices}:
            return prompt
        selection = list(self._s["selection"] or [])
        if code in selection:
            selection.remove(code)
        else:
            selection.append(code)
        order = [c.code for c in prompt.choices]
        self._s["selection"] = sorted(selection, key=order.index)
        return self.prompt

    def finish_multi(self) -> Accepted | Rejected:
        """Finish a multi-select question with the options toggled so far."""
        prompt = self.prompt
        if prompt is None:
            return self._not_asking()
        if prompt.kind != "select_multiple":
            return Rejected("这一项不是多选题，请直接回答。", prompt)
        selection = list(self._s["selection"] or [])
        if not selection:
            if prompt.optional:
                return self.skip()
            return Rejected(f"“{prompt.label}”请至少选择一项，选好后再点“完成”。", prompt)
        return self._store_and_advance(self.position, selection)

    # ------------------------------------------------------------------ moving

    def back(self) -> Prompt | None:
        """Return to the previously *asked* question (or the review); from the completed form,
        to the last confirmation question."""
        history: list[str] = self._s["history"]
        while history:
            state = history.pop()
            if state == self.position or state not in self.form.states or state == START:
                continue
            if self._state_relevant(state):
                self._move(state)
                return self.prompt
        return self.prompt

    def edit(self, name: str) -> Prompt:
        """Jump to a question (``name`` or ``name.part``) from the summary (or from the completed
        form, whose confirmation is then asked again); after it the conversation asks whatever
        became required and returns to the review. Raises :class:`EngineError` for a question
        that is not editable (see :meth:`editable`)."""
        field_name, part = _split(name)
        if not self.form.has_field(field_name) or self.form.field(field_name).stage != "main":
            raise EngineError(f"no question {name!r} to edit")
        if not self.editable(field_name):
            raise EngineError(f"question {name!r} was not marked for change")
        field = self.form.field(field_name)
        states = list(field.states)
        if part is not None:
            if name not in states:
                raise EngineError(f"no question {name!r} to edit")
            states = states[states.index(name) :]
        if not self._state_relevant(states[0]):
            raise EngineError(f"question {name!r} does not apply to this person")
        if self.complete:
            # A changed answer needs the acknowledgement again; back from here is the review.
            self._clear_acknowledgements()
            self._move(REVIEW)
        self._s["history"].append(self.position)
        self._s["revisit"] = True
        self._s["reask"] = list(dict.fromkeys([*self._s["reask"], *states]))
        self._move(states[0])
        prompt = self.prompt
        assert prompt is not None
        return prompt

    def proceed(self) -> Prompt | Rejected | None:
        """From the review to the confirmation questions (confirmer, acknowledgement)."""
        if not self.at_review:
            return Rejected("请先回答完当前问题。", self.prompt)
        missing = self.missing()
        if missing:
            labels = "、".join(self._label(n) for n in missing)
            return Rejected(f"还有必填项没有填写：{labels}。请补充后再确认。", None)
        awaiting = self.awaiting_reanswer()
        if awaiting:
            labels = "、".join(self._label(n) for n in awaiting)
            return Rejected(
                f"退回时需要修改的项目还没有重新回答：{labels}。"
                "请点该项的“修改”，改正或确认原来的内容。",
                None,
            )
        open_warnings = [w for w in self.warnings() if w.code not in self._s["confirmed_warnings"]]
        if open_warnings:
            text = "；".join(w.message for w in open_warnings)
            return Rejected(f"请先核对以下提示，确认无误或修改后再继续：{text}", None)
        target = self._fire("proceed", REVIEW)
        self._s["history"].append(REVIEW)
        self._move(target)
        return self.prompt

    def reopen(self, fields: list[str] | None = None) -> Prompt | None:
        """Open a returned record again: only ``fields`` are asked again (or the review is shown
        when ``None``); after them the conversation returns to the review.

        With ``fields``, each of them must be answered again before the review can be left (a
        kept value is an explicit answer, see :meth:`unchanged_after_reopen`), and only they
        (and questions a changed answer opens) can be edited from the summary.
        """
        names = list(dict.fromkeys(fields or []))
        states: list[str] = []
        for name in names:
            if not self.form.has_field(name) or self.form.field(name).stage != "main":
                raise EngineError(f"no question {name!r} to reopen")
            states.extend(s for s in self.form.field(name).states if self._state_relevant(s))
        answers = self._s["answers"]
        marked = [n for n in names if any(s.partition(".")[0] == n for s in states)]
        others = [
            f.name for f in self.form.main_fields if f.name in answers and f.name not in marked
        ]
        self._s["reopen"] = (
            {
                "fields": marked,
                "pending": list(states),
                "before": {n: _copy_plain(answers.get(n)) for n in marked},
                "locked": others,
            }
            if marked
            else None
        )
        self._clear_acknowledgements()
        self._s["revisit"] = True
        self._s["history"] = [REVIEW] if states else []
        self._s["reask"] = states
        order = list(self.form.states)
        self._move(min(states, key=order.index) if states else REVIEW)
        return self.prompt

    # ------------------------------------------------------------------ a returned record

    @property
    def reopened(self) -> list[str]:
        """The questions marked for change when the record was reopened (empty: none marked)."""
        reopen = self._s.get("reopen")
        return list(reopen["fields"]) if reopen else []

    def needs_reopen(self, marker: str) -> bool:
        """Whether the completed form of a record returned by staff still has to be opened for
        changes: ``marker`` names the return (e.g. the time of the submission returned), and a
        record is reopened once per return, not again once completed anew."""
        return self.complete and self._s.get(REOPENED_KEY) != marker

    def reopen_returned(self, fields: list[str], marker: str) -> bool:
        """Reopen a returned record (see :meth:`needs_reopen`) with the marked ``fields`` this
        form has (the review when none): the rule every channel applies. Returns whether it
        was reopened now."""
        if not self.needs_reopen(marker):
            return False
        names = [n for n in fields if self.form.has_field(n) and self.form.field(n).stage == "main"]
        self.reopen(names or None)
        self._s[REOPENED_KEY] = marker
        return True

    def editable(self, name: str) -> bool:
        """Whether the summary offers to edit question ``name``: every question, except that a
        record reopened with marked questions offers only those and the ones it did not have."""
        reopen = self._s.get("reopen")
        return not reopen or name not in reopen["locked"]

    def awaiting_reanswer(self) -> list[str]:
        """Marked questions of a reopened record not answered again yet (in form order)."""
        reopen = self._s.get("reopen")
        if not reopen:
            return []
        waiting = {s.partition(".")[0] for s in reopen["pending"]}
        return [n for n in reopen["fields"] if n in waiting]

    def unchanged_after_reopen(self) -> list[str]:
        """Marked questions answered again with the value they had: kept on purpose, which the
        reviewer is shown."""
        reopen = self._s.get("reopen")
        if not reopen:
            return []
        waiting = set(self.awaiting_reanswer())
        answers = self._s["answers"]
        return [
            n
            for n in reopen["fields"]
            if n not in waiting and n in answers and answers[n] == reopen["before"].get(n)
        ]

    # ------------------------------------------------------------------ review

    def summary(self) -> list[SummaryItem]:
        """Every relevant answer of the main part, with the derived values after the ID."""
        items: list[SummaryItem] = []
        answers = self._s["answers"]
        derived = self._derived()
        for field in self.form.main_fields:
            if field.type == "note" or field.name not in answers or not self._field_relevant(field):
                continue
            value = answers[field.name]
            display = self.form.label_of(field.name, value) if value is not None else "（未填写）"
            if value is not None and field.type == "id_number":
                masked = mask_id(str(value))
            elif value is not None and field.type == "mobile":
                masked = mask_mobile(str(value))
            else:  # free text (备注) may carry someone's full number too
                masked = mask_id_numbers(display)
            editable = self.editable(field.name)
            items.append(SummaryItem(field.name, field.label, display, editable, masked))
            if field.name == self.form.derive_from:
                for key in DERIVED:
                    if key in derived:
                        shown = self.form.label_of(key, derived[key])
                        items.append(SummaryItem(key, _DERIVED_LABELS[key], shown, False, shown))
        return items

    def warnings(self) -> list[ConsistencyWarning]:
        """Soft consistency findings that apply to the current answers."""
        scope = self._scope()
        return [ConsistencyWarning(c.code, c.message) for c in self.form.checks if c.when(scope)]

    def confirm_warnings(self) -> None:
        """The person has looked at the current warnings and keeps the answers."""
        confirmed = list(self._s["confirmed_warnings"])
        confirmed.extend(w.code for w in self.warnings() if w.code not in confirmed)
        self._s["confirmed_warnings"] = confirmed

    def missing(self) -> list[str]:
        """Required questions that apply but have no answer (人不漏项). The confirmation
        questions count once the form is complete."""
        result = []
        for field in self.form.fields:
            if field.type == "note" or (field.stage == "final" and not self.complete):
                continue
            if self._field_relevant(field) and not self._field_complete(field):
                result.append(field.name)
        return result

    def record(self) -> dict[str, Any]:
        """The finished record: every relevant answer, the derived values, the collection date
        (and 社区经办人 in investigator mode)."""
        if not self.complete:
            raise EngineError("the form is not complete yet")
        record: dict[str, Any] = {}
        answers = self._s["answers"]
        for field in self.form.fields:
            if field.type == "note" or not self._field_relevant(field):
                continue
            value = answers.get(field.name)
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if v is not None}
            record[field.name] = _copy_plain(value)
        record.update(self._derived())
        record["collection_date"] = self._s["context"]["collection_date"]
        if self.mode == "investigator":
            record["community_worker"] = self._s["context"].get("investigator")
        return record

    def policy_notes(self) -> list[str]:
        """Mobilisation texts (form-spec §4) that apply to this person."""
        scope = self._scope()
        return [note.text for note in self.form.notes if note.when(scope)]

    # ------------------------------------------------------------------ internals: machine

    def _fire(self, trigger: str, source: str) -> str:
        # Registering the model (add_model) would bind an is_<state> helper for every state on
        # every call, most of the cost of a step; firing the event on an unregistered model
        # runs the same transitions and leaves the shared machine untouched.
        model = _Walker(self)
        machine = self.form.machine
        with _machine_lock:
            machine.set_state(source, model=model)
            machine.events[trigger].trigger(model)
        return str(model.state)

    def _move(self, state: str) -> None:
        self._s["position"] = state
        self._s["selection"] = None
        if state == REVIEW:
            self._s["revisit"] = True
            self._s["reask"] = []
        field_name, part = _split(state)
        if part is None and self.form.has_field(field_name):
            field = self.form.field(field_name)
            if field.type == "select_multiple":
                raw, _ = self._current_raw(state)
                self._s["selection"] = list(raw) if isinstance(raw, list) else []

    def _final_states(self) -> tuple[str, ...]:
        return tuple(s for f in self.form.final_fields for s in f.states)

    # ------------------------------------------------------------------ internals: conditions

    @property
    def _now(self) -> _Snapshot:
        if self._snapshot is None:
            scope = AnswerScope(self.form, self._s["answers"], self.mode, self.collection_date)
            self._snapshot = _Snapshot(scope)
        return self._snapshot

    def _put_answer(self, name: str, value: Any) -> None:
        self._s["answers"][name] = value
        self._snapshot = None

    def _drop_answer(self, name: str) -> None:
        if self._s["answers"].pop(name, _UNSET) is not _UNSET:
            self._snapshot = None

    def _scope(self, current: Any = None, extra: Mapping[str, Any] | None = None) -> AnswerScope:
        if current is None and extra is None:
            return self._now.scope
        return AnswerScope(
            self.form, self._s["answers"], self.mode, self.collection_date, current, extra
        )

    def _derived(self) -> dict[str, Any]:
        """The derived values (read only: the snapshot keeps this dict)."""
        now = self._now
        if now.derived is None:
            now.derived = derived_values(self.form, self._s["answers"], self.collection_date)
        return now.derived

    def _field(self, state: str) -> tuple[Field, str | None]:
        name, part = _split(state)
        return self.form.field(name), part

    def _field_relevant(self, field: Field) -> bool:
        now = self._now
        known = now.relevant.get(field.name)
        if known is None:
            known = now.relevant[field.name] = all(map(now.holds, field.relevant))
        return known

    def _remaining(self, current: Field) -> int:
        """The questions still ahead, the current one included, as the answers stand now
        (a branch opened by a later answer adds to it then)."""
        answers = self._s["answers"]
        again = {s.partition(".")[0] for s in self._s["reask"]} if self._s["revisit"] else set()
        final = [f.name for f in self.form.final_fields]
        after = final.index(current.name) if current.name in final else 0
        count = 0
        for field in self.form.fields:
            if field.type == "note" or not self._field_relevant(field):
                continue
            if field.stage == "final":
                # The confirmation is asked anew after every review.
                count += final.index(field.name) >= after
            elif current.stage == "main" and (
                field.name == current.name or field.name not in answers or field.name in again
            ):
                count += 1
        return count

    def _steps(self) -> tuple[str, ...]:
        """The questions counted in "第 n/m 题": relevant ones that are not notes."""
        now = self._now
        if now.steps is None:
            now.steps = tuple(
                f.name for f in self.form.fields if f.type != "note" and self._field_relevant(f)
            )
        return now.steps

    def _state_relevant(self, state: str) -> bool:
        if state in (START, REVIEW, COMPLETE):
            return True
        field, part = self._field(state)
        if not self._field_relevant(field):
            return False
        if part is None or part == field.parts[0].name:
            return True
        return isinstance(self._s["answers"].get(field.name), dict)

    def _state_answered(self, state: str) -> bool:
        field, part = self._field(state)
        value = self._s["answers"].get(field.name)
        if part is None:
            return field.name in self._s["answers"]
        if part == field.parts[0].name:
            return field.name in self._s["answers"]
        return isinstance(value, dict) and part in value

    def _state_pending(self, state: str) -> bool:
        if not self._s["revisit"]:
            return True
        if state in self._s["reask"] or not self._state_answered(state):
            return True
        # A marked question of a reopened record not answered again yet is asked next.
        reopen = self._s.get("reopen")
        return reopen is not None and state in reopen["pending"]

    def _required(self, state: str) -> bool:
        now = self._now
        known = now.required.get(state)
        if known is None:
            known = now.required[state] = self._work_out_required(state)
        return known

    def _work_out_required(self, state: str) -> bool:
        field, part = self._field(state)
        if field.required is None or not field.required(self._scope()):
            return False
        if part is None:
            return True
        value = self._s["answers"].get(field.name)
        so_far = value if isinstance(value, dict) else {}
        extra = {
            "mainland": addr.is_mainland(so_far),
            "local": addr.is_local(so_far, self.form.address),
            "abroad": bool(so_far.get("province")) and not addr.is_mainland(so_far),
        }
        return bool(field.part(part).required(self._scope(extra=extra)))

    def _field_complete(self, field: Field) -> bool:
        value = self._s["answers"].get(field.name)
        if field.type == "note":
            return True
        required = self._required(field.states[0])
        if field.type != "address":
            return not required or value not in (None, [], "")
        if not isinstance(value, dict):
            return not required
        return all(
            value.get(p.name) is not None or not self._required(f"{field.name}.{p.name}")
            for p in field.parts
        )

    # ------------------------------------------------------------------ internals: answers

    def _accept(self, state: str, text: str) -> Accepted | Rejected:
        field, part = self._field(state)
        so_far = self._s["answers"].get(field.name)
        try:
            value = read_answer(
                field,
                part,
                text,
                today=self.collection_date,
                address_so_far=so_far if isinstance(so_far, dict) else None,
                rules=self.form.address,
            )
        except Invalid as exc:
            return Rejected(exc.message, self._prompt(state))
        if (
            field.constraint is not None
            and part is None
            and not field.constraint(self._scope(value))
        ):
            message = field.constraint_message or f"“{field.label}”的内容不符合要求，请核对。"
            return Rejected(message, self._prompt(state))
        return self._store_and_advance(state, value)

    def _store_and_advance(self, state: str, value: Any) -> Accepted:
        self._store(state, value)
        self._s["reask"] = [s for s in self._s["reask"] if s != state]
        reopen = self._s.get("reopen")
        if reopen and state in reopen["pending"]:
            reopen["pending"] = [s for s in reopen["pending"] if s != state]
        self._drop_irrelevant()
        self._s["history"].append(state)
        target = self._fire("next", state)
        self._move(target)
        return Accepted(_copy_plain(value), self.prompt)

    def _store(self, state: str, value: Any) -> None:
        field, part = self._field(state)
        answers = self._s["answers"]
        # No copy needed: stored values are replaced, never changed in place (an address part
        # goes into a new dict below), so the old value stays as it was.
        before = answers.get(field.name, _UNSET)
        if part is None:
            self._put_answer(field.name, value)
        elif part == field.parts[0].name and value is None:
            self._put_answer(field.name, None)  # the whole (optional) address is left empty
        else:
            current = answers.get(field.name)
            current = dict(current) if isinstance(current, dict) else {}
            if part in ("province", "city") and current.get(part, _UNSET) != value:
                # The later parts belong to the old place (a city list belongs to its province).
                names = [p.name for p in field.parts]
                for later in names[names.index(part) + 1 :]:
                    current.pop(later, None)
            current[part] = value
            self._put_answer(field.name, current)
        if field.stage == "main" and answers.get(field.name) != before:
            self._clear_acknowledgements()

    def _clear_acknowledgements(self) -> None:
        for field in self.form.final_fields:
            if field.type == "confirm":
                self._drop_answer(field.name)

    def _drop_irrelevant(self) -> None:
        answers = self._s["answers"]
        changed = True
        while changed:
            changed = False
            for field in self.form.fields:
                if field.name in answers and not self._field_relevant(field):
                    self._drop_answer(field.name)
                    changed = True
        self._s["reask"] = [s for s in self._s["reask"] if self._state_relevant(s)]
        reopen = self._s.get("reopen")
        if reopen:
            # A marked question a changed answer made irrelevant has nothing left to answer.
            reopen["pending"] = [s for s in reopen["pending"] if self._state_relevant(s)]

    def _adopt_prefill(self) -> None:
        """Take prefilled values as answers, in form order, where they are valid and apply."""
        prefill = self._s["prefill"]
        for field in self.form.main_fields:
            if field.name not in prefill or field.type == "note" or not self._field_relevant(field):
                continue
            raw = prefill[field.name]
            if raw is None:
                if not self._required(field.states[0]):
                    self._put_answer(field.name, None)  # left empty before, stays so
                continue
            try:
                value = self._read_whole(field, raw)
            except Invalid:
                continue  # left unanswered: asked again after the reopened fields
            if field.constraint is not None and not field.constraint(self._scope(value)):
                continue
            self._put_answer(field.name, value)
            self._drop_irrelevant()
        self._s["revisit"] = True

    def _read_whole(self, field: Field, raw: Any) -> Any:
        if field.type == "select_multiple":
            return read_codes(field.choices, [str(c) for c in raw] if isinstance(raw, list) else [])
        if field.type != "address":
            return read_answer(
                field, None, str(raw), today=self.collection_date, address_so_far=None,
                rules=self.form.address,
            )  # fmt: skip
        value: dict[str, Any] = {}
        for part in field.parts:
            text = raw.get(part.name) if isinstance(raw, dict) else None
            if not text:
                break  # this part and the ones after it are asked again
            value[part.name] = addr.read_part(part.name, str(text), value, self.form.address)
        if not value:
            raise Invalid("no address")
        return value

    def _current_raw(self, state: str) -> tuple[Any, bool]:
        """The value shown for confirmation and whether it is a prefill/default."""
        field, part = self._field(state)
        value = self._s["answers"].get(field.name)
        if part is not None:
            if isinstance(value, dict) and value.get(part) is not None:
                return value[part], False
            pre = self._s["prefill"].get(field.name)
            same_so_far = (
                all(
                    not isinstance(value, dict) or pre.get(p.name) == value.get(p.name)
                    for p in field.parts[: [q.name for q in field.parts].index(part)]
                )
                if isinstance(pre, dict)
                else False
            )
            if isinstance(pre, dict) and pre.get(part) and same_so_far:
                return pre[part], True
            return None, False
        if value is not None and field.type != "note":
            return (True if field.type == "confirm" else value), False
        if field.name in self._s["answers"]:
            return None, False  # skipped on purpose: nothing to confirm
        pre = self._s["prefill"].get(field.name)
        if pre:
            return pre, True
        if field.default is not None:
            default = field.default(self._scope())
            if default not in (None, "", []):
                return default, True
        return None, False

    # ------------------------------------------------------------------ internals: prompts

    def _prompt(self, state: str) -> Prompt:
        field, part = self._field(state)
        so_far = self._s["answers"].get(field.name)
        so_far = so_far if isinstance(so_far, dict) else {}
        raw, prefilled = self._current_raw(state)
        current = None
        if raw is not None:
            current = str(raw) if part is not None else self.form.label_of(field.name, raw)
        steps = self._steps()
        step = steps.index(field.name) + 1 if field.name in steps else 0
        if part is not None:
            spec = field.part(part)
            hint = "\n".join(
                h
                for h in (spec.hint, addr.part_hint(part, so_far, self.form.address, field.label))
                if h
            )
            return Prompt(
                name=field.name,
                part=part,
                kind="address_part",
                label=f"{field.label}：{spec.label}",
                hint=hint or field.hint,
                choices=list(addr.part_choices(part, so_far, self.form.address)),
                allow_text=addr.part_allows_text(part, so_far, self.form.address),
                optional=not self._required(state),
                current=current,
                step=step,
                total=len(steps),
                prefilled=prefilled,
                remaining=self._remaining(field),
            )
        choices: list[Choice] = list(field.choices)
        if field.type == "confirm":
            choices = [Choice("yes", "确认")]
        return Prompt(
            name=field.name,
            part=None,
            kind=field.type,
            label=field.label,
            hint=field.hint,
            choices=choices,
            allow_text=field.type not in ("select_one", "select_multiple", "confirm")
            or field.allow_text,
            optional=field.type != "note" and not self._required(state),
            current=current,
            selected=frozenset(self._s["selection"] or ()),
            step=step,
            total=len(steps),
            prefilled=prefilled,
            remaining=self._remaining(field),
        )

    def _label(self, name: str) -> str:
        return self.form.field(name).label if self.form.has_field(name) else name

    def _not_asking(self) -> Rejected:
        if self.complete:
            return Rejected("本表已经填写完成。", None)
        return Rejected("请先核对汇总信息：确认无误请继续，需要修改请选择要修改的项目。", None)


_UNSET: Any = object()
_ATOMS = (str, int, float, bool, type(None))


def _copy_plain(value: Any) -> Any:
    """A deep copy of a plain JSON value, much cheaper than ``copy.deepcopy``: dicts and lists
    are rebuilt, strings, numbers, booleans and ``None`` are immutable and shared; anything
    else (a hand-made state) is left to ``copy.deepcopy``."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is dict:
        return {
            key if type(key) is str else copy.deepcopy(key): _copy_plain(item)
            for key, item in value.items()
        }
    if kind is list:
        return [_copy_plain(item) for item in value]
    return copy.deepcopy(value)


def _clean_prefill(
    form: Form, prefill: Mapping[str, Any], *, keep_empty: bool = False
) -> dict[str, Any]:
    # An earlier record (keep_empty) says "left empty" with None; a roster just lacks the value.
    result: dict[str, Any] = {}
    for name, value in prefill.items():
        if not form.has_field(name):
            continue
        if value in (None, "", [], {}):
            if keep_empty and value is None:
                result[name] = None
            continue
        field = form.field(name)
        if field.type == "address":
            if isinstance(value, str):
                value = addr.parse_text(value, form.address)
            elif isinstance(value, Mapping):
                value = {str(k): str(v) for k, v in value.items() if v}
            else:
                continue
            if not value:
                continue
        elif field.type == "select_multiple":
            value = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
        elif isinstance(value, bool):
            pass
        else:
            value = str(value)
        result[name] = value
    return result
