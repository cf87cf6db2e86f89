"""Realistic request bodies of the productions API (shown in the OpenAPI document, sent by its tests):
a production company's producer registers a feature, binds it to a compact and enters its roster."""

from __future__ import annotations

from typing import Any

from guild.compacts.terms import AssetCategory, Department
from guild.domain.work import Level


def _one_of(values: Any) -> str:
    names = [str(v) for v in values]
    return ", ".join(names[:-1]) + " or " + names[-1]


PRODUCTION_CREATE: dict[str, Any] = {
    "company": "blue-harbor-pictures",
    "title": "Harbour Lights",
    "budget": "300000.00",
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-06-30",
    "status": "pre_production",
}
PRODUCTION_CREATE_MINOR: dict[str, Any] = {
    "company": "blue-harbor-pictures",
    "title": "The Quiet Tide (short)",
    "budget_minor": 4_500_000,
    "currency": "EUR",
}

PRODUCTION_UPDATE: dict[str, Any] = {"status": "shooting", "end_date": "2027-07-09"}

BINDING_CREATE: dict[str, Any] = {"compact": "ai-and-apprenticeship-2027", "version": 1}

MENTOR_ENGAGEMENT_ID = "9b2f4c1e-6a3d-4e8f-b5c7-1d0e2f3a4b5c"  # an engagement of the production (the DoP)

ENGAGEMENT_CREATE: dict[str, Any] = {
    "person_name": "Hana Ito",
    "email": "hana.ito@performers.example",
    "department": "production",
    "role": "Lead (Mara)",
    "level": "journey",
    "rate_per_week": "2500.00",
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-05-28",
    "external_ref": "cast-0001",
}
ENGAGEMENT_APPRENTICE: dict[str, Any] = {
    "person_name": "June Park",
    "email": "june.park@crew.example",
    "department": "camera",
    "role": "Camera apprentice",
    "level": "apprentice",
    "rate_minor_per_week": 65_000,
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-05-28",
    "mentor_engagement_id": MENTOR_ENGAGEMENT_ID,
    "external_ref": "crew-0042",
}

ENGAGEMENT_UPDATE: dict[str, Any] = {"rate_per_week": "2650.00", "end_date": "2027-06-04"}
ENGAGEMENT_END_EARLY: dict[str, Any] = {"end_date": "2027-04-16"}

DISCLOSURE_SET: dict[str, Any] = {
    "disclosures": [
        {
            "category": "vfx_shot",
            "total_count": 180,
            "ai_generated_count": 22,
            "tools": ["rotoscoping assist", "sky replacement"],
            "evidence_notes": "Shot list v7 with the vendor's AI log, 14 May.",
        },
        {"category": "script_page", "total_count": 104, "ai_generated_count": 0},
        {"category": "music_cue", "total_count": 31, "ai_generated_count": 2, "tools": ["stem separation"]},
    ]
}

# --- imports: a CSV file (header row, any column order) or the same rows as a JSON array ---------------

ROSTER_COLUMNS: dict[str, str] = {
    "person_name": "full name as on the contract",
    "email": "e-mail of the member's account (links the engagement to it); empty: none",
    "department": _one_of(Department),
    "role": "the job as credited, e.g. Focus puller",
    "level": _one_of(Level),
    "rate_minor_per_week": "weekly pay in integer minor units (180000); or give rate_per_week",
    "currency": "ISO 4217 code of the pay, e.g. EUR",
    "start_date": "first day, YYYY-MM-DD",
    "end_date": "last day, YYYY-MM-DD (not before start_date)",
    "mentor_person_name": "person_name of the mentor: a row of the same file or an engagement already on the "
    "production; empty: none",
    "rate_per_week": "weekly pay in major units (1800.00); or give rate_minor_per_week",
    "external_ref": "your own id of the engagement (unique on the production): upsert matches rows by it",
}

ROSTER_CSV = (
    "person_name,email,department,role,level,rate_minor_per_week,currency,start_date,end_date,"
    "mentor_person_name,rate_per_week,external_ref\r\n"
    "Luis Ortega,luis.ortega@crew.example,camera,Director of photography,head,,EUR,2027-03-01,2027-05-28,,3200.00,"
    "crew-0001\r\n"
    "Siobhan Walsh,,camera,Focus puller,journey,,EUR,2027-03-01,2027-05-28,,1800.00,crew-0002\r\n"
    "June Park,june.park@crew.example,camera,Camera apprentice,apprentice,65000,EUR,2027-03-01,2027-05-28,"
    "Luis Ortega,,crew-0042\r\n"
)
ROSTER_JSON: list[dict[str, Any]] = [
    {
        "person_name": "Luis Ortega",
        "email": "luis.ortega@crew.example",
        "department": "camera",
        "role": "Director of photography",
        "level": "head",
        "rate_per_week": "3200.00",
        "currency": "EUR",
        "start_date": "2027-03-01",
        "end_date": "2027-05-28",
        "external_ref": "crew-0001",
    },
    {
        "person_name": "June Park",
        "email": "june.park@crew.example",
        "department": "camera",
        "role": "Camera apprentice",
        "level": "apprentice",
        "rate_minor_per_week": 65_000,
        "currency": "EUR",
        "start_date": "2027-03-01",
        "end_date": "2027-05-28",
        "mentor_person_name": "Luis Ortega",
        "external_ref": "crew-0042",
    },
]

DISCLOSURE_COLUMNS: dict[str, str] = {
    "category": f"asset category: {_one_of(AssetCategory)}; each at most once",
    "total_count": "assets of this category in the production",
    "ai_generated_count": "of which generated by AI (not more than total_count)",
    "tools": "AI tools used, separated by semicolons (JSON: an array of names)",
    "evidence_notes": "where the evidence is, e.g. the vendor's log",
}

DISCLOSURES_CSV = (
    "category,total_count,ai_generated_count,tools,evidence_notes\r\n"
    "vfx_shot,180,22,rotoscoping assist;sky replacement,Shot list v7 with the vendor's AI log\r\n"
    "script_page,104,0,,\r\n"
    "music_cue,31,2,stem separation,Composer's session notes\r\n"
)
DISCLOSURES_JSON: list[dict[str, Any]] = DISCLOSURE_SET["disclosures"]

# --- responses --------------------------------------------------------------------------------------

PRODUCTION_READ: dict[str, Any] = {
    "id": "5d0c9e8a-1f2b-4c3d-8e7f-6a5b4c3d2e1f",
    "company": "blue-harbor-pictures",
    "title": "Harbour Lights",
    "budget_minor": 30_000_000,
    "budget": "300000.00",
    "budget_formatted": "EUR 300,000.00",
    "currency": "EUR",
    "start_date": "2027-03-01",
    "end_date": "2027-06-30",
    "status": "pre_production",
    "bindings": [],
    "created_at": "2027-01-12T09:30:00Z",
}

ROSTER_IMPORTED: dict[str, Any] = {"imported": 3, "mode": "append", "created": 3, "updated": 0, "unchanged": 0}
ROSTER_UPSERTED: dict[str, Any] = {"imported": 3, "mode": "upsert", "created": 1, "updated": 1, "unchanged": 1}
DISCLOSURES_IMPORTED: dict[str, Any] = {"imported": 3}
