"""What the chat page is sent: the current question, the summary and the warnings as JSON.

ID and mobile numbers are masked everywhere the page shows them (ID numbers inside free text
too) (rule: never a full number in a
list); the person types them in full, but the page never echoes them back.
"""

from __future__ import annotations

from typing import Any

from flows import Conversation, Prompt, mask_id, mask_mobile
from flows.values import mask_id_numbers


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: enough for the person to recognise, little for anyone else."""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def _masked_current(prompt: Prompt) -> str | None:
    if prompt.current is None:
        return None
    if prompt.kind == "id_number":
        return mask_id(prompt.current)
    if prompt.kind == "mobile":
        return mask_mobile(prompt.current)
    return mask_id_numbers(prompt.current)


def prompt_view(prompt: Prompt) -> dict[str, Any]:
    """One question as the page draws it: buttons for ``choices``, a text box if ``allow_text``."""
    return {
        "state": prompt.state,
        "name": prompt.name,
        "part": prompt.part,
        "kind": prompt.kind,
        "label": prompt.label,
        "hint": prompt.hint,
        "choices": [
            {"code": c.code, "label": c.label, "selected": c.code in prompt.selected}
            for c in prompt.choices
        ],
        "allow_text": prompt.allow_text,
        "optional": prompt.optional,
        "current": _masked_current(prompt),
        "prefilled": prompt.prefilled,
        "step": prompt.step,
        "total": prompt.total,
        "remaining": prompt.remaining,
    }


def summary_view(conv: Conversation) -> list[dict[str, Any]]:
    """The answers so far (masked), with whether each can be edited from the summary."""
    return [
        {"name": item.name, "label": item.label, "value": item.masked, "editable": item.editable}
        for item in conv.summary()
    ]


def open_warnings(conv: Conversation) -> list[dict[str, str]]:
    """Consistency warnings the person has not yet looked at and kept."""
    confirmed = set(conv.state.get("confirmed_warnings") or [])
    return [
        {"code": w.code, "message": w.message} for w in conv.warnings() if w.code not in confirmed
    ]


def conversation_stage(conv: Conversation) -> str:
    """``question``, ``review`` or ``complete``."""
    if conv.complete:
        return "complete"
    if conv.at_review:
        return "review"
    return "question"


def conversation_view(conv: Conversation) -> dict[str, Any]:
    """Everything about the conversation the page needs to draw its current step."""
    prompt = conv.prompt
    view: dict[str, Any] = {
        "stage": conversation_stage(conv),
        "prompt": prompt_view(prompt) if prompt is not None else None,
        "summary": summary_view(conv),
        "warnings": open_warnings(conv) if conv.at_review else [],
        "can_back": bool(conv.state.get("history")),
    }
    if conv.complete:
        view["policy_notes"] = conv.policy_notes()
    return view
