"""docs/ev-link.md embeds the generated session diagram; every EV fault code is documented."""

from __future__ import annotations

from pathlib import Path

from controller.ev.chademo import phases
from controller.ev.chademo.diagram import BEGIN, END, mermaid

DOC = Path(__file__).resolve().parents[1] / "docs" / "ev-link.md"


def test_docs_embed_the_generated_session_diagram() -> None:
    doc = DOC.read_text(encoding="utf-8")
    embedded = doc[doc.index(BEGIN) + len(BEGIN):doc.index(END)]
    assert embedded.strip() == f"```mermaid\n{mermaid()}```", (
        "regenerate the diagram in docs/ev-link.md: python -m controller.ev.chademo.diagram")


def test_every_ev_fault_code_is_in_the_endings_table() -> None:
    doc = DOC.read_text(encoding="utf-8")
    codes = [v for k, v in vars(phases).items() if k.startswith("EV_") and isinstance(v, str)]
    codes += list(phases.FAULT_BIT_CODES)
    for code in codes:
        assert code in doc, code
