"""Structured redline of two terms documents given as JSON-like data.

Pass ``Terms.model_dump(mode="json")`` for both sides. Dicts are compared key by key (sorted),
lists index by index; anything else is compared as a value. Paths are dotted, with list indexes
in brackets: ``ai_uses.voice_clone.policy``, ``apprenticeship[1].min_weeks``.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Change", "diff_terms", "redline_text"]


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


def diff_terms(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    _diff("", old, new, changes)
    return changes


def _diff(path: str, old: Any, new: Any, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(Change(path=sub, kind="removed", old=copy.deepcopy(old[key])))
            elif key not in old:
                out.append(Change(path=sub, kind="added", new=copy.deepcopy(new[key])))
            else:
                _diff(sub, old[key], new[key], out)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                out.append(Change(path=sub, kind="removed", old=copy.deepcopy(old[i])))
            elif i >= len(old):
                out.append(Change(path=sub, kind="added", new=copy.deepcopy(new[i])))
            else:
                _diff(sub, old[i], new[i], out)
    elif not _same(old, new):
        out.append(Change(path=path, kind="changed", old=copy.deepcopy(old), new=copy.deepcopy(new)))


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, but a switch between a boolean and a number is still a change.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


_MARK = {"added": "+", "removed": "-", "changed": "~"}


def redline_text(changes: list[Change], old_label: str, new_label: str) -> str:
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    if not changes:
        lines.append("No changes.")
    for c in changes:
        if c.kind == "changed":
            detail = f"{_show(c.old)} → {_show(c.new)}"
        else:
            detail = _show(c.new if c.kind == "added" else c.old)
        lines.append(f"{_MARK[c.kind]} {c.path}: {detail}")
    return "\n".join(lines)
