"""Must-show 4: docs/console.md lists every command with its role, arguments and an example."""

from __future__ import annotations

import re
from pathlib import Path

from controller.console.commands import REGISTRY, resolve
from controller.console.framing import crc16

DOC = Path(__file__).resolve().parent.parent / "docs" / "console.md"
ROW = re.compile(r"^\| `([^`]+)` \| (\w+) \| (-|`.+?`) \| `([^`]+)` \|", re.MULTILINE)
FRAME = re.compile(r"^\$(.+)\*([0-9A-F]{4})$", re.MULTILINE)


def documented() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for name, role, args, example in ROW.findall(DOC.read_text(encoding="utf-8")):
        assert name not in rows, f"{name} documented twice"
        rows[name] = (role, "" if args == "-" else args.strip("`").replace("\\|", "|"), example)
    return rows


def test_every_command_is_documented_with_its_role_arguments_and_example() -> None:
    rows = documented()
    assert set(rows) == {c.name for c in REGISTRY}
    for cmd in REGISTRY:
        assert rows[cmd.name] == (cmd.role.label, cmd.args, cmd.example), cmd.name


def test_every_documented_example_names_its_command() -> None:
    for name, (_, _, example) in documented().items():
        found = resolve(example.split())
        assert not isinstance(found, str), f"{example}: {found}"
        assert found[0].name == name


def test_documented_frames_carry_their_correct_checksums() -> None:
    frames = FRAME.findall(DOC.read_text(encoding="utf-8"))
    assert len(frames) >= 3
    for body, crc in frames:
        if crc != "0000":  # the documented checksum-mismatch example
            assert int(crc, 16) == crc16(body), body
