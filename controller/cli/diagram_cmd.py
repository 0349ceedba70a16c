"""``v2xctl diagram``: the mode machine as a Mermaid state diagram."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from controller.modes.diagram import mermaid


def add_parser(verbs: Any) -> None:
    parser = verbs.add_parser(
        "diagram", help="print the mode machine as a Mermaid state diagram",
        description="Print the mode machine (states, transitions, guards) as a Mermaid "
                    "stateDiagram-v2, generated from controller/modes/table.py. "
                    "docs/state-machine.md embeds this output.")
    parser.set_defaults(handler=diagram)


def diagram(_args: argparse.Namespace) -> int:
    sys.stdout.write(mermaid())
    return 0
