"""Realistic request bodies of the apprenticeship API (shown in the OpenAPI document, sent by its tests)."""

from __future__ import annotations

from typing import Any

# A producer plans the camera department of a EUR 300,000 feature: will one apprentice do, at this pay?
PREVIEW: dict[str, Any] = {
    "budget_minor": 30_000_000,
    "currency": "EUR",
    "shoot_start": "2027-03-01",
    "shoot_end": "2027-05-28",
    "roster": [
        {
            "person_name": "Luis Ortega",
            "department": "camera",
            "level": "head",
            "rate_minor_per_week": 320_000,
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-05-28",
        },
        {
            "person_name": "June Park",
            "department": "camera",
            "level": "apprentice",
            "rate_minor_per_week": 65_000,
            "currency": "EUR",
            "start_date": "2027-03-01",
            "end_date": "2027-05-28",
            "mentor_person_name": "Luis Ortega",
        },
    ],
}
# Only what changes: the production's budget, currency and shoot dates fill the rest.
PREVIEW_ROSTER_ONLY: dict[str, Any] = {"roster": PREVIEW["roster"][:1]}
