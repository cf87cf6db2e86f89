"""Plain-text clauses never override a typed term: which terms a custom clause touches.

A custom (officer- or company-written) clause carries no rule, so it can neither satisfy a term nor be
trusted not to contradict one: "the Worker's consent to the body scan is a condition of this
engagement" would void a compact's protection while every typed clause says the opposite. guild cannot
read a clause's meaning, so it reads its subject: a custom clause whose text touches a subject that a
bound compact restricts (a likeness use that needs consent or is prohibited, consent as a condition of
hire, ingestion into training data, required use of AI tools, AI-written literary material) holds the
contract until an officer of one of that compact's parties has reviewed the clause against that term.
A review is per clause version, compact version and term path; a clause that touches nothing
restricted needs none.

The screen is deliberately wide (a clause about "training apprentices" is not caught, one about
"training a model" is): a needless review costs an officer a minute, a missed one a member's rights.

Pure: stdlib only, plus the terms vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from guild.compacts.terms import LIKENESS_USES, WRITING_USES, AIUse, Policy, Terms

__all__ = ["Touch", "screen_custom_clause"]

_FLAGS = re.IGNORECASE | re.DOTALL
_AI = r"(?:\bai\b|artificial[\s-]+intelligence|generative|machine[\s-]+learning|\bmodels?\b|algorithm\w*|\bllms?\b)"

# what a text must mention to touch a use's subject
_USE_SUBJECTS: dict[AIUse, re.Pattern[str]] = {
    AIUse.performer_digital_replica: re.compile(
        r"\b(?:digital\s+(?:replica|double|twin|likeness|human)s?|replica(?:s|tion)?|likeness(?:es)?"
        r"|(?:body|face|facial|head|3d|full[\s-]body)\s*[-\s]?scan\w*|scan(?:s|ning|ned)?|photogrammetr\w*"
        r"|volumetric\s+capture)\b",
        _FLAGS,
    ),
    AIUse.voice_clone: re.compile(
        r"\bvoice\w*\b.{0,60}?\b(?:clon\w*|synthe\w*|model\w*|replica\w*|double\w*)"
        r"|\b(?:clon\w*|synthe\w*)\b.{0,60}?\bvoices?\b",
        _FLAGS,
    ),
    AIUse.de_ageing: re.compile(
        r"\bde-?ag(?:e|ed|es|eing|ing)\b|\byouthen\w*|\bdigital(?:ly)?\s+(?:alter\w*|rejuvenat\w*)", _FLAGS
    ),
    AIUse.synthetic_performer: re.compile(r"\bsynthetic\s+(?:performer|actor|character|human)s?\b", _FLAGS),
}
_WRITING = re.compile(
    _AI + r".{0,80}?\b(?:script|screenplay|teleplay|literary|story|stories|treatment|draft|dialogue|material)\w*"
    r"|\b(?:script|screenplay|teleplay|literary|story|treatment|draft|dialogue)\w*\b.{0,80}?" + _AI,
    _FLAGS,
)
_TRAINING = re.compile(
    r"\b(?:train\w*|ingest\w*|data\s*sets?|text\s+and\s+data\s+mining|data\s+mining|scrap\w*)\b.{0,80}?"
    + _AI
    + r"|"
    + _AI
    + r".{0,80}?\b(?:train\w*|ingest\w*|data\s*sets?|data\s+mining|scrap\w*)\b",
    _FLAGS,
)
_TOOLS = re.compile(r"\b(?:generative|gen-?ai|prompt(?:s|ing|ed)?|ai\s+(?:tools?|software|systems?))\b", _FLAGS)
_CONDITION = re.compile(
    r"\bconditions?\s+(?:of|precedent)\b|\bconditional\s+(?:up)?on\b|\bmust\s+(?:consent|agree|submit|undergo)\b"
    r"|\brequired\s+to\s+(?:consent|agree|submit|undergo|sit)\b|\bmandatory\b|\bwaive\w*\b",
    _FLAGS,
)

_RESTRICTED = frozenset({Policy.prohibited, Policy.consent_required})


@dataclass(frozen=True, slots=True)
class Touch:
    """A term of one compact version that a custom clause's text touches."""

    term_path: str
    subject: str  # in words, for the refusal


def screen_custom_clause(text: str, terms: Terms) -> list[Touch]:
    """The restricted terms of ``terms`` that ``text`` (a custom clause's title and body) touches, in a
    stable order without duplicates. Empty: the clause needs no review under these terms."""
    return list(dict.fromkeys(_touches(text, terms)))


def _touches(text: str, terms: Terms) -> Iterator[Touch]:
    likeness_touched = False
    for use, pattern in _USE_SUBJECTS.items():
        rule = terms.ai_uses.get(use)
        if rule is None or rule.policy not in _RESTRICTED or not pattern.search(text):
            continue
        likeness_touched = likeness_touched or use in LIKENESS_USES
        yield Touch(f"ai_uses.{use}.policy", f"{str(use).replace('_', ' ')} ({rule.policy.replace('_', ' ')})")
    if likeness_touched and _CONDITION.search(text):
        for use in LIKENESS_USES:
            rule = terms.ai_uses.get(use)
            if rule is not None and rule.policy in _RESTRICTED and not rule.consent_may_be_condition_of_hire:
                if _USE_SUBJECTS[use].search(text):
                    yield Touch(
                        f"ai_uses.{use}.consent_may_be_condition_of_hire",
                        f"consent to {str(use).replace('_', ' ')} as a condition of hire",
                    )
    if _WRITING.search(text):
        for use in WRITING_USES:
            rule = terms.ai_uses.get(use)
            if rule is not None and rule.policy is not Policy.permitted:
                yield Touch(
                    f"ai_uses.{use}.policy", f"AI-generated literary material ({rule.policy.replace('_', ' ')})"
                )
    if terms.training_data.ingestion_without_licence_prohibited and _TRAINING.search(text):
        yield Touch("training_data.ingestion_without_licence_prohibited", "ingestion into AI training data")
    if _TOOLS.search(text):
        if any(not r.worker_may_be_required_to_use for r in terms.ai_uses.values()):
            yield Touch("ai_uses.*.worker_may_be_required_to_use", "required use of generative AI tools")
        if terms.ai_tools is not None and terms.ai_tools.required_prompting_of_displacing_tools_prohibited:
            yield Touch(
                "ai_tools.required_prompting_of_displacing_tools_prohibited",
                "required prompting of AI tools that displace crew",
            )
