"""Compile the question order into a ``transitions`` state machine, once per form version.

States are ``start``, the questions (one per address part), then ``review``, the
confirmation questions and ``complete``. From every state a ``next`` transition leads to each
later state, guarded by named conditions ``is_relevant_<state>`` and ``is_pending_<state>``;
transitions keeps their order, so the first later state whose conditions pass is where the
conversation goes. The conditions are methods of a small per-conversation model (see
:mod:`flows.conversation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transitions import Machine

from flows.model import COMPLETE, REVIEW, START, Field


def relevant_condition(state: str) -> str:
    """Name of the condition "this state's question applies"."""
    return f"is_relevant_{state}"


def pending_condition(state: str) -> str:
    """Name of the condition "this state still has to be asked"."""
    return f"is_pending_{state}"


def build_machine(
    form_id: str, version: int, fields: Sequence[Field]
) -> tuple[Machine, tuple[str, ...]]:
    """Build the machine of a form; returns it with the ordered state names."""
    main = [s for f in fields if f.stage == "main" for s in f.states]
    final = [s for f in fields if f.stage == "final" for s in f.states]
    states = (START, *main, REVIEW, *final, COMPLETE)
    transitions: list[dict[str, Any]] = []
    for index, source in enumerate([START, *main]):
        for target in main[index:]:
            transitions.append(
                {
                    "trigger": "next",
                    "source": source,
                    "dest": target,
                    "conditions": [relevant_condition(target), pending_condition(target)],
                }
            )
        transitions.append({"trigger": "next", "source": source, "dest": REVIEW})
    for target in final:
        transitions.append(
            {
                "trigger": "proceed",
                "source": REVIEW,
                "dest": target,
                "conditions": [relevant_condition(target)],
            }
        )
    transitions.append({"trigger": "proceed", "source": REVIEW, "dest": COMPLETE})
    for index, source in enumerate(final):
        for target in final[index + 1 :]:
            transitions.append(
                {
                    "trigger": "next",
                    "source": source,
                    "dest": target,
                    "conditions": [relevant_condition(target)],
                }
            )
        transitions.append({"trigger": "next", "source": source, "dest": COMPLETE})
    machine = Machine(
        model=None,
        states=list(states),
        transitions=transitions,
        initial=states[0],
        auto_transitions=False,
        send_event=False,
        name=f"{form_id}@{version}",
    )
    return machine, states
