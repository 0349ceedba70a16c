"""The mode machine as a Mermaid state diagram, generated from the transition table.

``v2xctl diagram`` prints it; ``docs/state-machine.md`` embeds it and a test fails when the two
differ, so the documented machine never drifts from the code.
"""

from __future__ import annotations

from controller.modes.states import CHILDREN, TOP_LEVEL, State, short_name
from controller.modes.table import ANY, TRANSITIONS, Transition

ANY_ID = "any_state"


def _label(tr: Transition) -> str:
    guards = [*tr.conditions, *(f"not {u}" for u in tr.unless)]
    return f"{tr.trigger} [{', '.join(guards)}]" if guards else tr.trigger


def _node(source: State | str) -> str:
    return ANY_ID if source == ANY else State(source).value


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {State.SELFTEST.value}",
             f'    state "any state" as {ANY_ID}']
    for top in TOP_LEVEL:
        children = CHILDREN.get(top)
        if not children:
            continue
        lines.append(f"    state {top.value} {{")
        lines.append(f"        [*] --> {children[0].value}")
        lines += [f'        state "{short_name(c)}" as {c.value}' for c in children]
        lines.append("    }")
    lines += [f"    {_node(tr.source)} --> {tr.dest.value}: {_label(tr)}" for tr in TRANSITIONS]
    return "\n".join(lines) + "\n"
