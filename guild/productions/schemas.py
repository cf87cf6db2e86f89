from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    BaseModel,
    EmailStr,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from guild.compacts.terms import MAX_MINOR, AssetCategory, CurrencyCode, Department
from guild.domain.money import decimals_word, format_money, major_text, parse_major, to_minor
from guild.domain.statuses import ProductionStatus
from guild.domain.values import MAX_VERSION_NUMBER, Day, In, Int4, Int8, Name, NoNul, Out, Slug, Text, fail_at
from guild.domain.work import Level

MinorAmount = Annotated[Int8, Field(ge=0, le=MAX_MINOR, description="integer minor units (e.g. cents)")]


# --- money as people write it ------------------------------------------------------------------------


KnownCurrency = CurrencyCode
"""An ISO 4217 code that is legal tender today (:func:`guild.domain.money.known_currency`, refused as
``currency_unknown``)."""


def _major(value: Any) -> Decimal:
    if not isinstance(value, (str, int, float, Decimal)):
        raise PydanticCustomError("decimal_type", 'an amount is a decimal string or a number, e.g. "1800.00"')
    try:
        return parse_major(value)
    except ValueError as exc:
        raise PydanticCustomError("decimal_amount", "{message}", {"message": str(exc)}) from None


_MAJOR_SCHEMAS: list[dict[str, Any]] = [
    {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*$", "maxLength": 40},
    {"type": "number", "minimum": 0},
]
MajorAmount = Annotated[Decimal, PlainValidator(_major), WithJsonSchema({"anyOf": _MAJOR_SCHEMAS})]
"""A non-negative amount in major units (``"1800.00"``, ``1800``), converted to minor units by the currency's
ISO 4217 exponent once the currency is known (:func:`minor_amount`)."""


def major_field(description: str, example: str) -> Any:
    """An optional major-unit amount field, documented as what it accepts: a decimal string or a number."""
    return Field(
        default=None,
        description=description,
        examples=[example],
        json_schema_extra={"oneOf": [*_MAJOR_SCHEMAS, {"type": "null"}]},
    )


class AmountError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def minor_amount(major: Decimal, currency: str) -> int:
    """``major`` in integer minor units of ``currency``; :class:`AmountError` if it has more decimals than the
    currency (JPY ``1.5``) or exceeds the largest amount guild stores."""
    try:
        minor = to_minor(major, currency)
    except ValueError:
        raise AmountError(
            "money_precision", f"{currency} amounts have {decimals_word(currency)}; {major} has more"
        ) from None
    if minor > MAX_MINOR:
        raise AmountError("less_than_equal", f"at most {format_money(MAX_MINOR, currency)}")
    return minor


def _one_amount(model: BaseModel, minor_name: str, major_name: str, currency: str | None, *, required: bool) -> None:
    """Exactly one of ``major_name`` and ``minor_name`` (at most one unless ``required``); a major amount is
    converted into ``minor_name`` when ``currency`` is given. Refusals name the fields."""
    minor, major = getattr(model, minor_name), getattr(model, major_name)
    if (minor is not None and major is not None) or (required and minor is None and major is None):
        message = (
            f'give exactly one of {major_name} (major units, e.g. "1800.00") and {minor_name} (integer minor units)'
        )
        fail_at(
            type(model), [((major_name,), "one_amount", message, major), ((minor_name,), "one_amount", message, minor)]
        )
    if major is not None and currency is not None:
        try:
            setattr(model, minor_name, minor_amount(major, currency))
        except AmountError as exc:
            fail_at(type(model), [((major_name,), exc.rule, exc.message, str(major))])


def _with_major(data: Any, pairs: tuple[tuple[str, str], ...]) -> Any:
    """Read models: each stored minor amount also as a decimal in major units and as formatted money."""
    if isinstance(data, dict) and data.get("currency") is not None:
        for minor_name, major_name in pairs:
            if data.get(minor_name) is not None and major_name not in data:
                data = {
                    **data,
                    major_name: major_text(data[minor_name], data["currency"]),
                    f"{major_name}_formatted": format_money(data[minor_name], data["currency"]),
                }
    return data


def _end_not_before_start(end: date | None, info: ValidationInfo) -> date | None:
    """``end_date`` field validator: the refusal names ``end_date`` (``start_date`` is validated first)."""
    start = info.data.get("start_date")
    if start is not None and end is not None and end < start:
        raise PydanticCustomError(
            "dates_in_order",
            "end_date ({end}) must not be before start_date ({start})",
            {"end": end.isoformat(), "start": start.isoformat()},
        )
    return end


BUDGET_MINOR = "the production's budget in integer minor units of its currency (cents); or give budget"
BUDGET = (
    'the production\'s budget in major units of its currency, a decimal string or number ("2500000.00"), '
    "with at most the currency's ISO 4217 decimals; or give budget_minor"
)


class ProductionCreate(In):
    """Give the budget as ``budget`` (major units) or as ``budget_minor`` (minor units), not both."""

    company: Slug = Field(description="slug of the production company that owns the production")
    title: Name
    budget_minor: MinorAmount | None = Field(default=None, description=BUDGET_MINOR, examples=[250_000_000])
    budget: MajorAmount | None = major_field(BUDGET, "2500000.00")
    currency: KnownCurrency
    start_date: Day | None = None
    end_date: Day | None = None
    status: ProductionStatus = ProductionStatus.development

    _order = field_validator("end_date")(_end_not_before_start)

    @model_validator(mode="after")
    def _one_budget(self) -> ProductionCreate:
        _one_amount(self, "budget_minor", "budget", self.currency, required=True)
        return self

    @property
    def minor_budget(self) -> int:
        assert self.budget_minor is not None  # set by the validator
        return self.budget_minor


class ProductionUpdate(In):
    """The fields to change (absent = unchanged). Dates may be set to null (not known yet); the others not."""

    title: Name | None = None
    budget_minor: MinorAmount | None = Field(default=None, description=BUDGET_MINOR, examples=[250_000_000])
    budget: MajorAmount | None = major_field(
        BUDGET + " (converted by the currency given with it, or else the production's)", "2500000.00"
    )
    currency: KnownCurrency | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    status: ProductionStatus | None = None

    @field_validator("title", "budget_minor", "budget", "currency", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:  # (only fields that are present are validated)
            raise PydanticCustomError("not_null", "{field} cannot be null", {"field": info.field_name})
        return value

    @model_validator(mode="after")
    def _present(self) -> ProductionUpdate:
        if not self.model_fields_set:
            raise PydanticCustomError("not_empty", "give at least one field to change")
        _one_amount(self, "budget_minor", "budget", None, required=False)  # converted by the service
        return self


class BindingCreate(In):
    compact: Slug
    version: Int4 = Field(ge=1, le=MAX_VERSION_NUMBER, description="a ratified version number of that compact")


class BindingRead(Out):
    compact: str
    version_number: int
    version_hash: str
    bound_at: datetime


class ProductionRead(Out):
    id: UUID
    company: str
    title: str
    budget_minor: int = Field(description="the budget in integer minor units of currency")
    budget: str = Field(description="the budget in major units, with the currency's decimals", examples=["2500000.00"])
    budget_formatted: str = Field(description="the budget as people read it", examples=["EUR 2,500,000.00"])
    currency: str
    start_date: date | None
    end_date: date | None
    status: ProductionStatus
    bindings: list[BindingRead]
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _major(cls, data: Any) -> Any:
        return _with_major(data, (("budget_minor", "budget"),))


RATE_MINOR = "pay per week in integer minor units of currency (cents); or give rate_per_week"
RATE = (
    'pay per week in major units of currency, a decimal string or number ("1800.00"), with at most the '
    "currency's ISO 4217 decimals (JPY none, EUR two, KWD three); or give rate_minor_per_week"
)
ExternalRef = Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
EXTERNAL_REF = (
    "your own stable id for the engagement (crew list or payroll id), unique within the production; "
    "roster imports in upsert mode match rows by it"
)
MENTOR = "an engagement of the same production, journey level or above, same department"
EMAIL = "links the engagement to a member account"


class EngagementCreate(In):
    """Give the pay as ``rate_per_week`` (major units) or as ``rate_minor_per_week`` (minor units), not both."""

    person_name: Name
    email: EmailStr | None = Field(default=None, max_length=254, description=EMAIL)
    department: Department
    role: Name
    level: Level
    rate_minor_per_week: MinorAmount | None = Field(default=None, description=RATE_MINOR, examples=[180_000])
    rate_per_week: MajorAmount | None = major_field(RATE, "1800.00")
    currency: KnownCurrency
    start_date: Day
    end_date: Day
    mentor_engagement_id: UUID | None = Field(default=None, description=MENTOR)
    external_ref: ExternalRef | None = Field(default=None, description=EXTERNAL_REF, examples=["crew-0042"])

    _order = field_validator("end_date")(_end_not_before_start)

    @model_validator(mode="after")
    def _one_rate(self) -> EngagementCreate:
        _one_amount(self, "rate_minor_per_week", "rate_per_week", self.currency, required=True)
        return self

    @property
    def minor_rate(self) -> int:
        assert self.rate_minor_per_week is not None  # set by the validator
        return self.rate_minor_per_week


class EngagementUpdate(In):
    """The fields to correct (absent = unchanged), checked as a whole with the stored ones by the rules of
    creation. ``email``, ``mentor_engagement_id`` and ``external_ref`` may be set to null (unlink, no mentor,
    no id); the others not. A new ``currency`` needs the rate in it too."""

    person_name: Name | None = None
    email: EmailStr | None = Field(default=None, max_length=254, description=EMAIL)
    department: Department | None = None
    role: Name | None = None
    level: Level | None = None
    rate_minor_per_week: MinorAmount | None = Field(default=None, description=RATE_MINOR, examples=[190_000])
    rate_per_week: MajorAmount | None = major_field(
        RATE + " (converted by the currency given with it, or else the engagement's)", "1900.00"
    )
    currency: KnownCurrency | None = None
    start_date: Day | None = None
    end_date: Day | None = Field(default=None, description="to end an engagement early, set its last day here")
    mentor_engagement_id: UUID | None = Field(default=None, description=MENTOR + "; null: no mentor")
    external_ref: ExternalRef | None = Field(default=None, description=EXTERNAL_REF + "; null: none")

    _order = field_validator("end_date")(_end_not_before_start)

    @field_validator(
        "person_name",
        "department",
        "role",
        "level",
        "rate_minor_per_week",
        "rate_per_week",
        "currency",
        "start_date",
        "end_date",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise PydanticCustomError("not_null", "{field} cannot be null", {"field": info.field_name})
        return value

    @model_validator(mode="after")
    def _present(self) -> EngagementUpdate:
        if not self.model_fields_set:
            raise PydanticCustomError("not_empty", "give at least one field to change")
        _one_amount(self, "rate_minor_per_week", "rate_per_week", None, required=False)  # converted by the service
        return self


class EngagementRead(Out):
    id: UUID
    production_id: UUID
    person_name: str
    user_id: UUID | None
    department: Department
    role: str
    level: Level
    rate_minor_per_week: int = Field(description="pay per week in integer minor units of currency")
    rate_per_week: str = Field(
        description="pay per week in major units, with the currency's decimals", examples=["1800.00"]
    )
    rate_per_week_formatted: str = Field(description="pay per week as people read it", examples=["EUR 1,800.00"])
    currency: str
    start_date: date
    end_date: date
    mentor_engagement_id: UUID | None
    external_ref: str | None = Field(description=EXTERNAL_REF)
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _major(cls, data: Any) -> Any:
        return _with_major(data, (("rate_minor_per_week", "rate_per_week"),))


class DisclosureIn(In):
    category: AssetCategory
    total_count: Int4 = Field(ge=0, le=10_000_000, description="assets of this category in the production")
    ai_generated_count: Int4 = Field(ge=0, le=10_000_000, description="of which generated by AI")
    tools: list[Annotated[str, Field(min_length=1, max_length=100), NoNul]] = Field(default_factory=list, max_length=20)
    evidence_notes: Text = Field(default="", max_length=4000)

    @field_validator("tools", mode="before")
    @classmethod
    def _split_csv_tools(cls, value: Any) -> Any:
        return [t.strip() for t in value.split(";") if t.strip()] if isinstance(value, str) else value

    @field_validator("ai_generated_count")
    @classmethod
    def _ai_within_total(cls, value: int, info: ValidationInfo) -> int:
        total = info.data.get("total_count")
        if total is not None and value > total:
            raise PydanticCustomError(
                "ai_count_above_total",
                "ai_generated_count ({ai}) exceeds total_count ({total})",
                {"ai": value, "total": total},
            )
        return value


class DisclosureSet(In):
    disclosures: list[DisclosureIn] = Field(max_length=len(AssetCategory))

    @model_validator(mode="after")
    def _one_per_category(self) -> DisclosureSet:
        first: dict[AssetCategory, int] = {}
        problems: list[tuple[tuple[str | int, ...], str, str, Any]] = []
        for i, d in enumerate(self.disclosures):
            if d.category in first:
                problems.append(
                    (
                        ("disclosures", i, "category"),
                        "category_once",
                        f"category {d.category} already appears at disclosures[{first[d.category]}]",
                        str(d.category),
                    )
                )
            first.setdefault(d.category, i)
        fail_at(type(self), problems)
        return self


class DisclosureRead(Out):
    category: AssetCategory
    total_count: int
    ai_generated_count: int
    tools: list[str]
    evidence_notes: str
    updated_at: datetime


class ImportRowError(Out):
    row: int = Field(description="1-based data row (CSV: the header is row 0)")
    field: str
    rule: str
    message: str


class ImportResult(Out):
    imported: int


class ImportMode(StrEnum):
    """How a roster import treats engagements already on the production."""

    append = "append"  # every row is a new engagement
    upsert = "upsert"  # a row matching an engagement (external_ref, else e-mail) updates it; others are added


class RosterImportResult(Out):
    imported: int = Field(description="rows in the file (created + updated + unchanged)")
    mode: ImportMode
    created: int = Field(description="new engagements")
    updated: int = Field(description="engagements that matched a row and changed")
    unchanged: int = Field(description="engagements that matched a row that says what they already say")


class EngagementImportRow(In):
    """One roster row; ``mentor_person_name`` names a mentor in the same file or already engaged. Pay in
    ``rate_per_week`` (major units, ``1800.00``) or ``rate_minor_per_week`` (minor units, ``180000``)."""

    person_name: Name
    email: EmailStr | None = Field(default=None, max_length=254)
    department: Department
    role: Name
    level: Level
    rate_minor_per_week: MinorAmount | None = None
    currency: KnownCurrency
    start_date: Day
    end_date: Day
    mentor_person_name: Name | None = None
    rate_per_week: MajorAmount | None = None  # (new columns last: files in the old column order still read)
    external_ref: ExternalRef | None = None

    _order = field_validator("end_date")(_end_not_before_start)

    @model_validator(mode="after")
    def _one_rate(self) -> EngagementImportRow:
        _one_amount(self, "rate_minor_per_week", "rate_per_week", self.currency, required=True)
        return self

    @property
    def minor_rate(self) -> int:
        assert self.rate_minor_per_week is not None  # set by the validator
        return self.rate_minor_per_week


ENGAGEMENT_COLUMNS = list(EngagementImportRow.model_fields)
DISCLOSURE_COLUMNS = ["category", "total_count", "ai_generated_count", "tools", "evidence_notes"]
