"""The charter as text: applying amendment changes, which sections changed, and diffs.

Pure functions over `[{key, title, text}]` lists; nothing here touches the database.
"""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.models import ChangeOp

Section = dict[str, str]

# Words, runs of whitespace and single punctuation marks: joined back they give the text exactly.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def positions(sections: Sequence[Section]) -> dict[str, int]:
    """Section key → its number (1-based position)."""
    return {section["key"]: number for number, section in enumerate(sections, start=1)}


def touched_keys(changes: Iterable[dict[str, Any]]) -> set[str]:
    return {change["key"] for change in changes}


def apply_changes(sections: Sequence[Section], changes: Iterable[dict[str, Any]]) -> list[Section]:
    """The sections with the changes applied in order. Callers have validated the changes
    against these sections; an `add` whose `after` section is gone goes to the end."""
    result = [dict(section) for section in sections]
    for change in changes:
        keys = [section["key"] for section in result]
        op = ChangeOp(change["op"])
        if op is ChangeOp.add:
            new = {"key": change["key"], "title": change["title"], "text": change["text"]}
            after = change.get("after")
            index = keys.index(after) + 1 if after in keys else len(result)
            result.insert(index, new)
        elif op is ChangeOp.modify:
            section = result[keys.index(change["key"])]
            if change.get("title") is not None:
                section["title"] = change["title"]
            if change.get("text") is not None:
                section["text"] = change["text"]
        else:
            del result[keys.index(change["key"])]
    return result


def changed_keys(before: Sequence[Section], after: Sequence[Section]) -> set[str]:
    """Keys added, removed, or with another title or text (a mere renumbering is no change)."""
    old = {s["key"]: (s["title"], s["text"]) for s in before}
    new = {s["key"]: (s["title"], s["text"]) for s in after}
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


@dataclass(frozen=True, slots=True)
class Segment:
    op: Literal["equal", "insert", "delete"]
    text: str


def word_diff(before: str, after: str) -> list[Segment]:
    """Word-level segments: equal text, deleted words (red) and inserted words (green)."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    segments: list[Segment] = []

    def add(op: Literal["equal", "insert", "delete"], tokens: list[str]) -> None:
        if not tokens:
            return
        text = "".join(tokens)
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", a[i1:i2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return segments


def render(sections: Sequence[Section]) -> list[str]:
    """The charter as plain lines: a numbered heading per section, then its text."""
    lines: list[str] = []
    for number, section in enumerate(sections, start=1):
        lines.append(f"{number}. {section['title']}")
        lines.append("")
        lines.extend(section["text"].splitlines())
        lines.append("")
    return lines


def unified_diff(
    before: Sequence[Section], after: Sequence[Section], *, from_label: str, to_label: str
) -> str:
    return "\n".join(
        difflib.unified_diff(
            render(before), render(after), fromfile=from_label, tofile=to_label, lineterm=""
        )
    )
