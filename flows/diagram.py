"""Draw the compiled machine for staff: Graphviz DOT or Mermaid text.

The machine has a ``next`` transition from every question to every later one; a drawing of
all of them says nothing. Edges are drawn from a state to each later state up to the first
one that certainly applies whenever the source applies, labelled with the condition that
must hold: exactly the branches a person can take on a first walk through the form.
"""

from __future__ import annotations

from flows.machine import relevant_condition
from flows.model import COMPLETE, REVIEW, START, Form


def _conditions(form: Form) -> dict[str, tuple[frozenset[str], str]]:
    """state → (conjuncts that make it relevant, the text of its own condition)."""
    result: dict[str, tuple[frozenset[str], str]] = {
        START: (frozenset(), ""),
        REVIEW: (frozenset(), ""),
    }
    result[COMPLETE] = (frozenset(), "")
    for field in form.fields:
        terms: frozenset[str] = frozenset()
        for rule in field.relevant:
            terms |= rule.conjuncts()
        own = " and ".join(rule.source for rule in field.relevant[-1:]) if field.relevant else ""
        for index, state in enumerate(field.states):
            if index == 0:
                result[state] = (terms, own)
            else:
                # Later parts follow their first part unless the whole address was skipped.
                result[state] = (terms | {f"answered({field.name})"}, "")
    return result


def edges(form: Form) -> list[tuple[str, str, str]]:
    """``(source, target, label)`` for every branch worth drawing.

    A transition S → T is left out when some state M between them applies whenever T does
    (its conditions are a subset of T's): the walk would stop at M first.
    """
    conditions = _conditions(form)
    order = {state: index for index, state in enumerate(form.states)}
    result: list[tuple[str, str, str]] = []
    for trigger in ("next", "proceed"):
        event = form.machine.events.get(trigger)
        if event is None:
            continue
        for source, transitions in event.transitions.items():
            known = conditions[source][0]
            if source not in (START, REVIEW):
                known = known | {f"answered({source.split('.')[0]})"}
            targets = [t for t in transitions if t.dest is not None]
            for transition in targets:
                target = str(transition.dest)
                guarded = relevant_condition(target) in {c.func for c in transition.conditions}
                target_terms, own = conditions[target]
                between = [
                    s
                    for s in form.states[order[source] + 1 : order[target]]
                    if s not in (REVIEW, COMPLETE)
                ]
                if any(conditions[m][0] <= target_terms | known for m in between):
                    continue
                label = own if guarded and not target_terms <= known else ""
                result.append((source, target, label))
                if not guarded or target_terms <= known:
                    break
    return result


def _node_label(form: Form, state: str) -> str:
    name, _, part = state.partition(".")
    if not form.has_field(name):
        return {START: "开始", REVIEW: "核对汇总", COMPLETE: "完成"}.get(state, state)
    field = form.field(name)
    label = f"{field.label}：{field.part(part).label}" if part else field.label
    return f"{label}\\n{state}"


def to_dot(form: Form) -> str:
    """The machine as a Graphviz ``digraph``."""
    lines = [
        f'digraph "{form.id}_v{form.version}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style=rounded, fontname="WenQuanYi Micro Hei"];',
        '  edge [fontname="WenQuanYi Micro Hei", fontsize=10];',
        f'  labelloc=t; label="{form.title}（{form.id} v{form.version}）";',
    ]
    for state in form.states:
        shape = ", shape=oval" if state in (START, REVIEW, COMPLETE) else ""
        lines.append(f'  "{state}" [label="{_node_label(form, state)}"{shape}];')
    for source, target, label in edges(form):
        text = label.replace('"', '\\"')
        attrs = f' [label="{text}"]' if label else ""
        lines.append(f'  "{source}" -> "{target}"{attrs};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(form: Form) -> str:
    """The machine as a Mermaid ``stateDiagram-v2``."""

    def ident(state: str) -> str:
        return {START: "[*]", COMPLETE: "[*]"}.get(state, state.replace(".", "__"))

    lines = ["stateDiagram-v2", f"  %% {form.title} ({form.id} v{form.version})"]
    for state in form.states:
        if state not in (START, COMPLETE):
            text = _node_label(form, state).replace("\\n", " ").replace('"', "'")
            lines.append(f'  state "{text}" as {ident(state)}')
    for source, target, label in edges(form):
        text = label.replace(":", "：").replace('"', "'")
        lines.append(f"  {ident(source)} --> {ident(target)}" + (f" : {text}" if text else ""))
    return "\n".join(lines) + "\n"
