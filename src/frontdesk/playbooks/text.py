"""The playbook text format: plain lines, read into blocks the template renders (and escapes).

    1. A numbered line is a step; the numbers need not be in order, the list counts itself.
       - A line starting with "-" (or "*") under a step is a point of that step (what to say).
    A line of its own is a paragraph; a blank line ends a list.

Nothing in the text is HTML: the blocks hold plain strings and Django's auto-escaping renders
them, so `<script>` typed by an editor appears as those characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STEP = re.compile(r"^\s*(\d{1,3})[.)]\s+(\S.*)$")
_POINT = re.compile(r"^\s*[-*\u2022]\s+(\S.*)$")


@dataclass
class Step:
    text: str
    points: list[str] = field(default_factory=list)


@dataclass
class Block:
    kind: str  # "steps", "points" or "text"
    start: int = 1
    steps: list[Step] = field(default_factory=list)
    points: list[str] = field(default_factory=list)
    text: str = ""


def steps_parse(source: str) -> list[Block]:
    """Read a playbook's text into blocks of numbered steps, bullet points and paragraphs."""
    blocks: list[Block] = []
    current: Block | None = None
    for raw in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if not line.strip():
            current = None
            continue
        step = _STEP.match(line)
        point = _POINT.match(line)
        if step:
            if current is None or current.kind != "steps":
                current = Block(kind="steps", start=int(step.group(1)))
                blocks.append(current)
            current.steps.append(Step(text=step.group(2).strip()))
        elif point:
            if current is not None and current.kind == "steps":
                current.steps[-1].points.append(point.group(1).strip())
            elif current is not None and current.kind == "points":
                current.points.append(point.group(1).strip())
            else:
                current = Block(kind="points", points=[point.group(1).strip()])
                blocks.append(current)
        elif current is not None and current.kind == "steps" and raw[:1].isspace():
            # An indented line continues the step above (a long step wrapped by hand).
            current.steps[-1].text += " " + line.strip()
        elif current is not None and current.kind == "text":
            current.text += " " + line.strip()
        else:
            current = Block(kind="text", text=line.strip())
            blocks.append(current)
    return blocks


def step_count(source: str) -> int:
    return sum(len(block.steps) for block in steps_parse(source))
