"""The typed, versioned terms document of a compact version.

Pure rules: stdlib, pydantic, APScheduler's cron parser and the value types of :mod:`guild.domain.values` only
(strict, column-bounded integers; strict floats; text without NUL). Every numeric field carries its
unit in its name and description and has bounds, so a refusal names the field and the limit.
Cross-field rules raise errors located at the offending field, with the rule as the error type.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

import holidays
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from guild.domain.money import MajorPairs, MajorUnits, format_money, known_currency
from guild.domain.values import Int4, Int8, Real, Text, fail_at

SCHEMA_VERSION = 1

MAX_MINOR = 10**15  # upper bound for any amount in integer minor units
MAX_WEEKS = 520


def _currency_in_use(code: str) -> str:
    if not known_currency(code):
        raise PydanticCustomError(
            "currency_unknown", "{code} is not an ISO 4217 currency in use (e.g. EUR, GBP, USD)", {"code": code}
        )
    return code


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code in use, e.g. EUR", examples=["EUR"]),
    AfterValidator(_currency_in_use),
]


class TermsError(ValueError):
    """A terms rule that needs context outside the document (e.g. the number of parties)."""

    def __init__(self, path: str, rule: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.rule = rule
        self.message = message


_Problem = tuple[tuple[str | int, ...], str, str, Any]  # (loc, rule, message, input)


def _raise_if(model: type[BaseModel], problems: list[_Problem]) -> None:
    """Raise one ValidationError whose errors sit at the given field locations.

    Each problem is (loc, rule, message, input); the rule becomes the error type.
    """
    fail_at(model, problems)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --- AI disclosure ---------------------------------------------------------------------------


class AssetCategory(StrEnum):
    vfx_shot = "vfx_shot"
    script_page = "script_page"
    music_cue = "music_cue"
    storyboard_frame = "storyboard_frame"
    dialogue_line = "dialogue_line"
    concept_art = "concept_art"
    sound_effect = "sound_effect"
    edit_decision = "edit_decision"
    title_graphic = "title_graphic"
    background_plate = "background_plate"


CategoryWeight = Annotated[
    Real, Field(gt=0, le=1000, description="relative weight of one asset of this category (dimensionless, >0, <=1000)")
]


def _at_least_one(weights: dict[AssetCategory, float]) -> dict[AssetCategory, float]:
    if not weights:
        raise PydanticCustomError(
            "too_short", "give the weight of at least one asset category", {"min_length": 1, "actual_length": 0}
        )
    return weights


# At least one entry, checked by a validator rather than Field(min_length=1): Litestar documents a
# length-constrained dict as an array, and the API returns an object.
CategoryWeights = Annotated[dict[AssetCategory, CategoryWeight], AfterValidator(_at_least_one)]


class AIDisclosure(_Model):
    max_ai_share_pct: Real = Field(
        ge=0, le=100, description="maximum weighted share of AI-generated assets, in percent (0..100)"
    )
    category_weights: CategoryWeights = Field(
        description="weight of each asset category in the weighted AI share (at least one)",
        json_schema_extra={"minProperties": 1},
    )
    festival_disclosure_required: bool = Field(description="the AI share must be disclosed to festivals")


# --- AI-use rules ----------------------------------------------------------------------------


class AIUse(StrEnum):
    script_generation = "script_generation"
    literary_material_generation = "literary_material_generation"
    performer_digital_replica = "performer_digital_replica"
    voice_clone = "voice_clone"
    de_ageing = "de_ageing"
    rotoscoping = "rotoscoping"
    colour_grading = "colour_grading"
    editing_assist = "editing_assist"
    synthetic_performer = "synthetic_performer"
    training_on_production_footage = "training_on_production_footage"
    storyboard_generation = "storyboard_generation"
    music_generation = "music_generation"
    vfx_generation = "vfx_generation"
    subtitle_translation = "subtitle_translation"


class Policy(StrEnum):
    prohibited = "prohibited"
    consent_required = "consent_required"
    disclosure_required = "disclosure_required"
    permitted = "permitted"


class ConsentScope(StrEnum):
    per_use = "per_use"
    per_project = "per_project"


class AIUseRule(_Model, MajorUnits):
    major_units: ClassVar[MajorPairs] = {
        "replica_scale_per_day": ("replica_scale_minor_per_day", "replica_scale_currency")
    }

    policy: Policy
    consent_notice_hours: Int4 | None = Field(
        default=None, ge=0, le=8760, description="notice before a scan or session, in hours (0..8760)"
    )
    consent_scope: ConsentScope | None = Field(default=None, description="what one consent covers")
    replica_pay_multiple_of_scale: Real | None = Field(
        default=None, ge=0, le=100, description="replica compensation as a multiple of scale pay (0..100)"
    )
    replica_scale_minor_per_day: Int8 | None = Field(
        default=None,
        ge=0,
        le=MAX_MINOR,
        description="the scale rate replica pay multiplies, in integer minor units of replica_scale_currency per "
        "day of replica work; a contract's stated scale may not be lower (null: the contract states the scale)",
        examples=[150_000],
    )
    replica_scale_currency: CurrencyCode | None = Field(
        default=None, description="currency of replica_scale_minor_per_day (required with it)", examples=["EUR"]
    )
    worker_may_be_required_to_use: bool = Field(default=False, description="an employer may require a worker to use it")
    consent_may_be_condition_of_hire: bool = Field(default=False, description="consent may be made a condition of hire")

    @model_validator(mode="after")
    def _policy_parameters(self) -> AIUseRule:
        problems: list[_Problem] = []
        consent = self.policy is Policy.consent_required
        for name in ("consent_notice_hours", "consent_scope"):
            if consent and getattr(self, name) is None:
                problems.append(
                    ((name,), "consent_param_required", f"{name} is required when policy is consent_required", None)
                )
        consent_only = (
            "consent_notice_hours",
            "consent_scope",
            "replica_pay_multiple_of_scale",
            "replica_scale_minor_per_day",
            "replica_scale_currency",
        )
        for name in consent_only:
            value = getattr(self, name)
            if not consent and value is not None:
                problems.append(
                    (
                        (name,),
                        "consent_param_not_allowed",
                        f"{name} is only allowed when policy is consent_required",
                        value,
                    )
                )
        if not consent and self.consent_may_be_condition_of_hire:
            problems.append(
                (
                    ("consent_may_be_condition_of_hire",),
                    "consent_param_not_allowed",
                    "consent_may_be_condition_of_hire is only allowed when policy is consent_required",
                    True,
                )
            )
        if (self.replica_scale_minor_per_day is None) != (self.replica_scale_currency is None):
            problems.append(
                (
                    ("replica_scale_currency",),
                    "scale_with_currency",
                    "give replica_scale_minor_per_day and replica_scale_currency together",
                    self.replica_scale_currency,
                )
            )
        if self.policy is Policy.prohibited and self.worker_may_be_required_to_use:
            problems.append(
                (
                    ("worker_may_be_required_to_use",),
                    "required_use_of_prohibited",
                    "worker_may_be_required_to_use must be false when policy is prohibited",
                    True,
                )
            )
        _raise_if(type(self), problems)
        return self


# --- licences of voice and likeness ----------------------------------------------------------


class LikenessLicence(_Model):
    """What a licence of a person's likeness or voice (clause voice_likeness_licence) may grant.

    E.g. SAG-AFTRA-style terms: non-exclusive only, at most 24 months, never perpetual."""

    exclusive_permitted: bool = Field(description="a licence may be exclusive to the producer", examples=[False])
    max_duration_months: Int4 | None = Field(
        default=None,
        ge=1,
        le=1200,
        description="longest licence term, in months (1..1200); null = no maximum",
        examples=[24],
    )
    perpetual_permitted: bool = Field(
        default=False,
        description="a licence may be perpetual (without end); never, when max_duration_months is set",
        examples=[False],
    )

    @model_validator(mode="after")
    def _perpetual_without_max(self) -> LikenessLicence:
        if self.perpetual_permitted and self.max_duration_months is not None:
            _raise_if(
                type(self),
                [
                    (
                        ("perpetual_permitted",),
                        "perpetual_with_max_duration",
                        "perpetual_permitted must be false when max_duration_months is set",
                        True,
                    )
                ],
            )
        return self


# --- workers' own AI tools ---------------------------------------------------------------------


class AITools(_Model, MajorUnits):
    """Crew who bring their own AI tools, and tools that displace covered crew.

    E.g. a compact lets crew rent their own tools to the production at no less than EUR 50.00 a week
    (clause ai_tool_kit_rental) and forbids requiring anyone to prompt tools that replace covered crew."""

    major_units: ClassVar[MajorPairs] = {
        "min_kit_rental_per_week": ("min_kit_rental_minor_per_week", "kit_rental_currency")
    }

    kit_rental_permitted: bool = Field(
        description="a worker may supply their own AI tools as kit rental (clause ai_tool_kit_rental)",
        examples=[True],
    )
    min_kit_rental_minor_per_week: Int8 | None = Field(
        default=None,
        ge=0,
        le=MAX_MINOR,
        description="lowest kit rental rate, in integer minor units of kit_rental_currency per week; null = none",
        examples=[5_000],
    )
    kit_rental_currency: CurrencyCode | None = Field(
        default=None, description="currency of min_kit_rental_minor_per_week (required with it)", examples=["EUR"]
    )
    required_prompting_of_displacing_tools_prohibited: bool = Field(
        description="no worker may be required to prompt or operate AI tools that displace covered crew",
        examples=[True],
    )

    @model_validator(mode="after")
    def _rate_with_currency(self) -> AITools:
        problems: list[_Problem] = []
        if (self.min_kit_rental_minor_per_week is None) != (self.kit_rental_currency is None):
            problems.append(
                (
                    ("kit_rental_currency",),
                    "rate_with_currency",
                    "give min_kit_rental_minor_per_week and kit_rental_currency together",
                    self.kit_rental_currency,
                )
            )
        if not self.kit_rental_permitted and self.min_kit_rental_minor_per_week is not None:
            problems.append(
                (
                    ("min_kit_rental_minor_per_week",),
                    "rate_without_rental",
                    "min_kit_rental_minor_per_week is only allowed when kit_rental_permitted is true",
                    self.min_kit_rental_minor_per_week,
                )
            )
        _raise_if(type(self), problems)
        return self


# --- training data ---------------------------------------------------------------------------


class FeeBasis(StrEnum):
    per_work = "per_work"
    per_title_minute = "per_title_minute"
    flat = "flat"


class FeePeriod(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


class Fee(_Model, MajorUnits):
    major_units: ClassVar[MajorPairs] = {"amount": ("amount_minor", "currency")}

    amount_minor: Int8 = Field(
        ge=0, le=MAX_MINOR, description="fee per basis unit and period, in integer minor units of currency (e.g. cents)"
    )
    currency: CurrencyCode
    basis: FeeBasis = Field(description="what one amount is charged for")
    period: FeePeriod = Field(description="how often the fee recurs")


class TrainingData(_Model):
    ingestion_without_licence_prohibited: bool = Field(
        description="members' works may not be ingested into training sets without a licence"
    )
    fee_schedule: list[Fee] = Field(description="recurring licence fees paid into the central fund")


# --- apprenticeship --------------------------------------------------------------------------


class Department(StrEnum):
    camera = "camera"
    editing = "editing"
    vfx = "vfx"
    sound = "sound"
    art = "art"
    costume = "costume"
    makeup = "makeup"
    lighting = "lighting"
    grip = "grip"
    production = "production"
    writing = "writing"
    music = "music"
    animation = "animation"
    colour = "colour"


class RatioStep(_Model):
    """One step of a ratio schedule: one apprentice per ``per_journey`` journey-level workers among the
    workers this step covers.

    Number the department's journey-level workers (levels journey, senior, head) 1, 2, 3, ... A step
    covers the workers from its ``first_journey`` up to the worker before the next step's
    ``first_journey`` (the last step: up to the last worker). It gives ``floor(covered / per_journey)``
    apprentices: only **whole** groups count, as the schemes write it ("one apprentice per two journey
    workers" gives nothing for a single worker). With ``partial_group_counts`` a started group counts
    too: ``ceil(covered / per_journey)``. The schedule's number is the sum over its steps.

    Worked example, "one per two for the first four, then one per four more"
    (``[{first_journey: 1, per_journey: 2}, {first_journey: 5, per_journey: 4}]``):
    7 journey-level workers → workers 1-4: floor(4/2) = 2, workers 5-7: floor(3/4) = 0, so 2;
    8 workers → 2 + floor(4/4) = 3; 1 worker → floor(1/2) = 0. With ``partial_group_counts: true`` on
    both steps: 7 → ceil(4/2) + ceil(3/4) = 3; 1 → ceil(1/2) = 1.
    """

    first_journey: Int4 = Field(
        ge=1,
        le=10_000,
        description="journey-level worker count (1-based) at which this step begins; the first step begins at 1",
        examples=[1, 5],
    )
    per_journey: Int4 = Field(
        ge=1,
        le=1000,
        description=(
            "one apprentice per this many journey-level workers within this step (workers, >=1); only whole "
            "groups count unless partial_group_counts"
        ),
        examples=[2, 4],
    )
    partial_group_counts: bool = Field(
        default=False,
        description=(
            "a started group counts as a whole one: ceil(covered / per_journey) instead of "
            "floor(covered / per_journey). Default false: whole groups only (3 workers at one per 2 give 1; "
            "with true, 2)"
        ),
        examples=[False],
    )


class QuotaDirection(StrEnum):
    """Whether a quota rule's number is a floor or a ceiling."""

    minimum = "minimum"  # at least this many apprentices: a finding when short
    maximum = "maximum"  # at most this many apprentices: a finding when over; those over it are not counted


class QuotaRule(_Model, MajorUnits):
    """Apprentices for one department and budget band, and what a placement must be to count.

    The rule's number is ``max(min_apprentices, the ratio schedule's number for the department's
    journey-level workers)`` (the ratio arithmetic: :class:`RatioStep`). ``direction`` says what it
    means: ``minimum`` (default) — at least that many placements must count, a finding when short;
    ``maximum`` — at most that many apprentices (every entry-level placement of the department,
    qualifying or not), a finding when over, and the placements over it (latest start first) are
    neither counted nor reimbursed. So under ``maximum``, ``min_apprentices`` reads "at most N
    apprentices whatever the crew size" and a step ``per_journey: K`` reads "at most one per K
    journey-level workers"; with both, the larger allowance applies.

    Worked example, ``direction: maximum``, ``min_apprentices: 1``, schedule one per two for the first
    four then one per four more: 7 journey-level workers allow max(1, 2 + 0) = 2 apprentices, a third
    is over the maximum; 1 worker allows max(1, 0) = 1.
    """

    major_units: ClassVar[MajorPairs] = {
        "budget_min": ("budget_min_minor", "currency"),
        "budget_max": ("budget_max_minor", "currency"),
        "min_rate_per_week": ("min_rate_minor_per_week", "currency"),
    }

    department: Department
    direction: QuotaDirection = Field(
        default=QuotaDirection.minimum,
        description=(
            "minimum: at least the rule's number of placements must count (finding when short); maximum: at "
            "most that many apprentices (finding when over; placements over it are not counted or reimbursed)"
        ),
        examples=["minimum", "maximum"],
    )
    budget_min_minor: Int8 = Field(
        ge=0, le=MAX_MINOR, description="lower bound of the budget band (inclusive), in integer minor units"
    )
    budget_max_minor: Int8 | None = Field(
        default=None,
        ge=1,
        le=MAX_MINOR,
        description="upper bound of the budget band (exclusive), in integer minor units; null = no ceiling",
    )
    currency: CurrencyCode
    min_apprentices: Int4 = Field(
        ge=0,
        le=1000,
        description=(
            "the rule's count of apprentices whatever the crew size (count, 0..1000): under direction minimum "
            "at least this many, under maximum at most this many (the ratio schedule may raise either)"
        ),
        examples=[1],
    )
    ratio_schedule: list[RatioStep] = Field(
        default_factory=list,
        description=(
            "apprentice-to-journey ratio steps, in order of first_journey; whole groups only unless a step says "
            "partial_group_counts (e.g. one per 2 for the first 4, then one per 4: 7 journey-level workers "
            "-> floor(4/2) + floor(3/4) = 2)"
        ),
        examples=[[{"first_journey": 1, "per_journey": 2}, {"first_journey": 5, "per_journey": 4}]],
    )
    min_rate_minor_per_week: Int8 = Field(
        ge=0, le=MAX_MINOR, description="minimum apprentice pay, in integer minor units per week"
    )
    min_weeks: Int4 = Field(ge=1, le=MAX_WEEKS, description="minimum placement length, in weeks (1..520)")
    max_weeks: Int4 | None = Field(
        default=None, ge=1, le=MAX_WEEKS, description="maximum placement length, in weeks (1..520); null = none"
    )
    mentor_required: bool = Field(description="each apprentice must have a named mentor")
    max_reimbursed_placements: Int4 | None = Field(
        default=None,
        ge=0,
        le=1000,
        description=(
            "placements a fund reimburses (count); every placement claimed uses the cap, qualifying or not, in "
            "order of start date; those beyond it are a finding; null = no limit"
        ),
        examples=[2],
    )

    @model_validator(mode="after")
    def _consistent(self) -> QuotaRule:
        problems: list[_Problem] = []
        if self.budget_max_minor is not None and self.budget_max_minor <= self.budget_min_minor:
            problems.append(
                (
                    ("budget_max_minor",),
                    "budget_band_empty",
                    f"budget_max_minor ({format_money(self.budget_max_minor, self.currency)}) must be greater than "
                    f"budget_min_minor ({format_money(self.budget_min_minor, self.currency)})",
                    self.budget_max_minor,
                )
            )
        if self.max_weeks is not None and self.max_weeks < self.min_weeks:
            problems.append(
                (
                    ("max_weeks",),
                    "max_weeks_below_min_weeks",
                    f"max_weeks ({self.max_weeks}) must be at least min_weeks ({self.min_weeks})",
                    self.max_weeks,
                )
            )
        steps = self.ratio_schedule
        if steps and steps[0].first_journey != 1:
            problems.append(
                (
                    ("ratio_schedule", 0, "first_journey"),
                    "ratio_schedule_start",
                    f"ratio_schedule[0].first_journey must be 1, got {steps[0].first_journey}",
                    steps[0].first_journey,
                )
            )
        for i in range(1, len(steps)):
            if steps[i].first_journey <= steps[i - 1].first_journey:
                problems.append(
                    (
                        ("ratio_schedule", i, "first_journey"),
                        "ratio_schedule_order",
                        f"ratio_schedule[{i}].first_journey ({steps[i].first_journey}) must be greater than "
                        f"ratio_schedule[{i - 1}].first_journey ({steps[i - 1].first_journey})",
                        steps[i].first_journey,
                    )
                )
        _raise_if(type(self), problems)
        return self


# --- certification and compliance cadence ----------------------------------------------------


class CertificationCriteria(_Model):
    human_produced_max_ai_share_pct: Real = Field(
        ge=0, le=100, description="maximum weighted AI share for Human-Produced certification, in percent (0..100)"
    )
    validity_days: Int4 = Field(ge=1, le=3650, description="how long a certificate is valid, in days (1..3650)")
    prohibited_uses_must_be_absent: bool = Field(
        default=True, description="no prohibited AI use may appear in a certified work"
    )


class ComplianceCadence(_Model):
    cron: Text = Field(
        max_length=200,
        description="5-field crontab expression (UTC) for scheduled compliance checks",
        examples=["0 6 * * mon"],
    )
    grace_period_days: Int4 = Field(ge=0, le=365, description="time to remedy a finding before it counts, in days")
    escalate_after_days: Int4 = Field(
        ge=0, le=365, description="days after its due date that a still-open finding escalates (0 = at the due date)"
    )

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"cron must be a 5-field crontab expression: {exc}") from None
        return value


class CommitmentAnchor(StrEnum):
    shoot_start = "shoot_start"
    shoot_end = "shoot_end"


class CommitmentRule(_Model):
    """An apprenticeship obligation with a due date computed from the production's shoot dates.

    E.g. a skills plan 10 working days before the shoot starts; a final plan 2 weeks after it starts,
    only for shoots of at least 6 weeks. Working days skip Saturdays, Sundays and the public holidays of
    the terms' ``working_calendar`` (none when it is null): 2 working days after Monday 16 March 2026
    under ``{country: IE}`` is Thursday 19 March, as Tuesday 17 March is St Patrick's Day.
    """

    key: Text = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$", description="stable identifier, e.g. skills_plan")
    title: Text = Field(min_length=1, max_length=200)
    anchor: CommitmentAnchor = Field(description="the shoot date the offset counts from")
    offset_working_days: Int4 | None = Field(
        default=None,
        ge=-260,
        le=260,
        description=(
            "working days after the anchor (negative: before; -260..260); Saturdays, Sundays and the public "
            "holidays of working_calendar are skipped"
        ),
        examples=[-10],
    )
    offset_weeks: Int4 | None = Field(default=None, ge=-104, le=104, description="calendar weeks after the anchor")
    min_shoot_weeks: Int4 | None = Field(
        default=None, ge=1, le=520, description="applies only to shoots this long or longer, in weeks"
    )
    max_shoot_weeks: Int4 | None = Field(
        default=None, ge=1, le=520, description="applies only to shoots this long or shorter, in weeks"
    )

    @model_validator(mode="after")
    def _one_offset(self) -> CommitmentRule:
        problems: list[_Problem] = []
        if (self.offset_working_days is None) == (self.offset_weeks is None):
            problems.append(
                (
                    ("offset_working_days",),
                    "one_offset",
                    "give exactly one of offset_working_days and offset_weeks",
                    None,
                )
            )
        if self.min_shoot_weeks and self.max_shoot_weeks and self.min_shoot_weeks > self.max_shoot_weeks:
            problems.append(
                (
                    ("max_shoot_weeks",),
                    "weeks_order",
                    "max_shoot_weeks must not be below min_shoot_weeks",
                    self.max_shoot_weeks,
                )
            )
        _raise_if(type(self), problems)
        return self


# --- working calendar ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _supported_calendars() -> dict[str, frozenset[str]]:
    """ISO 3166-1 alpha-2 country → the subdivision codes the ``holidays`` package has calendars for."""
    return {
        country: frozenset(subdivisions)
        for country, subdivisions in holidays.list_supported_countries(include_aliases=False).items()
        if len(country) == 2
    }


class WorkingCalendar(_Model):
    """The jurisdiction whose public holidays working-day deadlines skip, besides Saturdays and Sundays.

    The calendar is the maintained ``holidays`` package's for the country (and subdivision, where a
    holiday is regional: e.g. Epiphany, 6 January, is a holiday in Bavaria, DE-BY, not in Berlin).
    """

    country: Text = Field(
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country code whose national public holidays are not working days",
        examples=["IE", "DE"],
    )
    subdivision: Text | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description=(
            "ISO 3166-2 subdivision code without the country prefix (e.g. BY for DE-BY, Bavaria), whose "
            "regional holidays are not working days either; null = national holidays only"
        ),
        examples=[None, "BY"],
    )

    @model_validator(mode="after")
    def _supported(self) -> WorkingCalendar:
        supported = _supported_calendars()
        problems: list[_Problem] = []
        if self.country not in supported:
            problems.append(
                (
                    ("country",),
                    "unsupported_country",
                    f"no public holiday calendar is known for country {self.country!r} (ISO 3166-1 alpha-2)",
                    self.country,
                )
            )
        elif self.subdivision is not None and self.subdivision not in supported[self.country]:
            known = ", ".join(sorted(supported[self.country])) or "none"
            problems.append(
                (
                    ("subdivision",),
                    "unsupported_subdivision",
                    f"country {self.country} has no subdivision {self.subdivision!r}; known subdivisions: {known}",
                    self.subdivision,
                )
            )
        _raise_if(type(self), problems)
        return self


# --- the document ----------------------------------------------------------------------------


class Terms(_Model):
    schema_version: Literal[1] = 1
    quorum: Int4 | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="number of signatory parties whose approval ratifies (count); null = all parties",
    )
    ai_disclosure: AIDisclosure
    ai_uses: dict[AIUse, AIUseRule]
    likeness_licence: LikenessLicence | None = Field(
        default=None,
        description="limits on licences of voice and likeness (clause voice_likeness_licence); null = no limits",
        examples=[{"exclusive_permitted": False, "max_duration_months": 24, "perpetual_permitted": False}],
    )
    ai_tools: AITools | None = Field(
        default=None,
        description="workers' own AI tools (clause ai_tool_kit_rental) and tools that displace crew; null = no terms",
        examples=[
            {
                "kit_rental_permitted": True,
                "min_kit_rental_per_week": "50.00",
                "kit_rental_currency": "EUR",
                "required_prompting_of_displacing_tools_prohibited": True,
            }
        ],
    )
    training_data: TrainingData
    apprenticeship: list[QuotaRule] = Field(
        title="Apprenticeship quotas", description="apprenticeship quota rules; may be empty"
    )
    apprenticeship_commitments: list[CommitmentRule] = Field(
        default_factory=list, max_length=50, description="obligations with due dates computed from the shoot dates"
    )
    working_calendar: WorkingCalendar | None = Field(
        default=None,
        description=(
            "the jurisdiction whose public holidays apprenticeship_commitments' working days skip, besides "
            "Saturdays and Sundays; null = weekends only"
        ),
        examples=[{"country": "IE", "subdivision": None}, None],
    )
    certification: CertificationCriteria
    compliance: ComplianceCadence

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # True == 1 would pass Literal[1]
            raise PydanticCustomError("literal_error", "Input should be {expected}", {"expected": SCHEMA_VERSION})
        return value

    @model_validator(mode="after")
    def _cross_section(self) -> Terms:
        problems: list[_Problem] = []
        rules = self.apprenticeship
        for j, b in enumerate(rules):
            for i in range(j):
                a = rules[i]
                if (a.department, a.currency) != (b.department, b.currency):
                    continue
                if _overlaps(a, b):
                    problems.append(
                        (
                            ("apprenticeship", j),
                            "apprenticeship_band_overlap",
                            f"apprenticeship[{i}] and apprenticeship[{j}] overlap for department {b.department} "
                            f"in {b.currency}: {_band(a)} and {_band(b)}",
                            None,
                        )
                    )
        cert = self.certification.human_produced_max_ai_share_pct
        limit = self.ai_disclosure.max_ai_share_pct
        if cert > limit:
            problems.append(
                (
                    ("certification", "human_produced_max_ai_share_pct"),
                    "certification_share_above_disclosure_max",
                    f"certification.human_produced_max_ai_share_pct ({cert}) must not exceed "
                    f"ai_disclosure.max_ai_share_pct ({limit})",
                    cert,
                )
            )
        _raise_if(type(self), problems)
        return self


def _overlaps(a: QuotaRule, b: QuotaRule) -> bool:
    a_max = a.budget_max_minor if a.budget_max_minor is not None else float("inf")
    b_max = b.budget_max_minor if b.budget_max_minor is not None else float("inf")
    return a.budget_min_minor < b_max and b.budget_min_minor < a_max


def budget_band(currency: str, low_minor: int, high_minor: int | None) -> str:
    """A budget band in words and money: "EUR 0.00 to under EUR 500,000.00", "EUR 500,000.00 and above"."""
    low = format_money(low_minor, currency)
    return f"{low} and above" if high_minor is None else f"{low} to under {format_money(high_minor, currency)}"


def _band(rule: QuotaRule) -> str:
    return budget_band(rule.currency, rule.budget_min_minor, rule.budget_max_minor)


def load_terms(stored: str | bytes | dict[str, Any] | Terms) -> Terms:
    """The one way a stored terms document (a version's JSON column, as text or decoded) becomes
    :class:`Terms`. Every reader of stored terms goes through here."""
    if isinstance(stored, Terms):
        return stored
    if isinstance(stored, str | bytes):
        return Terms.model_validate_json(stored)
    return Terms.model_validate(stored)


def check_quorum(terms: Terms, party_count: int) -> None:
    """Refuse a quorum that the compact's signatories could never reach."""
    if terms.quorum is not None and terms.quorum > party_count:
        raise TermsError(
            path="quorum",
            rule="quorum_exceeds_parties",
            message=f"quorum ({terms.quorum}) exceeds the number of signatory parties ({party_count})",
        )


def terms_json_schema() -> dict[str, Any]:
    return Terms.model_json_schema()


def example_terms() -> Terms:
    """A realistic full terms document (demo data and tests)."""
    consent = {"policy": Policy.consent_required, "consent_notice_hours": 48}
    return Terms(
        quorum=2,
        ai_disclosure=AIDisclosure(
            max_ai_share_pct=20.0,
            category_weights={
                AssetCategory.vfx_shot: 5.0,
                AssetCategory.script_page: 3.0,
                AssetCategory.music_cue: 2.0,
                AssetCategory.background_plate: 2.0,
                AssetCategory.dialogue_line: 1.0,
                AssetCategory.concept_art: 1.0,
                AssetCategory.storyboard_frame: 0.5,
                AssetCategory.edit_decision: 0.5,
                AssetCategory.title_graphic: 0.5,
                AssetCategory.sound_effect: 0.25,
            },
            festival_disclosure_required=True,
        ),
        ai_uses={
            AIUse.script_generation: AIUseRule(policy=Policy.prohibited),
            AIUse.literary_material_generation: AIUseRule(policy=Policy.prohibited),
            AIUse.training_on_production_footage: AIUseRule(policy=Policy.prohibited),
            AIUse.performer_digital_replica: AIUseRule(
                **consent,
                consent_scope=ConsentScope.per_use,
                replica_pay_multiple_of_scale=1.0,
                replica_scale_minor_per_day=150_000,
                replica_scale_currency="EUR",
            ),
            AIUse.voice_clone: AIUseRule(
                **consent, consent_scope=ConsentScope.per_use, replica_pay_multiple_of_scale=1.0
            ),
            AIUse.de_ageing: AIUseRule(**consent, consent_scope=ConsentScope.per_project),
            AIUse.synthetic_performer: AIUseRule(policy=Policy.disclosure_required),
            AIUse.storyboard_generation: AIUseRule(policy=Policy.disclosure_required),
            AIUse.music_generation: AIUseRule(policy=Policy.disclosure_required),
            AIUse.vfx_generation: AIUseRule(policy=Policy.disclosure_required),
            AIUse.rotoscoping: AIUseRule(policy=Policy.permitted),
            AIUse.colour_grading: AIUseRule(policy=Policy.permitted),
            AIUse.editing_assist: AIUseRule(policy=Policy.permitted),
            AIUse.subtitle_translation: AIUseRule(policy=Policy.permitted),
        },
        likeness_licence=LikenessLicence(exclusive_permitted=False, max_duration_months=24),
        ai_tools=AITools(
            kit_rental_permitted=True,
            min_kit_rental_minor_per_week=5_000,
            kit_rental_currency="EUR",
            required_prompting_of_displacing_tools_prohibited=True,
        ),
        training_data=TrainingData(
            ingestion_without_licence_prohibited=True,
            fee_schedule=[
                Fee(amount_minor=25_000, currency="EUR", basis=FeeBasis.per_work, period=FeePeriod.year),
                Fee(amount_minor=1_500, currency="EUR", basis=FeeBasis.per_title_minute, period=FeePeriod.quarter),
            ],
        ),
        apprenticeship=[
            QuotaRule(
                department=Department.camera,
                budget_min_minor=0,
                budget_max_minor=50_000_000,
                currency="EUR",
                min_apprentices=1,
                min_rate_minor_per_week=60_000,
                min_weeks=4,
                max_weeks=26,
                mentor_required=True,
                max_reimbursed_placements=1,
            ),
            QuotaRule(
                department=Department.camera,
                budget_min_minor=50_000_000,
                currency="EUR",
                min_apprentices=2,
                ratio_schedule=[RatioStep(first_journey=1, per_journey=1), RatioStep(first_journey=2, per_journey=3)],
                min_rate_minor_per_week=75_000,
                min_weeks=6,
                max_weeks=52,
                mentor_required=True,
                max_reimbursed_placements=2,
            ),
            QuotaRule(
                department=Department.editing,
                budget_min_minor=20_000_000,
                currency="EUR",
                min_apprentices=1,
                ratio_schedule=[RatioStep(first_journey=1, per_journey=4)],
                min_rate_minor_per_week=60_000,
                min_weeks=8,
                mentor_required=True,
            ),
            QuotaRule(
                department=Department.vfx,
                budget_min_minor=100_000_000,
                currency="EUR",
                min_apprentices=2,
                ratio_schedule=[RatioStep(first_journey=1, per_journey=5)],
                min_rate_minor_per_week=70_000,
                min_weeks=12,
                max_weeks=52,
                mentor_required=True,
            ),
        ],
        apprenticeship_commitments=[
            CommitmentRule(
                key="skills_plan",
                title="Apprenticeship skills plan filed",
                anchor=CommitmentAnchor.shoot_start,
                offset_working_days=-10,
            ),
            CommitmentRule(
                key="final_plan",
                title="Final placement plan filed",
                anchor=CommitmentAnchor.shoot_start,
                offset_weeks=2,
                min_shoot_weeks=6,
            ),
        ],
        certification=CertificationCriteria(human_produced_max_ai_share_pct=5.0, validity_days=365),
        compliance=ComplianceCadence(cron="0 6 * * mon", grace_period_days=14, escalate_after_days=30),
    )


# Uses that manipulate a performer's likeness: consent to them is given in digital_replica_consent.
LIKENESS_USES = (AIUse.performer_digital_replica, AIUse.voice_clone, AIUse.de_ageing)


# Uses that produce literary material: ai_material_disclosure answers them.
WRITING_USES = (AIUse.script_generation, AIUse.literary_material_generation)


_AI_USES = tuple(AIUse)


def ai_rules(terms: Terms, uses: Iterable[AIUse]) -> list[tuple[AIUse, AIUseRule]]:
    """(use, rule) for the uses the terms have a rule for, in AIUse order."""
    wanted = set(uses)
    return [(use, terms.ai_uses[use]) for use in _AI_USES if use in wanted and use in terms.ai_uses]


def applicable_quota_rules(
    terms: Terms, department: Department | None, budget_minor: int, budget_currency: str
) -> list[tuple[int, QuotaRule]]:
    """(index, rule) of the apprenticeship rules for the department whose band holds the budget."""
    return [
        (i, r)
        for i, r in enumerate(terms.apprenticeship)
        if r.department == department
        and r.currency == budget_currency
        and r.budget_min_minor <= budget_minor
        and (r.budget_max_minor is None or budget_minor < r.budget_max_minor)
    ]
