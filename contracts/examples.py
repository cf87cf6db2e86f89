"""Realistic request bodies of the contracts API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

ENGAGEMENT_ID = "3f6c1a52-8d4e-4b7a-9c21-5e0d7f9a1b34"  # an engagement of the production (Hana Ito, lead)


def _clause(key: str, **params: Any) -> dict[str, Any]:
    return {"key": key, "version": 1, "params": params}


# A performer's contract under a compact that makes digital replicas subject to consent per use.
CONTRACT_REQUEST: dict[str, Any] = {
    "engagement_id": ENGAGEMENT_ID,
    "contract_type": "performer",
    "planned_ai_uses": ["performer_digital_replica"],
    "clauses": [
        _clause(
            "fees_and_schedule", rate_minor_per_week=250_000, currency="EUR", payment_terms_days=14, schedule="weekly"
        ),
        _clause("no_required_generative_tools", worker_may_be_required_to_use=False),
        _clause("no_training_ingestion", ingestion_without_licence_permitted=False),
        _clause("no_scan_condition_of_hire", consent_is_condition_of_hire=False),
        _clause(
            "digital_replica_consent",
            notice_hours=72,
            consent_scope="per_use",
            pay_multiple_of_scale=1.5,
            use_description="Crowd extension of Mara in the harbour night sequence (scenes 40-44).",
            separate_signature=True,
        ),
    ],
    "custom_clauses": [],
    "notes": "Costume fittings on 22 and 23 February are paid as shooting days.",
}

CUSTOM_CLAUSE: dict[str, Any] = {
    "key": "custom.night_shoot_transport",
    "title": "Transport after night shoots",
    "text": "After any call that wraps between 23:00 and 06:00 the production provides a taxi home "
    "within 50 km of the unit base, at its cost.",
}

# A production company's side letter: it mentions a body scan, so contracts carrying it wait for a review
# against the replica terms by an officer of a party.
SIDE_LETTER: dict[str, Any] = {
    "key": "custom.scan_days",
    "title": "Scan days",
    "text": "The body scan for the crane-fall double is scheduled on a paid prep day, within working hours, "
    "with the Worker's chosen representative present.",
}

CLAUSE_REVIEW: dict[str, Any] = {
    "organization": "blue-harbor-pictures",
    "key": "custom.scan_days",
    "version": 1,
    "party": "screen-performers-guild",
    "term_paths": ["ai_uses.performer_digital_replica.policy"],
    "note": "Scheduling only: consent, notice and pay stay with the typed clauses.",
}

VOID: dict[str, Any] = {"reason": "The role was recast before the shoot; this contract never took effect."}

# --- responses --------------------------------------------------------------------------------------

PDF_VERIFIED: dict[str, Any] = {
    "pdf_sha256": "9f2c4b7e1a0d3c5e8b6a4f2d1c0e9b8a7f6e5d4c3b2a190817263544536271a0",
    "contract_id": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
    "status": "issued",
    "issued_at": "2027-02-15T14:05:00Z",
    "document_sha256": "4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b",
}
