"""The clause library: versioned talent-contract clauses, their typed parameters, their text
templates and the pure rule that says whether given parameters satisfy given compact terms.

Pure: stdlib, pydantic and jinja2 only. A clause's ``check`` compares its parameters with ONE
compact version's :class:`~guild.compacts.terms.Terms` and returns one :class:`Requirement` per
compact term it relates to (met or not); :mod:`contracts.rules` runs it against every bound
version. A clause's ``consistency`` rule compares its parameters with the contract itself (rate,
planned uses, mentor) and does not depend on any compact; its requirements sit under ``contract.``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from guild.compacts.terms import (
    LIKENESS_USES,
    MAX_MINOR,
    MAX_WEEKS,
    WRITING_USES,
    AIUse,
    AIUseRule,
    ConsentScope,
    CurrencyCode,
    Department,
    Policy,
    Terms,
    ai_rules,
    applicable_quota_rules,
)
from guild.domain.money import MajorPairs, MajorUnits, format_money
from guild.domain.values import Int4, Int8, Real, Text
from guild.domain.work import ENTRY_LEVELS, ContractType, Level, MentorFit, mentor_fit

__all__ = [
    "CLAUSES",
    "LIKENESS_USES",
    "WRITING_USES",
    "ClauseParamsError",
    "ClauseTemplate",
    "ContractContext",
    "CustomClauseText",
    "Requirement",
    "UnknownClause",
    "ai_rules",
    "applicable_quota_rules",
    "forbids_condition_of_hire",
    "get_clause",
    "latest",
    "validate_params",
]


FREE_TEXT_MAX = 4000


class UnknownClause(LookupError):
    def __init__(self, key: str, version: int | None = None) -> None:
        super().__init__(f"unknown clause {key!r}" + ("" if version is None else f" version {version}"))
        self.key = key
        self.version = version


class ClauseParamsError(ValueError):
    """The parameters of ``clauses[index]`` fail the clause's parameter model."""

    def __init__(self, index: int, errors: list[dict[str, Any]]) -> None:
        self.index = index
        self.errors = errors
        super().__init__("; ".join(f"{f}: {e['msg']}" for f, e in zip(self.fields, errors, strict=True)))

    @property
    def fields(self) -> list[str]:
        """``clauses[i].params.<field>`` for each error (``clauses[i].params`` for model-level errors)."""
        return [".".join([f"clauses[{self.index}].params", *(str(p) for p in e["loc"])]) for e in self.errors]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Requirement(_Frozen):
    """One compact term (or, under ``contract.``, one contract fact) a clause relates to."""

    term_path: str
    rule: str = Field(description="machine name of the rule")
    required: Any = Field(description='JSON: an exact value, or {"min": x} / {"max": x} / {"one_of": [...]}')
    actual: Any = Field(description="JSON: the value the contract gives")
    met: bool
    message: str


class ContractContext(_Frozen):
    """What a clause's rule needs to know about the contract and its production."""

    contract_type: ContractType
    department: Department | None = Field(default=None, description="required for crew")
    level: Level = Level.journey
    rate_minor_per_week: int = Field(ge=0, le=MAX_MINOR, description="pay, in integer minor units per week")
    currency: CurrencyCode
    start_date: date
    end_date: date
    production_budget_minor: int = Field(ge=0, le=MAX_MINOR, description="production budget, in minor units")
    budget_currency: CurrencyCode
    mentor_level: Level | None = None
    mentor_department: Department | None = None
    planned_ai_uses: frozenset[AIUse] = Field(
        default=frozenset(), description="AI uses the production plans that involve this worker"
    )

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise ValueError(f"end_date ({value}) must not be before start_date ({start})")
        return value

    @model_validator(mode="after")
    def _crew_department(self) -> ContractContext:
        if self.contract_type is ContractType.crew and self.department is None:
            raise ValueError("a crew contract must name its department")
        return self

    @property
    def mentor(self) -> MentorFit:
        """The contract's mentor against the one qualified-mentor rule (:func:`guild.domain.work.mentor_fit`)."""
        return mentor_fit(self.department, self.mentor_level, self.mentor_department)

    @property
    def has_qualified_mentor(self) -> bool:
        return self.mentor.qualified


Check = Callable[[Any, Terms, ContractContext], list[Requirement]]
Consistency = Callable[[Any, ContractContext], list[Requirement]]


def _no_requirements(*_: Any) -> list[Requirement]:
    return []


@dataclass(frozen=True)
class ClauseTemplate:
    key: str
    version: int
    title: str
    applies_to: frozenset[ContractType]
    params_model: type[BaseModel]
    template: str  # path under templates/
    check: Check  # against one compact version's terms
    consistency: Consistency = _no_requirements  # against the contract itself (paths under contract.)
    levels: frozenset[Level] | None = None  # None: every level

    def applies(self, contract_type: ContractType, level: Level) -> bool:
        return contract_type in self.applies_to and (self.levels is None or level in self.levels)


def validate_params(clause: ClauseTemplate, params: BaseModel | dict[str, Any], index: int = 0) -> BaseModel:
    """Parameters as the clause's model, or :class:`ClauseParamsError` for ``clauses[index]``."""
    if isinstance(params, clause.params_model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    try:
        return clause.params_model.model_validate(params)
    except ValidationError as exc:
        errors = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_url=False)]
        raise ClauseParamsError(index, errors) from None


# --- helpers for rules -------------------------------------------------------------------------


def _req(path: str, rule: str, required: Any, actual: Any, met: bool, message: str) -> Requirement:
    return Requirement(term_path=path, rule=rule, required=required, actual=actual, met=met, message=message)


def _at_least(path: str, rule: str, minimum: float, actual: float, what: str) -> Requirement:
    met = actual >= minimum
    return _req(
        path, rule, {"min": minimum}, actual, met, f"{what} must be at least {minimum}; the contract gives {actual}"
    )


def _at_most(path: str, rule: str, maximum: float, actual: float, what: str) -> Requirement:
    met = actual <= maximum
    return _req(
        path, rule, {"max": maximum}, actual, met, f"{what} must be at most {maximum}; the contract gives {actual}"
    )


def _equal(path: str, rule: str, required: Any, actual: Any, what: str) -> Requirement:
    met = actual == required
    return _req(path, rule, required, actual, met, f"{what} must be {required}; the contract gives {actual}")


def _money_at_least(
    path: str, rule: str, minimum: int, actual: int, currency: str, what: str, why: str = ""
) -> Requirement:
    """An amount in minor units that must reach ``minimum``: machine values in minor units, words in money."""
    met = actual >= minimum
    return _req(
        path,
        rule,
        {"min": minimum, "currency": currency},
        actual,
        met,
        f"{what} must be at least {format_money(minimum, currency)}{why}; "
        f"the contract gives {format_money(actual, currency)}",
    )


def _same_currency(path: str, rule: str, required: str, actual: str, what: str) -> Requirement | None:
    if required == actual:
        return None
    return _req(
        path,
        "currency_mismatch",
        required,
        actual,
        False,
        f"currency mismatch: {what} is set in {required}, the clause pays in {actual}",
    )


# --- a. ai_material_disclosure (writer) --------------------------------------------------------


class AIMaterialDisclosureParams(_Frozen):
    disclose_ai_generated_material: bool = Field(
        description="the producer discloses any AI-generated material furnished to the writer"
    )
    ai_material_not_source_material: bool = Field(
        description="AI-generated material is not literary or source material of the writer"
    )


_AI_MATERIAL_DUTIES = {
    "disclose_ai_generated_material": "oblige the producer to disclose AI-generated material",
    "ai_material_not_source_material": "exclude AI-generated material from the writer's source material",
}


def _check_ai_material(p: AIMaterialDisclosureParams, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    return [
        _req(
            f"ai_uses.{use}.policy",
            field,
            True,
            getattr(p, field),
            getattr(p, field) is True,
            f"{use} is {rule.policy}: the clause must {duty}",
        )
        for use, rule in ai_rules(terms, WRITING_USES)
        if rule.policy is not Policy.permitted
        for field, duty in _AI_MATERIAL_DUTIES.items()
    ]


# --- b. no_required_generative_tools (all) -----------------------------------------------------


class NoRequiredToolsParams(_Frozen):
    worker_may_be_required_to_use: bool = Field(description="the worker may be required to use generative AI tools")


class NoRequiredToolsV2Params(_Frozen):
    worker_may_be_required_to_use: bool = Field(description="the worker may be required to use generative AI tools")
    displacing_tools_excluded: bool = Field(
        description="the worker is never required to prompt or operate tools that displace covered crew"
    )


def _check_no_required_tools(p: Any, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    out = [
        _equal(
            f"ai_uses.{use}.worker_may_be_required_to_use",
            "no_required_use",
            False,
            p.worker_may_be_required_to_use,
            f"whether the worker may be required to use {use}",
        )
        for use, rule in ai_rules(terms, AIUse)
        if not rule.worker_may_be_required_to_use
    ]
    if terms.ai_tools is not None and terms.ai_tools.required_prompting_of_displacing_tools_prohibited:
        # a clause that requires no tool at all excludes displacing tools too
        excluded = not p.worker_may_be_required_to_use or bool(getattr(p, "displacing_tools_excluded", False))
        out.append(
            _req(
                "ai_tools.required_prompting_of_displacing_tools_prohibited",
                "no_required_displacing_tools",
                "excluded",
                "excluded" if excluded else "not excluded",
                excluded,
                "the worker may not be required to prompt or operate AI tools that displace covered crew: "
                "the clause must exclude them (version 2 states it) or require no tool at all",
            )
        )
    return out


# --- b2. ai_tool_kit_rental (all) ----------------------------------------------------------------


class AIToolKitRentalParams(_Frozen, MajorUnits):
    major_units: ClassVar[MajorPairs] = {"rate_per_week": ("rate_minor_per_week", "currency")}

    tools: Text = Field(min_length=2, max_length=2000, description="the worker's own AI tools the production rents")
    rate_minor_per_week: Int8 = Field(ge=0, le=MAX_MINOR, description="rental, in integer minor units per week")
    currency: CurrencyCode
    supplied_at_workers_choice: bool = Field(
        description="the worker chooses to supply the tools; supplying them is not a condition of engagement"
    )


def _check_kit_rental(p: AIToolKitRentalParams, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    limits = terms.ai_tools
    if limits is None:
        return []
    out = [
        _equal(
            "ai_tools.kit_rental_permitted",
            "kit_rental_permitted",
            True,
            limits.kit_rental_permitted,
            "whether the compact permits crew to rent their own AI tools to the production",
        )
    ]
    if limits.min_kit_rental_minor_per_week is not None and limits.kit_rental_currency is not None:
        mismatch = _same_currency(
            "ai_tools.kit_rental_currency", "currency_mismatch", limits.kit_rental_currency, p.currency, "the rental"
        )
        out.append(
            mismatch
            or _money_at_least(
                "ai_tools.min_kit_rental_minor_per_week",
                "kit_rental_rate",
                limits.min_kit_rental_minor_per_week,
                p.rate_minor_per_week,
                p.currency,
                "the kit rental per week",
            )
        )
    return out


def _kit_rental_consistency(p: AIToolKitRentalParams, ctx: ContractContext) -> list[Requirement]:
    return [
        _equal(
            "contract.kit_rental",
            "kit_at_workers_choice",
            True,
            p.supplied_at_workers_choice,
            "whether supplying the tools is the worker's choice (a rental is never a condition of engagement)",
        )
    ]


# --- c. digital_replica_consent (v1: performer; v2: anyone, pay in money) ----------------------


class DigitalReplicaConsentParams(_Frozen):
    notice_hours: Int4 = Field(ge=0, le=8760, description="notice before a scan, session or use, in hours")
    consent_scope: ConsentScope = Field(description="what one consent covers")
    use_description: Text = Field(
        min_length=20, max_length=FREE_TEXT_MAX, description="the intended use, described to the performer"
    )
    pay_multiple_of_scale: Real = Field(ge=0, le=100, description="replica pay as a multiple of scale")
    separate_signature: bool = Field(description="consent is signed separately from the rest of the contract")


class DigitalReplicaConsentV2Params(_Frozen, MajorUnits):
    """Consent of anyone whose likeness or voice is replicated (performer, crew or writer), pay stated in money."""

    major_units: ClassVar[MajorPairs] = {
        "scale_per_day": ("scale_minor_per_day", "currency"),
        "replica_pay_per_day": ("replica_pay_minor_per_day", "currency"),
    }

    notice_hours: Int4 = Field(ge=0, le=8760, description="notice before a scan, session or use, in hours")
    consent_scope: ConsentScope = Field(description="what one consent covers")
    use_description: Text = Field(
        min_length=20, max_length=FREE_TEXT_MAX, description="the intended use, described to the person"
    )
    scale_minor_per_day: Int8 = Field(
        ge=0, le=MAX_MINOR, description="the scale rate for the person's role, in integer minor units per day"
    )
    replica_pay_minor_per_day: Int8 = Field(
        ge=0, le=MAX_MINOR, description="pay per day of work performed by the replica, in integer minor units"
    )
    currency: CurrencyCode
    separate_signature: bool = Field(description="consent is signed separately from the rest of the contract")


def _covered_likeness(ctx: ContractContext) -> list[AIUse]:
    """The likeness uses a consent clause answers: the replica itself, and voice/de-ageing when planned."""
    return [u for u in LIKENESS_USES if u is AIUse.performer_digital_replica or u in ctx.planned_ai_uses]


def _replica_pay(rule: AIUseRule, use: AIUse, p: Any, base: str) -> list[Requirement]:
    """Replica pay against the rule: a multiple of scale (v1), or money against the scale (v2)."""
    if isinstance(p, DigitalReplicaConsentParams):
        if rule.replica_pay_multiple_of_scale is None:
            return []
        return [
            _at_least(
                f"{base}.replica_pay_multiple_of_scale",
                "replica_pay",
                rule.replica_pay_multiple_of_scale,
                p.pay_multiple_of_scale,
                f"pay for {use} (multiple of scale)",
            )
        ]
    assert isinstance(p, DigitalReplicaConsentV2Params)
    out: list[Requirement] = []
    if rule.replica_scale_minor_per_day is not None and rule.replica_scale_currency is not None:
        mismatch = _same_currency(
            f"{base}.replica_scale_currency", "currency_mismatch", rule.replica_scale_currency, p.currency, "scale"
        )
        if mismatch is not None:
            return [mismatch]
        out.append(
            _money_at_least(
                f"{base}.replica_scale_minor_per_day",
                "replica_scale",
                rule.replica_scale_minor_per_day,
                p.scale_minor_per_day,
                p.currency,
                f"the scale stated for {use} (per day)",
            )
        )
    multiple = rule.replica_pay_multiple_of_scale
    if multiple is not None:
        scale = max(p.scale_minor_per_day, rule.replica_scale_minor_per_day or 0)
        required = math.ceil(Fraction(str(multiple)) * scale)
        out.append(
            _money_at_least(
                f"{base}.replica_pay_multiple_of_scale",
                "replica_pay",
                required,
                p.replica_pay_minor_per_day,
                p.currency,
                f"pay per day of replica work for {use}",
                f" ({multiple:g} × scale of {format_money(scale, p.currency)})",
            )
        )
    return out


def _check_replica_consent(p: Any, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    """Against the replica rule, and the voice-clone and de-ageing rules when those are planned."""
    out: list[Requirement] = []
    for use, rule in ai_rules(terms, _covered_likeness(ctx)):
        base = f"ai_uses.{use}"
        if rule.policy is Policy.prohibited:
            planned = use in ctx.planned_ai_uses
            out.append(
                _req(
                    f"{base}.policy",
                    "planned_use_prohibited",
                    "not planned",
                    "planned" if planned else "not planned",
                    not planned,
                    f"{use} is prohibited: no consent can authorise it for this production",
                )
            )
        elif rule.policy is Policy.consent_required:
            if rule.consent_notice_hours is not None:
                out.append(
                    _at_least(
                        f"{base}.consent_notice_hours",
                        "consent_notice",
                        rule.consent_notice_hours,
                        p.notice_hours,
                        f"notice before {use} (hours)",
                    )
                )
            if rule.consent_scope is ConsentScope.per_use:
                out.append(
                    _equal(
                        f"{base}.consent_scope",
                        "consent_scope",
                        "per_use",
                        str(p.consent_scope),
                        f"the scope of one consent to {use}",
                    )
                )
            elif rule.consent_scope is ConsentScope.per_project:
                out.append(
                    _req(
                        f"{base}.consent_scope",
                        "consent_scope",
                        {"one_of": ["per_use", "per_project"]},
                        str(p.consent_scope),
                        True,
                        "per_use and per_project both satisfy a per_project rule",
                    )
                )
            out += _replica_pay(rule, use, p, base)
            out.append(
                _equal(
                    f"{base}.policy",
                    "separate_consent_signature",
                    True,
                    p.separate_signature,
                    f"{use} needs consent: a separate signature on the consent",
                )
            )
    return out


def _replica_consent_consistency(p: DigitalReplicaConsentV2Params, ctx: ContractContext) -> list[Requirement]:
    return [
        _equal(
            "contract.currency",
            "currency_matches_contract",
            ctx.currency,
            p.currency,
            "the replica pay's currency (the contract's currency)",
        )
    ]


# --- d. voice_likeness_licence (v1: performer; v2: anyone, perpetual expressible) ---------------


class VoiceLikenessLicenceParams(_Frozen):
    includes_voice: bool = Field(description="the licence covers a synthetic reproduction of the voice")
    exclusive: bool = Field(description="the licence is exclusive to the producer")
    duration_months: Int4 = Field(ge=1, le=120, description="licence term, in months (1..120)")
    territory: Text = Field(min_length=2, max_length=200, description="territory of the licence, e.g. Worldwide")


class VoiceLikenessLicenceV2Params(_Frozen):
    includes_voice: bool = Field(description="the licence covers a synthetic reproduction of the voice")
    exclusive: bool = Field(description="the licence is exclusive to the producer")
    perpetual: bool = Field(default=False, description="the licence has no end (then no duration_months)")
    duration_months: Int4 | None = Field(
        default=None, ge=1, le=1200, description="licence term, in months (1..1200); null only when perpetual"
    )
    territory: Text = Field(min_length=2, max_length=200, description="territory of the licence, e.g. Worldwide")

    @model_validator(mode="after")
    def _term(self) -> VoiceLikenessLicenceV2Params:
        if self.perpetual == (self.duration_months is not None):
            raise PydanticCustomError(
                "licence_term", "give duration_months, or perpetual: true (not both, not neither)"
            )
        return self


def _check_voice_licence(p: Any, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    # consent_required for voice_clone is answered by digital_replica_consent, which compliance requires
    out = [
        _equal(
            f"ai_uses.{use}.policy",
            "voice_clone_prohibited",
            False,
            p.includes_voice,
            "whether the licence includes the voice (voice_clone is prohibited)",
        )
        for use, rule in ai_rules(terms, [AIUse.voice_clone])
        if rule.policy is Policy.prohibited
    ]
    limits = terms.likeness_licence
    if limits is None:
        return out
    if not limits.exclusive_permitted:
        out.append(
            _equal(
                "likeness_licence.exclusive_permitted",
                "licence_exclusive",
                False,
                p.exclusive,
                "whether the licence is exclusive (the compact permits only non-exclusive licences)",
            )
        )
    perpetual = bool(getattr(p, "perpetual", False))
    if perpetual and not limits.perpetual_permitted:
        limit = (
            f"at most {limits.max_duration_months} months"
            if limits.max_duration_months is not None
            else "a licence with an end"
        )
        out.append(
            _req(
                "likeness_licence.perpetual_permitted"
                if limits.max_duration_months is None
                else "likeness_licence.max_duration_months",
                "licence_duration",
                {"max": limits.max_duration_months} if limits.max_duration_months is not None else "not perpetual",
                "perpetual",
                False,
                f"the licence term must be {limit}; the contract grants a perpetual licence",
            )
        )
    elif not perpetual and limits.max_duration_months is not None:
        out.append(
            _at_most(
                "likeness_licence.max_duration_months",
                "licence_duration",
                limits.max_duration_months,
                p.duration_months,
                "the licence term (months)",
            )
        )
    return out


def _voice_licence_consistency(p: Any, ctx: ContractContext) -> list[Requirement]:
    planned = AIUse.voice_clone in ctx.planned_ai_uses
    return [
        _equal(
            "contract.planned_ai_uses",
            "voice_matches_plan",
            planned,
            p.includes_voice,
            "includes_voice (it must match whether a voice clone is planned)",
        )
    ]


# --- e. no_scan_condition_of_hire (v1: performer; v2: anyone) -----------------------------------


class NoScanConditionParams(_Frozen):
    consent_is_condition_of_hire: bool = Field(description="consent to scans or replicas is a condition of hire")


_CONSENT_POLICIES = frozenset({Policy.prohibited, Policy.consent_required})


def forbids_condition_of_hire(rule: AIUseRule) -> bool:
    """A likeness rule under which consent may not be made a condition of hire."""
    return rule.policy in _CONSENT_POLICIES and not rule.consent_may_be_condition_of_hire


def _check_no_scan_condition(p: NoScanConditionParams, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    return [
        _equal(
            f"ai_uses.{use}.consent_may_be_condition_of_hire",
            "consent_not_condition_of_hire",
            False,
            p.consent_is_condition_of_hire,
            f"whether consent to {use} is a condition of hire",
        )
        for use, rule in ai_rules(terms, LIKENESS_USES)
        if forbids_condition_of_hire(rule)
    ]


# --- f. no_training_ingestion (all) ------------------------------------------------------------


class NoTrainingIngestionParams(_Frozen):
    ingestion_without_licence_permitted: bool = Field(
        description="the worker's material may be ingested into AI training sets without a licence"
    )


def _check_no_ingestion(p: NoTrainingIngestionParams, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    if not terms.training_data.ingestion_without_licence_prohibited:
        return []
    return [
        _equal(
            "training_data.ingestion_without_licence_prohibited",
            "no_unlicensed_ingestion",
            False,
            p.ingestion_without_licence_permitted,
            "whether ingestion without a licence is permitted",
        )
    ]


# --- g. apprenticeship_placement (crew, apprentice or trainee) ---------------------------------


class ApprenticeshipPlacementParams(_Frozen, MajorUnits):
    major_units: ClassVar[MajorPairs] = {"rate_per_week": ("rate_minor_per_week", "currency")}

    rate_minor_per_week: Int8 = Field(ge=0, le=MAX_MINOR, description="apprentice pay, in integer minor units per week")
    currency: CurrencyCode
    weeks: Int4 = Field(ge=1, le=MAX_WEEKS, description="placement length, in weeks")
    mentor_required: bool = Field(description="the apprentice has a named mentor")


def _check_apprenticeship(p: ApprenticeshipPlacementParams, terms: Terms, ctx: ContractContext) -> list[Requirement]:
    out: list[Requirement] = []
    for i, rule in applicable_quota_rules(terms, ctx.department, ctx.production_budget_minor, ctx.budget_currency):
        base = f"apprenticeship[{i}]"
        if p.currency != rule.currency:
            out.append(
                _req(
                    f"{base}.min_rate_minor_per_week",
                    "currency_mismatch",
                    rule.currency,
                    p.currency,
                    False,
                    f"currency mismatch: the minimum rate is set in {rule.currency}, the clause pays in {p.currency}",
                )
            )
        else:
            out.append(
                _money_at_least(
                    f"{base}.min_rate_minor_per_week",
                    "min_rate",
                    rule.min_rate_minor_per_week,
                    p.rate_minor_per_week,
                    rule.currency,
                    "apprentice pay per week",
                )
            )
        out.append(_at_least(f"{base}.min_weeks", "min_weeks", rule.min_weeks, p.weeks, "placement length (weeks)"))
        if rule.max_weeks is not None:
            out.append(_at_most(f"{base}.max_weeks", "max_weeks", rule.max_weeks, p.weeks, "placement length (weeks)"))
        if rule.mentor_required:
            path = f"{base}.mentor_required"
            mentor_dept = None if ctx.mentor_department is None else str(ctx.mentor_department)
            mentor_level = None if ctx.mentor_level is None else str(ctx.mentor_level)
            out += [
                _equal(path, "mentor_clause", True, p.mentor_required, "whether the clause provides a mentor"),
                _req(
                    path,
                    "mentor_level",
                    {"min": str(Level.journey)},
                    mentor_level,
                    ctx.mentor.journey_or_above,
                    f"the mentor must be journey level or above; the contract names {mentor_level or 'no mentor'}",
                ),
                _req(
                    path,
                    "mentor_department",
                    str(ctx.department),
                    mentor_dept,
                    ctx.mentor.same_department,
                    f"the mentor's department must be {ctx.department}; the contract gives {mentor_dept}",
                ),
            ]
    return out


def _apprenticeship_consistency(p: ApprenticeshipPlacementParams, ctx: ContractContext) -> list[Requirement]:
    out = _rate_consistency(p, ctx)
    if p.mentor_required:
        out.append(
            _req(
                "contract.mentor",
                "mentor_named",
                "a journey-level (or above) mentor of the same department",
                {"level": ctx.mentor_level, "department": ctx.mentor_department},
                ctx.has_qualified_mentor,
                "the clause promises a mentor: the contract must name one of journey level or above "
                "from the apprentice's department",
            )
        )
    return out


# --- h. fees_and_schedule (all) ----------------------------------------------------------------


class FeesAndScheduleParams(_Frozen, MajorUnits):
    major_units: ClassVar[MajorPairs] = {"rate_per_week": ("rate_minor_per_week", "currency")}

    rate_minor_per_week: Int8 = Field(ge=0, le=MAX_MINOR, description="pay, in integer minor units per week")
    currency: CurrencyCode
    payment_terms_days: Int4 = Field(ge=1, le=90, description="days from invoice or period end to payment (1..90)")
    schedule: Literal["weekly", "biweekly", "on_delivery"]


def _rate_consistency(
    p: FeesAndScheduleParams | ApprenticeshipPlacementParams, ctx: ContractContext
) -> list[Requirement]:
    return [
        _equal(
            "contract.rate",
            "rate_matches_contract",
            ctx.rate_minor_per_week,
            p.rate_minor_per_week,
            "the clause's weekly rate (the contract's rate)",
        ),
        _equal(
            "contract.currency",
            "currency_matches_contract",
            ctx.currency,
            p.currency,
            "the clause's currency (the contract's currency)",
        ),
    ]


# --- the library -------------------------------------------------------------------------------

_ALL = frozenset(ContractType)
_PERFORMER = frozenset({ContractType.performer})


def _clause(
    key: str,
    version: int,
    title: str,
    applies_to: frozenset[ContractType],
    params: type[BaseModel],
    check: Check,
    **more: Any,
) -> ClauseTemplate:
    return ClauseTemplate(key, version, title, applies_to, params, f"clauses/{key}_v{version}.txt.j2", check, **more)


CLAUSES: dict[tuple[str, int], ClauseTemplate] = {
    (c.key, c.version): c
    for c in (
        _clause(
            "ai_material_disclosure",
            1,
            "AI-Generated Material",
            frozenset({ContractType.writer}),
            AIMaterialDisclosureParams,
            _check_ai_material,
        ),
        _clause(
            "no_required_generative_tools",
            1,
            "No Required Use of Generative AI Tools",
            _ALL,
            NoRequiredToolsParams,
            _check_no_required_tools,
        ),
        _clause(
            "no_required_generative_tools",
            2,
            "No Required Use of Generative AI Tools",
            _ALL,
            NoRequiredToolsV2Params,
            _check_no_required_tools,
        ),
        _clause(
            "ai_tool_kit_rental",
            1,
            "Worker's Own AI Tools: Kit Rental",
            _ALL,
            AIToolKitRentalParams,
            _check_kit_rental,
            consistency=_kit_rental_consistency,
        ),
        _clause(
            "digital_replica_consent",
            1,
            "Digital Replica: Informed Consent and Compensation",
            _PERFORMER,
            DigitalReplicaConsentParams,
            _check_replica_consent,
        ),
        _clause(
            "digital_replica_consent",
            2,
            "Digital Replica: Informed Consent and Compensation",
            _ALL,
            DigitalReplicaConsentV2Params,
            _check_replica_consent,
            consistency=_replica_consent_consistency,
        ),
        _clause(
            "voice_likeness_licence",
            1,
            "Voice and Likeness Licence",
            _PERFORMER,
            VoiceLikenessLicenceParams,
            _check_voice_licence,
            consistency=_voice_licence_consistency,
        ),
        _clause(
            "voice_likeness_licence",
            2,
            "Voice and Likeness Licence",
            _ALL,
            VoiceLikenessLicenceV2Params,
            _check_voice_licence,
            consistency=_voice_licence_consistency,
        ),
        _clause(
            "no_scan_condition_of_hire",
            1,
            "Scans and Replicas Not a Condition of Engagement",
            _PERFORMER,
            NoScanConditionParams,
            _check_no_scan_condition,
        ),
        _clause(
            "no_scan_condition_of_hire",
            2,
            "Scans and Replicas Not a Condition of Engagement",
            _ALL,
            NoScanConditionParams,
            _check_no_scan_condition,
        ),
        _clause(
            "no_training_ingestion",
            1,
            "No Ingestion into AI Training Data Without Licence",
            _ALL,
            NoTrainingIngestionParams,
            _check_no_ingestion,
        ),
        _clause(
            "apprenticeship_placement",
            1,
            "Paid Apprenticeship Placement",
            frozenset({ContractType.crew}),
            ApprenticeshipPlacementParams,
            _check_apprenticeship,
            consistency=_apprenticeship_consistency,
            levels=ENTRY_LEVELS,
        ),
        _clause(
            "fees_and_schedule",
            1,
            "Fees and Payment Schedule",
            _ALL,
            FeesAndScheduleParams,
            _no_requirements,
            consistency=_rate_consistency,
        ),
    )
}


def get_clause(key: str, version: int) -> ClauseTemplate:
    try:
        return CLAUSES[(key, version)]
    except KeyError:
        raise UnknownClause(key, version) from None


def latest(key: str) -> ClauseTemplate:
    versions = [c for (k, _), c in CLAUSES.items() if k == key]
    if not versions:
        raise UnknownClause(key)
    return max(versions, key=lambda c: c.version)


class CustomClauseText(_Frozen):
    """An officer's own plain-text clause; it carries no rule."""

    key: Text = Field(pattern=r"^custom\.[a-z0-9_]{2,60}$", examples=["custom.catering"])
    title: Text = Field(min_length=1, max_length=200)
    text: Text = Field(min_length=1, max_length=20000)


# --- rendering ---------------------------------------------------------------------------------
