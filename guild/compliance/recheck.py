"""An issued contract re-checked against a compact version it was not issued under (pure).

A contract is checked at issue against every version its production was then bound to, and that report is
stored with it, immutable. When the production's binding moves to an amendment (or the production binds
another compact), the contract is re-checked: its stored clauses and context are evaluated against the new
version alone with :func:`contracts.rules.evaluate`, the function issuance uses. A contract that still
complies stays as it is; one that does not becomes a ``contract_noncompliant`` finding asking for a re-issue
(:mod:`guild.compliance.rules`). The engine computes a re-check once per (contract, version hash) and keeps
it (table ``contract_recheck``); the contract's document and report never change.

Pure: no database, no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from contracts.clauses import ClauseParamsError, ContractContext, UnknownClause
from contracts.rules import ClauseChoice, custom_clause_facts, evaluate
from guild.compacts.bound import BoundVersion
from guild.domain.work import ContractType

__all__ = ["UNREADABLE", "Recheck", "recheck"]

UNREADABLE = "contract_unreadable"  # the rule of the violation a contract that cannot be re-checked gets


@dataclass(frozen=True, slots=True)
class Recheck:
    """Does an issued contract comply with one compact version? ``violations``: what it breaks, each as the
    contract's compliance report words it (``term_path``, ``rule``, ``required``, ``actual``, ``message``,
    and the version's ``compact_slug``, ``version_number``, ``version_hash``)."""

    compliant: bool
    violations: tuple[Mapping[str, Any], ...] = ()

    @property
    def term_paths(self) -> list[str]:
        """The terms broken, each once, in order."""
        return sorted({str(v["term_path"]) for v in self.violations})


def recheck(contract_type: str, document: Mapping[str, Any], version: BoundVersion) -> Recheck:
    """The contract (its type and stored ``guild.contract/1`` document: ``context``, ``clauses`` and
    ``custom_clauses`` with their reviews: a plain-text clause reviewed against the old version's terms must be
    reviewed against the new one's) evaluated
    against ``version`` as issuance would evaluate it. A document this code can no longer evaluate (a clause
    or context it does not know) is not compliant: a person must look at it, and re-issue it."""
    try:
        context = ContractContext.model_validate(document["context"])
        clauses = [
            ClauseChoice(key=c["key"], version=c["version"], params=c.get("params") or {})
            for c in document.get("clauses") or []
        ]
        custom = custom_clause_facts(document.get("custom_clauses") or [])
        report = evaluate(ContractType(contract_type), context, clauses, [version], custom)
    except (KeyError, TypeError, ValueError, ValidationError, UnknownClause, ClauseParamsError) as exc:
        return Recheck(
            False,
            (
                {
                    "compact_slug": version.compact_slug,
                    "version_number": version.version_number,
                    "version_hash": version.version_hash,
                    "term_path": "contract",
                    "rule": UNREADABLE,
                    "required": "a stored contract document this version can be checked against",
                    "actual": type(exc).__name__,
                    "clause": None,
                    "message": f"{version.label}: the stored contract could not be re-checked ({_reason(exc)})",
                },
            ),
        )
    violations = [v.model_dump(mode="json") for v in report.violations]
    violations += [
        {
            "compact_slug": version.compact_slug,
            "version_number": version.version_number,
            "version_hash": version.version_hash,
            "term_path": c.term_path,
            "rule": "terms_conflict",
            "required": c.compacts,
            "actual": None,
            "clause": None,
            "message": c.detail,
        }
        for c in report.conflicts
    ]
    return Recheck(report.compliant, tuple(violations))


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"it has no {exc.args[0]!r}"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
