"""The form engine alone: CPU per chat update, spent the way the Telegram handlers spend it.

Each path (the personas of :mod:`bench.personas`, one that changes an answer at the review and
an investigator's "not collected" visit) is walked through the shipped form once, untimed, to
write down its updates: the saved state before the update and the button or text. The timed
loop then replays every update as a handler does: restore the conversation from the saved
state, draw the current screen, apply the update, save the state, draw the next screen.

    python -m bench.flows_engine [--rounds 7] [--repeat 20]

Prints µs of CPU per update (the median of the rounds) for each path, and a digest of
everything the updates returned and saved: two versions of the engine with the same digest
behaved the same on these walks.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.personas import ALL, EMPLOYED, Persona, Step
from bot.synthetic import make_id_number
from flows import Conversation, Form, Prompt, Rejected, load_default_form

COLLECTION_DATE = dt.date(2025, 3, 1)
# A walk that has not ended after this many updates is going round in circles.
MAX_UPDATES = 200

# An update: ("answer", text) | ("keep",) | ("skip",) | ("toggle", code) | ("finish",)
# | ("back",) | ("edit", field) | ("proceed",) | ("warned",) | ("submit",)
Action = tuple[str, ...]


@dataclass(frozen=True)
class Path:
    """One person's walk: a persona, the mode (resident or investigator), the roster's
    prefill, and the batches of updates done at the review before confirming (one batch per
    visit)."""

    persona: Persona
    mode: str
    prefill: dict[str, Any]
    at_review: tuple[tuple[Action, ...], ...] = ()
    name: str = ""

    @property
    def label(self) -> str:
        """The name printed in the results."""
        return self.name or self.persona.name


@dataclass(frozen=True)
class Update:
    """A recorded update: the saved state it starts from and what the person did."""

    state: dict[str, Any]
    action: Action
    expect_rejected: bool = False


def _roster(born: dt.date, sex: str, seq: int, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "id_number": make_id_number(born, sex, region="320508", seq=seq),
        "mobile": "13800001234",
        "residence": "江苏省苏州市姑苏区人民路100号",
    }


NOT_COLLECTED = Persona(
    name="not_collected",
    steps={
        "collection_status": ("click", "未采集"),
        "not_collected_reason": ("click", "长期外出"),
    },
    expected={},
)


def paths() -> list[Path]:
    """The walks, each a different branch of the form."""
    adult = _roster(dt.date(1986, 3, 14), "M", 41, "张伟")
    woman = _roster(dt.date(1979, 8, 2), "F", 12, "李娜")
    child = _roster(dt.date(2014, 6, 9), "F", 8, "王小雨")
    found: list[Path] = []
    for persona in ALL:
        prefill = child if persona.minor else (woman if persona.name == "flexible" else adult)
        found.append(Path(persona, "resident", prefill))
    # At the review: 单位就业 → 灵活就业 drops the workplace questions and raises a warning
    # (单位未参保 without an employer), which is confirmed.
    found.append(
        Path(
            EMPLOYED,
            "resident",
            adult,
            at_review=((("edit", "current_status"), ("answer", "flexible")),),
            name="edit_at_review",
        )
    )
    found.append(Path(NOT_COLLECTED, "investigator", adult))
    return found


# ---------------------------------------------------------------- what a handler does


def draw(conv: Conversation) -> Any:
    """What ``bot.telegram.render.current_screen`` reads from the conversation."""
    prompt = conv.prompt
    if prompt is not None:
        return prompt
    if conv.at_review:
        confirmed = set(conv.state.get("confirmed_warnings") or [])
        return conv.summary(), [w for w in conv.warnings() if w.code not in confirmed]
    return None


def act(conv: Conversation, action: Action) -> Any:
    """Apply one update, as ``bot.telegram.handlers.actions.apply`` and the commands do."""
    kind = action[0]
    if kind == "answer":
        return conv.answer(action[1])
    if kind == "keep":
        return conv.keep()
    if kind == "skip":
        return conv.skip()
    if kind == "toggle":
        return conv.toggle(action[1])
    if kind == "finish":
        return conv.finish_multi()
    if kind == "back":
        return conv.back()
    if kind == "edit":
        return conv.edit(action[1])
    if kind == "proceed":
        return conv.proceed()
    if kind == "warned":
        conv.confirm_warnings()
        return conv.proceed()
    if kind == "submit":
        return conv.record(), conv.state, conv.warnings(), conv.policy_notes()
    raise ValueError(f"unknown action {action!r}")


def cycle(form: Form, update: Update) -> tuple[Any, ...]:
    """One update, from the saved state to the next screen; returns what it produced."""
    conv = Conversation.restore(form, update.state)
    conv.complete  # noqa: B018  (needs_reopen asks before anything else)
    before = draw(conv)
    result = act(conv, update.action)
    saved = None if isinstance(result, Rejected) else conv.state
    return before, result, saved, draw(conv)


# ---------------------------------------------------------------- recording the walks


def _choice(prompt: Prompt, label: str) -> str | None:
    return next((c.code for c in prompt.choices if c.label == label), None)


def _actions(prompt: Prompt, step: Step) -> list[Action]:
    """A persona's step at a question as engine calls (what the buttons send)."""
    kind = step[0]
    if kind == "note":
        return [("answer", "")]
    if kind == "keep":
        return [("keep",)]
    if kind == "skip":
        return [("skip",)] if prompt.optional else [("keep",)]
    if kind == "click":
        return [("answer", _choice(prompt, step[1]) or step[1])]
    if kind == "type":
        return [("answer", step[1])]
    if kind == "multi":
        codes = [_choice(prompt, label) for label in step[1]]
        return [*(("toggle", c) for c in codes if c is not None), ("finish",)]
    raise ValueError(f"unknown step {step!r}")


class _Person:
    """Decides a path's next updates from what the conversation shows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mistakes = {k: list(v) for k, v in path.persona.mistakes.items()}
        self.went_back: set[str] = set()
        self.reviews = 0

    def next(self, conv: Conversation) -> tuple[list[Action], bool]:
        """The next updates, and whether the first one is a wrong input."""
        if conv.complete:
            return [("submit",)], False
        if conv.at_review:
            self.reviews += 1
            if self.reviews <= len(self.path.at_review):
                return list(self.path.at_review[self.reviews - 1]), False
            return [("warned",) if conv.warnings() else ("proceed",)], False
        prompt = conv.prompt
        assert prompt is not None
        state = prompt.state
        if self.mistakes.get(state):
            return [("answer", self.mistakes[state].pop(0))], True
        actions = _actions(prompt, self.path.persona.step(state) or ("keep",))
        back = self.path.persona.back_after.get(state)
        if back is not None and state not in self.went_back:
            self.went_back.add(state)
            actions += [("back",), *_actions(prompt, back)]
        return actions, False


def record(form: Form, path: Path) -> list[Update]:
    """Walk a path once and write down its updates."""
    context = {"collection_date": COLLECTION_DATE, "investigator": "赵社工"}
    start = Conversation.start(form, mode=path.mode, prefill=path.prefill, context=context)
    state = json.loads(json.dumps(start.state))
    person = _Person(path)
    updates: list[Update] = []
    queue: list[tuple[Action, bool]] = []
    while len(updates) < MAX_UPDATES:
        conv = Conversation.restore(form, state)
        if not queue:
            actions, wrong = person.next(conv)
            queue = [(a, wrong and i == 0) for i, a in enumerate(actions)]
        action, wrong = queue.pop(0)
        updates.append(Update(state, action, wrong))
        result = act(conv, action)
        if isinstance(result, Rejected) != wrong:
            raise AssertionError(f"{path.label}: {action!r} gave {result!r}")
        if action == ("submit",):
            if not path.at_review:  # changing answers at the review is not in the persona
                _check_record(path, conv.record())
            return updates
        # Saved as JSON, as the store does: what comes back is what a handler restores from.
        state = json.loads(json.dumps(conv.state))
    raise AssertionError(f"{path.label}: no end after {MAX_UPDATES} updates")


def _check_record(path: Path, stored: dict[str, Any]) -> None:
    wrong = {k: stored.get(k) for k, v in path.persona.expected.items() if stored.get(k) != v}
    if wrong:
        raise AssertionError(f"{path.label}: the record differs from the persona: {wrong}")


# ---------------------------------------------------------------- measuring


def _plain(value: Any) -> Any:
    """Results as JSON for the digest (dataclasses as dicts, sets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: _plain(dataclasses.asdict(value))}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    return value


def digest(form: Form, walks: dict[str, list[Update]]) -> str:
    """A hash of every screen, result and saved state of the walks."""
    hasher = hashlib.sha256()
    for label, updates in walks.items():
        for update in updates:
            out = _plain([label, update.action, cycle(form, update)])
            hasher.update(json.dumps(out, sort_keys=True, ensure_ascii=False).encode())
    return hasher.hexdigest()[:16]


def measure(form: Form, updates: Sequence[Update], rounds: int, repeat: int) -> list[float]:
    """µs of CPU per update in each round (every update replayed ``repeat`` times)."""
    figures: list[float] = []
    for _ in range(rounds):
        gc.collect()
        began = time.process_time()
        for _ in range(repeat):
            for update in updates:
                cycle(form, update)
        spent = time.process_time() - began
        figures.append(spent / (repeat * len(updates)) * 1e6)
    return figures


@dataclass
class Result:
    """The figures of one path."""

    updates: int
    rounds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """µs per update, median of the rounds."""
        return statistics.median(self.rounds)


def main(argv: Sequence[str] | None = None) -> int:
    """Record the walks, check them, time them and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.flows_engine", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per path (median)")
    parser.add_argument("--repeat", type=int, default=20, help="replays of a walk per round")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    args = parser.parse_args(argv)

    form = load_default_form()
    walks = {path.label: record(form, path) for path in paths()}
    print(f"digest of the walks' results: {digest(form, walks)}")
    results: dict[str, Result] = {}
    wall = time.perf_counter()
    for label, updates in walks.items():
        results[label] = Result(len(updates), measure(form, updates, args.rounds, args.repeat))
    wall = time.perf_counter() - wall

    print(f"\n{'path':<16} {'updates':>7} {'µs CPU/update':>14} {'min':>8} {'max':>8}")
    for label, result in results.items():
        print(
            f"{label:<16} {result.updates:>7} {result.median:>14.1f} "
            f"{min(result.rounds):>8.1f} {max(result.rounds):>8.1f}"
        )
    total = sum(r.updates for r in results.values())
    overall = sum(r.median * r.updates for r in results.values()) / total
    print(f"{'all':<16} {total:>7} {overall:>14.1f}")
    print(f"\n{args.rounds} rounds x {args.repeat} replays per path, {wall:.1f} s wall")
    if args.json:
        figures = {k: {"updates": r.updates, "us": r.median} for k, r in results.items()}
        figures["all"] = {"updates": total, "us": overall}
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
