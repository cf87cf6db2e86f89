"""Structured redline of two terms documents given as JSON-like data.

Pass ``Terms.model_dump(mode="json")`` for both sides. Dicts are compared key by key (sorted),
lists index by index; anything else is compared as a value. Paths are dotted, with list indexes
in brackets: ``ai_uses.voice_clone.policy``, ``apprenticeship[1].min_weeks``.

Money reads as money: an amount in integer minor units (a key ending in ``_minor``, or with a unit after
it, ``min_rate_minor_per_week``) of the ``currency`` its object (or the nearest enclosing one) names is
shown formatted in the human text, ``EUR 6,000.00/week``, never as raw minor units. ``old`` and ``new``
keep the raw values (machines read those); ``old_text`` and ``new_text`` carry the formatted form where
it differs from the value's JSON (a changed amount, or an added or removed object that holds amounts).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guild.domain.money import format_money

__all__ = ["Change", "diff_terms", "money_text", "redline_text"]


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None
    old_text: str | None = Field(
        default=None,
        description="the old value as a person reads it, where that differs from its JSON: money formatted "
        "(null otherwise; ``old`` keeps the raw value)",
        examples=["EUR 600.00/week"],
    )
    new_text: str | None = Field(
        default=None,
        description="the new value as a person reads it, where that differs from its JSON: money formatted "
        "(null otherwise; ``new`` keeps the raw value)",
        examples=["EUR 750.00/week"],
    )


# An amount in integer minor units: ``amount_minor``, ``budget_max_minor``, ``min_rate_minor_per_week``.
_MONEY_KEY = re.compile(r"^(?P<name>.*?)_?minor(?:_per_(?P<per>[a-z]+))?$")


def money_text(key: str, value: Any, currency: Any) -> str | None:
    """``value`` of the field ``key`` formatted as money of ``currency`` (``EUR 6,000.00/week`` for
    ``min_rate_minor_per_week`` = 600000), or None when the field is no amount in minor units, the value
    no integer, or the currency no ISO 4217 code."""
    match = _MONEY_KEY.match(key) if isinstance(key, str) else None
    if match is None or not _is_amount(value) or not _is_currency(currency):
        return None
    try:
        text = format_money(value, currency)
    except (ValueError, TypeError, ArithmeticError):
        return None
    return f"{text}/{match['per']}" if match["per"] else text


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_currency(currency: Any) -> bool:
    return isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency) is not None


def _currency_of(value: Any, inherited: str | None) -> str | None:
    """The currency an object's amounts are in: its own ``currency``, else the enclosing object's."""
    if isinstance(value, dict) and _is_currency(value.get("currency")):
        return str(value["currency"])
    return inherited


def _readable(value: Any, currency: str | None) -> tuple[Any, bool]:
    """``value`` with every amount in it formatted (the key loses its ``minor``: ``min_rate_per_week``),
    and whether anything was."""
    if isinstance(value, dict):
        here = _currency_of(value, currency)
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            text = money_text(key, item, here)
            if text is not None:
                match = _MONEY_KEY.match(key)
                assert match is not None
                name = match["name"] or "amount"
                out[f"{name}_per_{match['per']}" if match["per"] else name] = text
                changed = True
            else:
                out[key], inner = _readable(item, here)
                changed = changed or inner
        return out, changed
    if isinstance(value, list):
        items = [_readable(item, currency) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    return value, False


def _text(value: Any, currency: str | None) -> str | None:
    """The human form of an added or removed value, when it holds amounts."""
    readable, changed = _readable(value, currency)
    return _show(readable) if changed else None


def diff_terms(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    _diff("", old, new, changes, (None, None))
    return changes


def _diff(path: str, old: Any, new: Any, out: list[Change], currencies: tuple[str | None, str | None]) -> None:
    old_currency, new_currency = currencies
    if isinstance(old, dict) and isinstance(new, dict):
        old_currency, new_currency = _currency_of(old, old_currency), _currency_of(new, new_currency)
        for key in sorted(old.keys() | new.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                text = money_text(key, old[key], old_currency) or _text(old[key], old_currency)
                out.append(Change(path=sub, kind="removed", old=copy.deepcopy(old[key]), old_text=text))
            elif key not in old:
                text = money_text(key, new[key], new_currency) or _text(new[key], new_currency)
                out.append(Change(path=sub, kind="added", new=copy.deepcopy(new[key]), new_text=text))
            elif not isinstance(old[key], dict | list) and not _same(old[key], new[key]):
                out.append(
                    Change(
                        path=sub,
                        kind="changed",
                        old=copy.deepcopy(old[key]),
                        new=copy.deepcopy(new[key]),
                        old_text=money_text(key, old[key], old_currency) or _text(old[key], old_currency),
                        new_text=money_text(key, new[key], new_currency) or _text(new[key], new_currency),
                    )
                )
            else:
                _diff(sub, old[key], new[key], out, (old_currency, new_currency))
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                out.append(
                    Change(path=sub, kind="removed", old=copy.deepcopy(old[i]), old_text=_text(old[i], old_currency))
                )
            elif i >= len(old):
                out.append(
                    Change(path=sub, kind="added", new=copy.deepcopy(new[i]), new_text=_text(new[i], new_currency))
                )
            else:
                _diff(sub, old[i], new[i], out, (old_currency, new_currency))
    elif not _same(old, new):
        out.append(
            Change(
                path=path,
                kind="changed",
                old=copy.deepcopy(old),
                new=copy.deepcopy(new),
                old_text=_text(old, old_currency),
                new_text=_text(new, new_currency),
            )
        )


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
        old = c.old_text if c.old_text is not None else _show(c.old)
        new = c.new_text if c.new_text is not None else _show(c.new)
        if c.kind == "changed":
            detail = f"{old} → {new}"
        else:
            detail = new if c.kind == "added" else old
        lines.append(f"{_MARK[c.kind]} {c.path}: {detail}")
    return "\n".join(lines)
