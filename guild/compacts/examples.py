"""Realistic request bodies of the compacts API, as a convening guild's officers would write them.

The OpenAPI document shows them (handlers reference them in ``opt``) and the tests send them, so a
sample in the documentation is one the API accepts. Plain JSON values: no imports of the framework.
"""

from __future__ import annotations

from typing import Any

# A complete terms document: every section filled. A three-party compact of a performers' guild, a
# writers' guild and a VFX crew union for independent features shot in Bavaria, in euros.
TERMS: dict[str, Any] = {
    "schema_version": 1,
    "quorum": 2,
    "ai_disclosure": {
        "max_ai_share_pct": 20.0,
        "category_weights": {
            "vfx_shot": 5.0,
            "script_page": 3.0,
            "music_cue": 2.0,
            "background_plate": 2.0,
            "dialogue_line": 1.0,
            "concept_art": 1.0,
            "storyboard_frame": 0.5,
            "edit_decision": 0.5,
            "title_graphic": 0.5,
            "sound_effect": 0.25,
        },
        "festival_disclosure_required": True,
    },
    "ai_uses": {
        "script_generation": {
            "policy": "prohibited",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "literary_material_generation": {
            "policy": "prohibited",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "training_on_production_footage": {
            "policy": "prohibited",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "performer_digital_replica": {
            "policy": "consent_required",
            "consent_notice_hours": 48,
            "consent_scope": "per_use",
            "replica_pay_multiple_of_scale": 1.0,
            "replica_scale_minor_per_day": 150000,
            "replica_scale_currency": "EUR",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "voice_clone": {
            "policy": "consent_required",
            "consent_notice_hours": 48,
            "consent_scope": "per_use",
            "replica_pay_multiple_of_scale": 1.0,
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "de_ageing": {
            "policy": "consent_required",
            "consent_notice_hours": 48,
            "consent_scope": "per_project",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "synthetic_performer": {
            "policy": "disclosure_required",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "storyboard_generation": {
            "policy": "disclosure_required",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "music_generation": {
            "policy": "disclosure_required",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "vfx_generation": {
            "policy": "disclosure_required",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "rotoscoping": {
            "policy": "permitted",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "colour_grading": {
            "policy": "permitted",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "editing_assist": {
            "policy": "permitted",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
        "subtitle_translation": {
            "policy": "permitted",
            "worker_may_be_required_to_use": False,
            "consent_may_be_condition_of_hire": False,
        },
    },
    "likeness_licence": {"exclusive_permitted": False, "max_duration_months": 24, "perpetual_permitted": False},
    "ai_tools": {
        "kit_rental_permitted": True,
        "min_kit_rental_minor_per_week": 5000,
        "kit_rental_currency": "EUR",
        "required_prompting_of_displacing_tools_prohibited": True,
    },
    "training_data": {
        "ingestion_without_licence_prohibited": True,
        "fee_schedule": [
            {"amount_minor": 25000, "currency": "EUR", "basis": "per_work", "period": "year"},
            {"amount_minor": 1500, "currency": "EUR", "basis": "per_title_minute", "period": "quarter"},
        ],
    },
    "apprenticeship": [
        {
            "department": "camera",
            "direction": "minimum",
            "budget_min_minor": 0,
            "budget_max_minor": 50000000,
            "currency": "EUR",
            "min_apprentices": 1,
            "ratio_schedule": [],
            "min_rate_minor_per_week": 60000,
            "min_weeks": 4,
            "max_weeks": 26,
            "mentor_required": True,
            "max_reimbursed_placements": 1,
        },
        {
            "department": "camera",
            "direction": "minimum",
            "budget_min_minor": 50000000,
            "currency": "EUR",
            "min_apprentices": 2,
            "ratio_schedule": [
                {"first_journey": 1, "per_journey": 1, "partial_group_counts": False},
                {"first_journey": 2, "per_journey": 3, "partial_group_counts": False},
            ],
            "min_rate_minor_per_week": 75000,
            "min_weeks": 6,
            "max_weeks": 52,
            "mentor_required": True,
            "max_reimbursed_placements": 2,
        },
        {
            "department": "editing",
            "direction": "minimum",
            "budget_min_minor": 20000000,
            "currency": "EUR",
            "min_apprentices": 1,
            "ratio_schedule": [{"first_journey": 1, "per_journey": 4, "partial_group_counts": False}],
            "min_rate_minor_per_week": 60000,
            "min_weeks": 8,
            "mentor_required": True,
        },
        {
            "department": "vfx",
            "direction": "minimum",
            "budget_min_minor": 100000000,
            "currency": "EUR",
            "min_apprentices": 2,
            "ratio_schedule": [{"first_journey": 1, "per_journey": 5, "partial_group_counts": False}],
            "min_rate_minor_per_week": 70000,
            "min_weeks": 12,
            "max_weeks": 52,
            "mentor_required": True,
        },
    ],
    "apprenticeship_commitments": [
        {
            "key": "skills_plan",
            "title": "Apprenticeship skills plan filed",
            "anchor": "shoot_start",
            "offset_working_days": -10,
        },
        {
            "key": "final_plan",
            "title": "Final placement plan filed",
            "anchor": "shoot_start",
            "offset_weeks": 2,
            "min_shoot_weeks": 6,
        },
        {
            "key": "short_shoot_plan",
            "title": "Placement plan filed (shoots of five weeks or less)",
            "anchor": "shoot_start",
            "offset_working_days": -5,
            "max_shoot_weeks": 5,
        },
        {
            "key": "completion_reports",
            "title": "Apprentice completion reports filed",
            "anchor": "shoot_end",
            "offset_working_days": 15,
        },
    ],
    "working_calendar": {"country": "DE", "subdivision": "BY"},
    "certification": {
        "human_produced_max_ai_share_pct": 5.0,
        "validity_days": 365,
        "prohibited_uses_must_be_absent": True,
    },
    "compliance": {"cron": "0 6 * * mon", "grace_period_days": 14, "escalate_after_days": 30},
}

COMPACT_CREATE: dict[str, Any] = {
    "slug": "ai-and-apprenticeship-2027",
    "title": "Independent Film AI & Apprenticeship Compact 2027",
    "convening_org": "screen-performers-guild",
    "parties": ["writers-guild-indie", "vfx-crew-union"],
    "terms": TERMS,
}

# Editing a draft: the whole terms document again (here with a lower AI share) and the signatories.
DRAFT_UPDATE: dict[str, Any] = {
    "terms": {**TERMS, "ai_disclosure": {**TERMS["ai_disclosure"], "max_ai_share_pct": 15.0}},
    "parties": ["writers-guild-indie", "vfx-crew-union"],
}

AMENDMENT_CREATE: dict[str, Any] = {
    "terms": {**TERMS, "ai_disclosure": {**TERMS["ai_disclosure"], "max_ai_share_pct": 15.0}},
}
AMENDMENT_COPY: dict[str, Any] = {}  # no terms: the draft starts as a copy of the version in force

DECISION_APPROVE: dict[str, Any] = {
    "organization": "writers-guild-indie",
    "decision": "approve",
    "reason": "Ratified by the executive board on 12 January; the writing uses stay prohibited.",
}
DECISION_REJECT: dict[str, Any] = {
    "organization": "vfx-crew-union",
    "decision": "reject",
    "reason": "The VFX apprenticeship band should start at EUR 500,000, not EUR 1,000,000.",
}

WITHDRAW: dict[str, Any] = {
    "reason": "Superseded by the draft agreed at the March plenary; we will propose that one instead.",
}
