"""People's words for a redline: a term's path as a label made from the terms model, a value as text.

``term_label("apprenticeship.quotas[2].min_count")`` walks :class:`~guild.compacts.terms.Terms` field by
field: a field reads as its ``title`` (or its name in words), a list entry as "rule 3" (its model's noun,
counted from one), a map key (an AI use, an asset category) as its value in words. The description of the
last field the path names comes along as help. A path the model does not know still gets words.

``shown_value`` formats a value of that term: money already formatted by the redline kept, percentages
with %, booleans yes/no, lists joined, whole floats without ".0".
"""

from __future__ import annotations

import json
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from guild.compacts.redline import Change
from guild.compacts.terms import Terms

__all__ = ["ShownChange", "TermLabel", "shown_change", "shown_value", "term_label"]

SEPARATOR = " › "
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
_UPPER = {"ai": "AI", "vfx": "VFX", "iso": "ISO"}
_DROP = {"minor"}  # money fields read in major units: ``min_rate_minor_per_week`` → "Min rate per week"
_SYMBOL = {"pct": "(%)"}


@dataclass(frozen=True)
class TermLabel:
    label: str
    help: str = ""


def words(name: str) -> str:
    """``max_ai_share_pct`` → "Max AI share (%)", ``QuotaRule`` → "Quota rule", ``voice_clone`` → "Voice clone"."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()
    parts = [_SYMBOL.get(w, _UPPER.get(w, w)) for w in name.split("_") if w and w not in _DROP]
    if not parts:
        return str(name)
    text = " ".join(parts)
    return text[0].upper() + text[1:]


def _plain(annotation: Any) -> Any:
    """The annotation without ``None`` and ``Annotated``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        elif origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _noun(annotation: Any) -> str:
    """What one entry of a list is called: ``QuotaRule`` → "rule", ``Fee`` → "fee", scalars "item"."""
    if _is_model(annotation):
        return words(annotation.__name__).split(" ")[-1].lower()
    return "item"


def term_label(path: str, model: type[BaseModel] = Terms) -> TermLabel:
    parts: list[str] = []
    help_text = ""
    current: Any = model
    for index, key in _TOKEN.findall(path):
        if index:
            if typing.get_origin(current) is list:
                item = _plain(typing.get_args(current)[0])
                parts.append(f"{_noun(item)} {int(index) + 1}")
                current = item
            else:
                parts.append(f"item {int(index) + 1}")
                current = None
            help_text = ""
        elif _is_model(current) and key in current.model_fields:
            info = current.model_fields[key]
            parts.append(info.title or words(key))
            help_text = info.description or ""
            current = _plain(info.annotation)
        elif typing.get_origin(current) is dict:
            parts.append(words(key))
            current = _plain(typing.get_args(current)[1])
            help_text = ""
        else:
            parts.append(words(key))
            current = None
            help_text = ""
    return TermLabel(label=SEPARATOR.join(parts) or path, help=help_text)


def _last_field(path: str) -> str:
    keys = [key for _, key in _TOKEN.findall(path) if key]
    return keys[-1] if keys else ""


def shown_value(path: str, value: Any, text: str | None = None) -> str:
    """``value`` of the term at ``path`` for people; ``text`` is the redline's own (money) text, kept."""
    if text is not None:
        return text
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int | float):
        number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
        return f"{number}%" if _last_field(path).endswith("_pct") else number
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(shown_value(path, v) for v in value) if value else "none"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ShownChange:
    path: str
    kind: str
    label: str
    help: str
    old: str
    new: str


def shown_change(change: Change) -> ShownChange:
    label = term_label(change.path)
    return ShownChange(
        path=change.path,
        kind=change.kind,
        label=label.label,
        help=label.help,
        old=shown_value(change.path, change.old, change.old_text),
        new=shown_value(change.path, change.new, change.new_text),
    )
