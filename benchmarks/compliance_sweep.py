"""Compliance sweep benchmark: a full set-based sweep vs one raw SQL pass over the same rows (PostgreSQL).

    .venv/bin/python benchmarks/compliance_sweep.py [--productions 10000] [--engagements 50]
        [--disclosures 10] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--seed 7]
        [--profile auto|always|never] [--keep]

Creates its own database ``guild_bench_sweep_<random>`` on the server of ``--pg-url`` (which must
allow CREATE DATABASE), migrates it, and drops it at the end, also on failure (``--keep`` leaves it).

World: through the services, as the server would build it: one guild, one production company, an
officer and a producer, one compact ratified with ``example_terms()`` (quorum None). Then bulk
seeding through asyncpg COPY (the conventions: large imports go through the driver): N productions
of that company (budgets spread across the terms' apprenticeship bands, EUR), each bound to the
ratified version, ~E engagements each (mostly journey/senior crew, performers and writers; paid,
mentored apprentices in camera and editing, and in vfx on big budgets; a few productions with an
apprentice who has no mentor or a mentor from another department), one disclosure per asset
category (AI share mostly under the maximum, ~10 % over it, ~4 % over twice it), and for ~90 % of
engagements an issued contract whose stored report says compliant against the bound version hash
(a handful plan a likeness use without the consent clause, or a prohibited use), with the fact
columns issuing stores beside the document (``contracts.rules.contract_facts``). Tables are
VACUUM ANALYZEd after seeding, so neither side pays for hint bits or guessed statistics.

Prints:
  - seeding:    rows per table, COPY seconds and rows/s (foreign keys and indexes live, as in production)
  - sweep 1:    seconds of ``sweep_compact`` from the start (opens the findings), with its stats
  - sweep 2:    seconds of a second sweep under a new run (steady state: the findings persist)
  - raw pass:   seconds of ONE SQL statement (asyncpg, all rows fetched) computing the same
                per-production aggregates from the same rows and columns: weighted AI share, engagements
                without an issued contract, contracts not compliant with the bound hash, likeness uses
                without consent, prohibited uses, counted apprentices per quota rule (second of two runs)
  - raw read:   seconds of reading every row the sweep reads to the client (asyncpg, 4 statements over
                all productions: the engine's engagement statement (engagements with mentors and contract
                facts, settled ones counted per department and level), disclosures, productions with
                bindings, open findings), no evaluation: the floor of an engine outside the database
  - ratios:     sweep / raw pass for both sweeps (goal: <= 2), sweep / raw read, productions/s
  - profile:    when a ratio is above 2 (or --profile always): one batch of 500 productions, phase by
                phase (load queries, evaluate, write; the cyclic GC paused as in the sweep), in
                rolled-back transactions; the engagement query on bare asyncpg, fetched vs counted on the
                server (the driver's decoding share), and the same with every engagement listed; the top
                functions of the load and of the evaluation under cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PDF = b"%PDF-1.7 benchmark placeholder"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
CHUNK_PRODUCTIONS = 500  # productions per COPY round (keeps memory flat)

FIRST = [
    "Ada",
    "Bo",
    "Chidi",
    "Dana",
    "Eun",
    "Farah",
    "Gus",
    "Hana",
    "Ilse",
    "Jonas",
    "Kemi",
    "Luca",
    "Mira",
    "Nils",
    "Oona",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sami",
    "Tove",
    "Ugo",
    "Vera",
    "Wim",
    "Xenia",
    "Yara",
    "Zeno",
]
LAST = [
    "Achebe",
    "Berg",
    "Costa",
    "Dahl",
    "Erikson",
    "Fischer",
    "Garcia",
    "Holm",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ulloa",
    "Varga",
]

# budget bands of example_terms() (minor units, EUR): camera < 50M | >= 50M, editing >= 20M, vfx >= 100M
BUDGETS = [
    (5_000_000, 19_000_000, 0.25),
    (20_000_000, 49_000_000, 0.35),
    (50_000_000, 99_000_000, 0.30),
    (100_000_000, 400_000_000, 0.10),
]

# (department, level, contract type, role, weekly rate range) of the crew and cast beyond the core
POOL = [
    ("production", "journey", "performer", "Supporting role", (120_000, 260_000), 10),
    ("production", "senior", "performer", "Lead role", (250_000, 600_000), 3),
    ("production", "journey", "crew", "Production assistant", (90_000, 130_000), 3),
    ("camera", "journey", "crew", "Camera assistant", (140_000, 190_000), 3),
    ("lighting", "journey", "crew", "Electrician", (130_000, 180_000), 4),
    ("lighting", "senior", "crew", "Gaffer", (190_000, 260_000), 1),
    ("grip", "journey", "crew", "Grip", (120_000, 170_000), 3),
    ("sound", "journey", "crew", "Boom operator", (130_000, 180_000), 2),
    ("sound", "senior", "crew", "Production sound mixer", (200_000, 280_000), 1),
    ("art", "journey", "crew", "Props master", (120_000, 170_000), 3),
    ("art", "head", "crew", "Production designer", (250_000, 350_000), 1),
    ("costume", "journey", "crew", "Costume maker", (110_000, 160_000), 2),
    ("makeup", "journey", "crew", "Make-up artist", (110_000, 160_000), 2),
    ("vfx", "journey", "crew", "VFX artist", (150_000, 220_000), 3),
    ("editing", "journey", "crew", "Assistant editor", (130_000, 170_000), 1),
    ("colour", "senior", "crew", "Colourist", (180_000, 260_000), 1),
    ("music", "senior", "crew", "Composer", (200_000, 350_000), 1),
    ("animation", "journey", "crew", "Animator", (140_000, 190_000), 1),
    ("writing", "senior", "writer", "Screenwriter", (200_000, 400_000), 1),
    ("production", "junior", "crew", "Runner", (80_000, 100_000), 2),
]
POOL_WEIGHTS = [p[-1] for p in POOL]

# asset category -> (total count range); every category of example_terms() has a weight
ASSETS = {
    "vfx_shot": (50, 400),
    "script_page": (90, 130),
    "music_cue": (20, 60),
    "storyboard_frame": (200, 1500),
    "dialogue_line": (800, 2000),
    "concept_art": (20, 200),
    "sound_effect": (300, 2000),
    "edit_decision": (1000, 3000),
    "title_graphic": (5, 40),
    "background_plate": (10, 200),
}
TOOLS = ["Runway", "Midjourney", "Stable Diffusion", "ElevenLabs", "Udio", "Firefly"]


def _rate_tuple(rng: random.Random, lo_hi: tuple[int, int]) -> int:
    return rng.randrange(lo_hi[0], lo_hi[1], 500)


# --- the world, through the services ------------------------------------------------------------


async def build_world() -> dict[str, Any]:
    from guild.accounts.schemas import UserCreate
    from guild.accounts.service import create_user, load_principal
    from guild.compacts import service as compacts
    from guild.compacts.schemas import CompactCreate, DecisionCreate
    from guild.compacts.terms import example_terms
    from guild.infra import db
    from guild.infra.settings import get_settings
    from guild.infra.tables import Compact, CompactVersion, Organization
    from guild.orgs.schemas import MembershipCreate, OrganizationCreate
    from guild.orgs.service import add_member, create_organization

    await db.startup(get_settings().model_copy(update={"migrate_on_start": True}))  # pool + migrations
    for slug, kind in [("bench-guild", "guild"), ("bench-company", "production_company")]:
        await create_organization(OrganizationCreate(slug=slug, name=slug.replace("-", " ").title(), kind=kind), None)
    officer = await create_user(UserCreate(email="officer@bench.example", name="Officer", password="bench-password-1"))
    producer = await create_user(
        UserCreate(email="producer@bench.example", name="Producer", password="bench-password-1")
    )
    await add_member("bench-guild", MembershipCreate(email=officer.email, role="officer"), None)
    await add_member("bench-company", MembershipCreate(email=producer.email, role="producer"), None)
    officer_p = await load_principal(officer.id)
    terms = example_terms().model_copy(update={"quorum": None})
    await compacts.create_compact(
        officer_p,
        CompactCreate(
            slug="bench-compact", title="Bench Compact", convening_org="bench-guild", parties=[], terms=terms
        ),
    )
    await compacts.propose(officer_p, "bench-compact", 1)
    await compacts.decide(officer_p, "bench-compact", 1, DecisionCreate(organization="bench-guild", decision="approve"))

    compact = await Compact.select(Compact.id).where(Compact.slug == "bench-compact").first()
    version = (
        await CompactVersion.select(CompactVersion.id, CompactVersion.status, CompactVersion.terms_hash)
        .where((CompactVersion.compact == compact["id"]) & (CompactVersion.number == 1))
        .first()
    )
    assert version["status"] == "ratified", version
    company = await Organization.select(Organization.id).where(Organization.slug == "bench-company").first()
    return {
        "terms": terms,
        "compact_id": compact["id"],
        "version_id": version["id"],
        "version_hash": version["terms_hash"],
        "company_id": company["id"],
        "producer_id": producer.id,
    }


# --- bulk seeding through COPY --------------------------------------------------------------------


def _clause(key: str, **params: Any) -> dict[str, Any]:
    return {
        "key": key,
        "version": 1,
        "title": key.replace("_", " ").capitalize(),
        "params": params,
        "text": f"[{key} v1 as rendered at issue: {', '.join(f'{k} = {v}' for k, v in params.items())}]",
    }


def _clauses(contract_type: str, level: str, rate: int, planned: list[str], consent: bool) -> list[dict[str, Any]]:
    """The clauses a compliant contract under example_terms() carries (what the engine reads: the keys)."""
    out = [
        _clause(
            "fees_and_schedule", rate_minor_per_week=rate, currency="EUR", payment_terms_days=14, schedule="weekly"
        ),
        _clause("no_required_generative_tools", worker_may_be_required_to_use=False),
        _clause("no_training_ingestion", ingestion_without_licence_permitted=False),
    ]
    if contract_type == "performer":
        out.append(_clause("no_scan_condition_of_hire", consent_is_condition_of_hire=False))
        if consent:
            out.append(
                _clause(
                    "digital_replica_consent",
                    notice_hours=72,
                    consent_scope="per_use",
                    pay_multiple_of_scale=1.5,
                    use_description="Crowd extension, scenes 40-44.",
                    separate_signature=True,
                )
            )
    if contract_type == "writer":
        out.append(
            _clause("ai_material_disclosure", disclose_ai_generated_material=True, ai_material_not_source_material=True)
        )
    if level in ("apprentice", "trainee"):
        out.append(_clause("apprenticeship_placement", weeks=16, mentor_named=True, paid=True))
    return out


def _required(rule: Any, journey: int) -> int:
    """max(min_apprentices, ratio requirement): one apprentice per whole group of ``per_journey`` journey-level
    workers a step covers, a started group too where the step says so (as guild.apprenticeship.rules
    documents it)."""
    ratio, steps = 0, rule.ratio_schedule
    for i, step in enumerate(steps):
        top = journey if i + 1 == len(steps) else min(journey, steps[i + 1].first_journey - 1)
        covered = max(0, top - step.first_journey + 1)
        ratio += -(-covered // step.per_journey) if step.partial_group_counts else covered // step.per_journey
    return max(rule.min_apprentices, ratio)


class _RuleLookup:
    """(department, budget) -> the EUR quota rule whose band holds the budget, or None."""

    def __init__(self, terms: Any) -> None:
        self.rules = [r for r in terms.apprenticeship if r.currency == "EUR"]

    def get(self, key: tuple[str, int]) -> Any:
        dept, budget = key
        return next(
            (
                r
                for r in self.rules
                if r.department == dept
                and r.budget_min_minor <= budget
                and (r.budget_max_minor is None or budget < r.budget_max_minor)
            ),
            None,
        )


class Seeder:
    """Generates one production's rows at a time; deterministic for a given seed."""

    def __init__(self, world: dict[str, Any], engagements: int, disclosures: int, seed: int) -> None:
        from contracts.rules import contract_facts

        self.contract_facts = contract_facts
        self.w = world
        self.n_eng = engagements
        self.n_disc = min(disclosures, len(ASSETS))
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC)
        self.rules = _RuleLookup(world["terms"])
        self.bound = [{"slug": "bench-compact", "title": "Bench Compact", "version": 1, "hash": world["version_hash"]}]
        self.report = {
            "compliant": True,
            "violations": [],
            "conflicts": [],
            "required_clauses": ["fees_and_schedule", "no_required_generative_tools", "no_training_ingestion"],
            "met": [
                {"term_path": "training_data.ingestion_without_licence_prohibited", "rule": "no_ingestion", "met": True}
            ],
            "effective_terms": {"compacts": ["bench-compact v1"]},
        }
        self.report_ok = json.dumps(self.report, separators=(",", ":"))

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _hex(self) -> str:
        return self.rng.randbytes(32).hex()

    def _name(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def production(self, i: int) -> tuple[tuple, tuple, list[tuple], list[tuple], list[tuple]]:
        rng, w = self.rng, self.w
        lo, hi, _ = rng.choices(BUDGETS, weights=[b[2] for b in BUDGETS])[0]
        budget = rng.randrange(lo, hi, 100_000)
        pid = self._uuid()
        start = date(2027, 1, 4) + timedelta(days=rng.randrange(0, 120))
        production = (
            pid,
            w["company_id"],
            f"Benchmark Feature {i:05d}",
            budget,
            "EUR",
            start,
            start + timedelta(days=rng.randrange(120, 300)),
            "pre_production",
            self.now,
        )
        binding = (self._uuid(), pid, w["compact_id"], w["version_id"], w["version_hash"], self.now)

        # engagement specs: (department, level, contract type, role, rate, mentor index / "lighting" / None, weeks)
        specs: list[tuple[str, str, str, str, int, Any, int]] = [
            ("camera", "head", "crew", "Director of photography", _rate_tuple(rng, (260_000, 400_000)), None, 20),
            ("camera", "senior", "crew", "Camera operator", _rate_tuple(rng, (190_000, 250_000)), None, 18),
            ("editing", "senior", "crew", "Editor", _rate_tuple(rng, (200_000, 300_000)), None, 24),
            ("vfx", "senior", "crew", "VFX supervisor", _rate_tuple(rng, (220_000, 300_000)), None, 30),
            ("lighting", "senior", "crew", "Gaffer", _rate_tuple(rng, (190_000, 260_000)), None, 18),
        ]
        mentors = {"camera": 1, "editing": 2, "vfx": 3}
        while len(specs) < self.n_eng - 3:
            dept, level, ctype, role, rates, _ = rng.choices(POOL, weights=POOL_WEIGHTS)[0]
            specs.append((dept, level, ctype, role, _rate_tuple(rng, rates), None, rng.randrange(4, 30)))
        # paid, mentored placements: as many as the quota rule whose band holds the budget requires
        defect = rng.random()  # ~4 %: a camera apprentice without a mentor, ~2 %: mentored from lighting
        for dept, title in [("camera", "Camera apprentice"), ("editing", "Editing trainee"), ("vfx", "VFX apprentice")]:
            rule = self.rules.get((dept, budget))
            if rule is None:
                continue
            journey = sum(1 for sp in specs if sp[0] == dept and sp[1] in ("journey", "senior", "head"))
            for k in range(_required(rule, journey)):
                mentor: Any = mentors[dept]
                if dept == "camera" and k == 0 and defect < 0.06:
                    mentor = None if defect < 0.04 else "lighting"
                level = "trainee" if dept == "editing" else "apprentice"
                rate = rng.randrange(rule.min_rate_minor_per_week + 5_000, rule.min_rate_minor_per_week + 20_000, 500)
                specs.append((dept, level, "crew", title, rate, mentor, 16))  # 16 weeks: inside every band

        ids = [self._uuid() for _ in specs]
        lighting = 4
        engagements, contracts = [], []
        for n, (dept, level, ctype, role, rate, mentor, weeks) in enumerate(specs):
            e_start = start + timedelta(days=rng.randrange(0, 30))
            e_end = e_start + timedelta(days=weeks * 7 - 1)
            mentor_id = ids[lighting] if mentor == "lighting" else (ids[mentor] if mentor is not None else None)
            name = self._name()
            engagements.append(
                (ids[n], pid, name, None, dept, role, level, rate, "EUR", e_start, e_end, mentor_id, self.now)
            )
            if rng.random() >= 0.90:  # ~10 % without a contract yet: contract_missing findings
                continue
            planned: list[str] = []
            consent = False
            if ctype == "performer" and rng.random() < 0.3:
                planned, consent = ["performer_digital_replica"], rng.random() >= 0.02  # 2 % without consent
            elif dept == "vfx":
                planned = ["rotoscoping"]
            elif dept == "colour":
                planned = ["colour_grading"]
            elif ctype == "writer" and rng.random() < 0.05:
                planned = ["script_generation"]  # prohibited under example_terms()
            contract_id = self._uuid()
            issued_at = self.now - timedelta(days=rng.randrange(1, 60), seconds=rng.randrange(86_400))
            document = {
                "schema": "guild.contract/1",
                "contract_id": str(contract_id),
                "contract_type": ctype,
                "issued_at": issued_at.isoformat(),
                "employer": {"slug": "bench-company", "name": "Bench Company"},
                "production": {"id": str(pid), "title": production[2], "budget_minor": budget, "currency": "EUR"},
                "worker": {
                    "name": name,
                    "role": role,
                    "department": dept,
                    "level": level,
                    "rate_minor_per_week": rate,
                    "currency": "EUR",
                    "start_date": e_start.isoformat(),
                    "end_date": e_end.isoformat(),
                    "engagement_id": str(ids[n]),
                },
                "planned_ai_uses": planned,
                "clauses": _clauses(ctype, level, rate, planned, consent),
                "custom_clauses": [],
                "notes": "",
                "compacts": self.bound,
            }
            facts = self.contract_facts(document, self.report)  # the fact columns, as issuing stores them
            contracts.append(
                (
                    contract_id,
                    pid,
                    ids[n],
                    ctype,
                    "issued",
                    json.dumps(document, separators=(",", ":")),
                    self._hex(),
                    self.report_ok,
                    PDF,
                    PDF_SHA,
                    None,
                    self._hex(),
                    self.w["producer_id"],
                    issued_at,
                    None,
                    "",
                    *facts,
                )
            )

        # AI share: mostly under the 20 % maximum, ~10 % over it, ~4 % over twice it
        roll = rng.random()
        target = (
            rng.uniform(0.0, 0.16)
            if roll < 0.86
            else rng.uniform(0.22, 0.38)
            if roll < 0.96
            else rng.uniform(0.42, 0.6)
        )
        disclosures = []
        for category in rng.sample(sorted(ASSETS), self.n_disc):
            total = rng.randrange(*ASSETS[category])
            ai = min(total, round(total * target * rng.uniform(0.6, 1.4)))
            tools = json.dumps(rng.sample(TOOLS, 2) if ai else [])
            disclosures.append((self._uuid(), pid, category, total, ai, tools, "", self.now))
        return production, binding, engagements, contracts, disclosures


COLUMNS = {
    "production": [
        "id",
        "company",
        "title",
        "budget_minor",
        "currency",
        "start_date",
        "end_date",
        "status",
        "created_at",
    ],
    "production_binding": ["id", "production", "compact", "version", "version_hash", "bound_at"],
    "engagement": [
        "id",
        "production",
        "person_name",
        "user",
        "department",
        "role",
        "level",
        "rate_minor_per_week",
        "currency",
        "start_date",
        "end_date",
        "mentor",
        "created_at",
    ],
    "contract": [
        "id",
        "production",
        "engagement",
        "contract_type",
        "status",
        "document",
        "document_sha256",
        "compliance",
        "pdf",
        "pdf_sha256",
        "idempotency_key",
        "request_sha256",
        "issued_by",
        "issued_at",
        "voided_at",
        "void_reason",
        "clause_keys",
        "planned_ai_uses",
        "version_hashes",
        "compliant",
    ],
    "asset_disclosure": [
        "id",
        "production",
        "category",
        "total_count",
        "ai_generated_count",
        "tools",
        "evidence_notes",
        "updated_at",
    ],
}


def _ranges(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


async def seed(url: str, world: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    seeder = Seeder(world, args.engagements, args.disclosures, args.seed)
    counts = dict.fromkeys(COLUMNS, 0)
    copy_s = dict.fromkeys(COLUMNS, 0.0)
    gen_s = 0.0
    conn = await asyncpg.connect(url)
    try:
        t_all = time.perf_counter()
        for chunk in _ranges(args.productions, CHUNK_PRODUCTIONS):
            t = time.perf_counter()
            rows: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
            for i in chunk:
                p, b, es, cs, ds = seeder.production(i)
                rows["production"].append(p)
                rows["production_binding"].append(b)
                rows["engagement"].extend(es)
                rows["contract"].extend(cs)
                rows["asset_disclosure"].extend(ds)
            gen_s += time.perf_counter() - t
            async with conn.transaction():
                for table in COLUMNS:  # parents first: the foreign keys are checked as usual
                    t = time.perf_counter()
                    await conn.copy_records_to_table(table, records=rows[table], columns=COLUMNS[table])
                    copy_s[table] += time.perf_counter() - t
                    counts[table] += len(rows[table])
        total_s = time.perf_counter() - t_all
        t = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) production, production_binding, engagement, contract, asset_disclosure")
        vacuum_s = time.perf_counter() - t
    finally:
        await conn.close()
    return {"counts": counts, "copy_s": copy_s, "gen_s": gen_s, "total_s": total_s, "vacuum_s": vacuum_s}


# --- the sweeps ------------------------------------------------------------------------------------


async def new_run(compact_id: uuid.UUID, slot: datetime, full: bool = True) -> uuid.UUID:
    from guild.infra.tables import ComplianceRun

    run_id = uuid.uuid4()
    await ComplianceRun.insert(
        ComplianceRun(
            id=run_id,
            trigger="scheduled",
            job_id=f"bench:{run_id}",
            full=full,
            slot=slot,
            compact=compact_id,
            status="running",
            owner="benchmark",
            started_at=slot,
            heartbeat_at=slot,
        )
    )
    return run_id


async def finish_run(run_id: uuid.UUID) -> None:
    from guild.infra.tables import ComplianceRun

    done = datetime.now(UTC)
    await ComplianceRun.update(
        {ComplianceRun.status: "completed", ComplianceRun.finished_at: done, ComplianceRun.heartbeat_at: done}
    ).where(ComplianceRun.id == run_id)


async def timed_sweep(compact_id: uuid.UUID, full: bool = True) -> tuple[float, Any, uuid.UUID]:
    from guild.compliance.service import sweep_compact

    now = datetime.now(UTC)
    run_id = await new_run(compact_id, now, full)
    t = time.perf_counter()
    stats = await sweep_compact(compact_id, run_id, "", now)
    elapsed = time.perf_counter() - t
    await finish_run(run_id)
    return elapsed, stats, run_id


async def change_some(url: str, share: float) -> int:
    """Change the inputs of ``share`` of the productions, spread over them: one journey-level engagement of
    each gets a raise (a write the rules read but that changes no finding), in one statement, as a roster
    edit would. The database triggers mark those productions changed. Returns how many productions."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        n = max(1, round(await conn.fetchval("SELECT count(*) FROM production") * share))
        await conn.execute(
            """UPDATE engagement SET rate_minor_per_week = rate_minor_per_week + 500 WHERE id IN (
                SELECT DISTINCT ON (e.production) e.id FROM engagement e
                WHERE e.level = 'journey' AND e.production IN (SELECT id FROM production ORDER BY md5(id::text) LIMIT $1)
                ORDER BY e.production, e.id)""",
            n,
        )
        return int(n)
    finally:
        await conn.close()


async def process_sweep(url: str, world: dict[str, Any], processes: int) -> tuple[float, list[dict[str, Any]]]:
    """A full sweep of a new run by ``processes`` separate OS processes (this script with ``--worker``): the
    first owns the run, the others help (batches claimed with SKIP LOCKED). Seconds from the first worker's
    start to the last one's end (each measured inside the worker, after its start-up), and what each did."""
    run_id = await new_run(world["compact_id"], datetime.now(UTC), full=True)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            str(run_id),
            "--worker-url",
            url,
            *(["--helping"] if i else []),
            stdout=asyncio.subprocess.PIPE,
        )
        for i in range(processes)
    ]
    outs = []
    for proc in procs:
        stdout, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed with {proc.returncode}")
        outs.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    await finish_run(run_id)
    return max(o["end"] for o in outs) - min(o["start"] for o in outs), outs


async def worker(run_id: uuid.UUID, helping: bool) -> None:
    """One sweep process: start up as the scheduler does, sweep the run, print what it did as JSON."""
    from guild.compliance.service import sweep_compact
    from guild.infra import db
    from guild.infra.settings import get_settings
    from guild.infra.tables import ComplianceRun

    await db.startup(get_settings())
    try:
        run = await ComplianceRun.select(ComplianceRun.compact, ComplianceRun.slot).where(ComplianceRun.id == run_id)
        start = time.time()
        stats = await sweep_compact(run[0]["compact"], run_id, "", run[0]["slot"], helping=helping)
        end = time.time()
    finally:
        await db.shutdown()
    print(json.dumps({"start": start, "end": end, "productions": stats.productions, "batches": stats.batches}))


# --- the raw pass ----------------------------------------------------------------------------------


def raw_sql(terms: Any) -> tuple[str, list[str], list[str]]:
    """ONE statement computing per production what the rules decide, from the same rows and columns the
    sweep reads (each contract's fact columns: clause keys, planned AI uses, version hashes, compliant)."""
    from guild.compacts.terms import LIKENESS_USES, Policy

    weights = ", ".join(f"('{c}', {w!r}::numeric)" for c, w in terms.ai_disclosure.category_weights.items())

    def lit(v: Any) -> str:
        return "NULL::bigint" if v is None else str(v)

    rules = ", ".join(
        f"({i}, '{r.department}', {r.budget_min_minor}::bigint, {lit(r.budget_max_minor)}, '{r.currency}', "
        f"{r.min_apprentices}, {r.min_rate_minor_per_week}::bigint, {r.min_weeks}, "
        f"{'NULL::int' if r.max_weeks is None else r.max_weeks}, {str(r.mentor_required).lower()})"
        for i, r in enumerate(terms.apprenticeship)
    )
    consent_uses = [
        str(u) for u in LIKENESS_USES if u in terms.ai_uses and terms.ai_uses[u].policy is Policy.consent_required
    ]
    prohibited = [str(u) for u, r in terms.ai_uses.items() if r.policy is Policy.prohibited]
    ok = (
        "e.currency = q.currency AND e.rate_minor_per_week >= q.min_rate AND e.weeks >= q.min_weeks "
        "AND (q.max_weeks IS NULL OR e.weeks <= q.max_weeks) AND (NOT q.mentor_required OR "
        "(e.mentor_level IN ('journey', 'senior', 'head') AND e.mentor_department = e.department))"
    )
    counted = (
        ",\n            ".join(
            f"count(*) FILTER (WHERE q.idx = {i} AND {ok})" for i in range(len(terms.apprenticeship))
        )
        or "0"
    )
    journey = (
        ",\n            ".join(  # journey-level workers (journey, senior, head) of each rule's department
            f"count(*) FILTER (WHERE e.department = '{r.department}' AND e.level IN ('journey', 'senior', 'head'))"
            for r in terms.apprenticeship
        )
        or "0"
    )
    steps = ", ".join(  # (rule, first worker, last worker or NULL, one apprentice per n) of each ratio step
        f"({i}, {st.first_journey}, "
        f"{'NULL::int' if k + 1 == len(r.ratio_schedule) else r.ratio_schedule[k + 1].first_journey - 1}, "
        f"{st.per_journey}, {'true' if st.partial_group_counts else 'false'})"
        for i, r in enumerate(terms.apprenticeship)
        for k, st in enumerate(r.ratio_schedule)
    )
    steps_cte = (
        f"s (idx, first_journey, last_journey, per_journey, partial) AS (VALUES {steps})"
        if steps
        else "s (idx, first_journey, last_journey, per_journey, partial) AS (SELECT 0, 1, NULL::int, 1, false WHERE false)"
    )
    sql = f"""
WITH p AS (
    SELECT pr.id, pr.company, pr.budget_minor, pr.currency, b.version, b.version_hash
    FROM production_binding b JOIN production pr ON pr.id = b.production
    WHERE b.compact = $1
),
w (category, weight) AS (VALUES {weights}),
q (idx, department, budget_min, budget_max, currency, min_apprentices, min_rate, min_weeks, max_weeks,
   mentor_required) AS (VALUES {rules}),
{steps_cte},
ai AS (
    SELECT d.production, sum(w.weight * d.ai_generated_count) AS num, sum(w.weight * d.total_count) AS den
    FROM asset_disclosure d JOIN p ON p.id = d.production JOIN w ON w.category = d.category
    GROUP BY d.production
),
cf AS (  -- per contract, the fact columns the sweep reads (stored at issue), as the rules' flags
    SELECT c.engagement, c.status, c.issued_at, c.id,
        c.compliant AND p.version_hash = ANY(c.version_hashes) AS compliant_bound,
        c.contract_type = 'performer' AND c.planned_ai_uses && $2::varchar[]
            AND NOT 'digital_replica_consent' = ANY(c.clause_keys) AS without_consent,
        c.planned_ai_uses && $3::varchar[] AS prohibited
    FROM contract c JOIN p ON p.id = c.production
),
c AS (  -- per engagement: its latest issued contract, else its latest one
    SELECT DISTINCT ON (engagement) engagement, status, compliant_bound, without_consent, prohibited
    FROM cf ORDER BY engagement, status = 'issued' DESC, issued_at DESC, id DESC
),
ce AS (  -- one pass over the engagements: contract rules, and apprentices counted per quota rule
    SELECT e.production,
        count(*) AS engagements,
        count(*) FILTER (WHERE c.status IS DISTINCT FROM 'issued') AS missing,
        count(*) FILTER (WHERE c.status = 'issued' AND NOT c.compliant_bound) AS noncompliant,
        count(*) FILTER (WHERE c.status = 'issued' AND c.without_consent) AS without_consent,
        count(*) FILTER (WHERE c.status = 'issued' AND c.prohibited) AS prohibited,
        count(*) FILTER (WHERE q.idx IS NOT NULL AND e.rate_minor_per_week < q.min_rate) AS underpaid,
        ARRAY[
            {counted}
        ] AS counted,
        ARRAY[
            {journey}
        ] AS journey
    FROM (
        SELECT e.*, ceil((e.end_date - e.start_date + 1) / 7.0) AS weeks,
               m.level AS mentor_level, m.department AS mentor_department, p.budget_minor AS budget
        FROM engagement e JOIN p ON p.id = e.production LEFT JOIN engagement m ON m.id = e.mentor
    ) e
    LEFT JOIN c ON c.engagement = e.id
    LEFT JOIN q ON e.level IN ('apprentice', 'trainee') AND q.department = e.department
                   AND e.budget >= q.budget_min AND (q.budget_max IS NULL OR e.budget < q.budget_max)
    GROUP BY e.production
)
SELECT p.id, p.company, p.version, p.budget_minor,
    CASE WHEN ai.den > 0 THEN 100 * ai.num / ai.den ELSE 0 END AS ai_share_pct,
    coalesce(ce.engagements, 0) AS engagements, coalesce(ce.missing, 0) AS missing,
    coalesce(ce.noncompliant, 0) AS noncompliant, coalesce(ce.without_consent, 0) AS without_consent,
    coalesce(ce.prohibited, 0) AS prohibited, coalesce(ce.underpaid, 0) AS underpaid,
    ARRAY(  -- departments whose counted placements fall short of max(min_apprentices, ratio requirement)
        SELECT q.department FROM q
        CROSS JOIN LATERAL (SELECT coalesce(ce.journey[q.idx + 1], 0) AS j) jj
        WHERE q.currency = p.currency AND p.budget_minor >= q.budget_min
            AND (q.budget_max IS NULL OR p.budget_minor < q.budget_max)
            AND coalesce(ce.counted[q.idx + 1], 0) < greatest(q.min_apprentices, (
                SELECT coalesce(sum(CASE WHEN s.partial THEN ceil(g.n::numeric / s.per_journey)
                                         ELSE floor(g.n::numeric / s.per_journey) END), 0)
                FROM s CROSS JOIN LATERAL (SELECT greatest(0, least(jj.j, coalesce(s.last_journey, jj.j))
                                                           - s.first_journey + 1) AS n) g
                WHERE s.idx = q.idx))
        ORDER BY q.department) AS quota_short
FROM p LEFT JOIN ai ON ai.production = p.id LEFT JOIN ce ON ce.production = p.id
ORDER BY p.id
"""
    return sql, consent_uses, prohibited


async def raw_pass(url: str, world: dict[str, Any]) -> tuple[float, float, list[Any]]:
    """(first run, second run, rows of the second run) of the raw statement, on its own asyncpg connection."""
    import asyncpg

    sql, consent_uses, prohibited = raw_sql(world["terms"])
    conn = await asyncpg.connect(url)
    try:
        times, rows = [], []
        for _ in range(2):
            t = time.perf_counter()
            rows = await conn.fetch(sql, world["compact_id"], consent_uses, prohibited)
            times.append(time.perf_counter() - t)
    finally:
        await conn.close()
    return times[0], times[1], rows


async def raw_read(url: str, world: dict[str, Any]) -> tuple[float, int]:
    """(seconds, rows) of reading once, to the client, every row the sweep reads: the engine's own
    engagement statement (mentors, latest contract facts, settled engagements counted), disclosures, productions with bindings and
    open findings, each over ALL bound productions in one statement: no batches, no evaluation, no writes.
    The floor of any engine that evaluates rules outside the database (second of two runs; the cyclic
    garbage collector paused while rows arrive, as the sweep does)."""
    import asyncpg

    from guild.compliance.service import _cyclic_gc_paused, _settling_sql

    where = "IN (SELECT production FROM production_binding WHERE compact = $1)"
    engagements = (
        _settling_sql("postgres")
        .replace("WHERE {}", f"WHERE c.production {where}", 1)
        .replace("WHERE {}", f"WHERE b.production {where}", 1)
        .replace("WHERE {}", f"WHERE e.production {where}", 1)
    )
    statements = [
        engagements,
        f"SELECT production, category, total_count, ai_generated_count FROM asset_disclosure WHERE production {where}",
        "SELECT p.id, p.company, p.budget_minor, p.currency, b.version, b.version_hash FROM production_binding b "
        "JOIN production p ON p.id = b.production WHERE b.compact = $1",
        "SELECT f.id, f.production, f.version, f.rule, f.subject, f.severity, f.evidence, f.remediation, "
        f"f.first_seen_at, f.due_at, f.escalated_at FROM finding f WHERE f.status = 'open' AND f.production {where}",
    ]
    conn = await asyncpg.connect(url)
    try:
        for _ in range(2):
            with _cyclic_gc_paused():  # as the sweep reads its batches: neither pays for collections of its rows
                t, n = time.perf_counter(), 0
                for statement in statements:
                    n += len(await conn.fetch(statement, world["compact_id"]))
                elapsed = time.perf_counter() - t
    finally:
        await conn.close()
    return elapsed, n


def raw_findings(rows: list[Any], max_pct: float) -> dict[str, int]:
    """What the raw pass says the rules should find (to set against the sweep's findings)."""
    out = {
        "ai_share_exceeded": 0,
        "contract_missing": 0,
        "contract_noncompliant": 0,
        "ai_use_without_consent": 0,
        "ai_use_prohibited": 0,
        "apprenticeship_quota": 0,
        "apprenticeship_underpaid": 0,
    }
    for r in rows:
        out["ai_share_exceeded"] += r["ai_share_pct"] > max_pct
        out["contract_missing"] += r["missing"]
        out["contract_noncompliant"] += r["noncompliant"]
        out["ai_use_without_consent"] += r["without_consent"]
        out["ai_use_prohibited"] += r["prohibited"]
        out["apprenticeship_quota"] += len(r["quota_short"])
        out["apprenticeship_underpaid"] += r["underpaid"]
    return out


async def open_findings_by_rule() -> dict[str, int]:
    from guild.infra.tables import Finding

    rows = await Finding.raw("SELECT rule, count(*) AS n FROM finding WHERE status = 'open' GROUP BY rule")
    return {r["rule"]: r["n"] for r in rows}


# --- profiling one batch ---------------------------------------------------------------------------


class _Rollback(Exception):
    pass


async def _timed(label: str, out: list[tuple[str, float, str]], coro: Any, note: str = "") -> Any:
    t = time.perf_counter()
    result = await coro
    out.append((label, time.perf_counter() - t, note))
    return result


async def profile_batch(url: str, world: dict[str, Any], run_id: uuid.UUID, size: int) -> None:
    import asyncpg
    from piccolo.querystring import QueryString

    from guild.compliance import service as E
    from guild.compliance.rules import evaluate_production
    from guild.infra.db import in_list, write_tx
    from guild.infra.tables import Finding, Production

    ids = [
        r["production"]
        for r in await Production.raw(
            "SELECT production FROM production_binding WHERE compact = {} ORDER BY production LIMIT {}",
            world["compact_id"],
            size,
        )
    ]
    now = datetime.now(UTC)
    n_eng = 0

    async def phases(opening: bool) -> tuple[list[tuple[str, float, str]], str]:
        nonlocal n_eng
        out: list[tuple[str, float, str]] = []
        if opening:  # make the batch look unchecked: its open findings resolved (rolled back below)
            await Finding.update({Finding.status: "resolved"}).where(
                Finding.production.is_in(list(ids)) & (Finding.status == "open")
            )
        await E._lock(ids)
        await E._planner_settings()  # as each batch of the sweep
        # the load, query by query (as _load runs them), then _load as a whole
        prods = await _timed(
            "load: productions",
            out,
            Production.select(Production.id, Production.company, Production.budget_minor, Production.currency).where(
                Production.id.is_in(list(ids))
            ),
        )
        assert prods
        await _timed("load: bindings + versions", out, E._bindings(ids))
        await _timed("load: disclosures", out, E._disclosures(ids))
        listed, counted = await _timed(
            "load: engagements + mentors + contracts", out, E._engagements(ids), "one query (settled ones counted)"
        )
        n_eng = sum(len(v) for v in listed.values()) + sum(h.count for v in counted.values() for h in v)
        await _timed("load: commitments", out, E._commitments(ids))
        batch = await _timed("load: _load total (6 q)", out, E._load(ids))
        existing = await _timed("open findings", out, E._open_findings(ids))
        n_existing = len(existing)
        t = time.perf_counter()
        drafts = sum(
            len(evaluate_production(batch.facts[pid], [b.version for b in batch.bindings.get(pid, [])]))
            for pid in batch.facts
        )
        out.append(("evaluate: evaluate_production", time.perf_counter() - t, f"{drafts} drafts"))
        t = time.perf_counter()
        plan = E._plan(batch, dict(existing), run_id, now)
        out.append(("plan: _plan (evaluate + reconcile)", time.perf_counter() - t, ""))
        note = (
            f"{len(plan.inserts)} inserted, {len(plan.changes)} single-row updates, {len(plan.touched)} touched, "
            f"{len(plan.resolved)} resolved, {len(plan.events)} webhook events"
        )
        await _timed("write: _write", out, E._write(plan, run_id, now), note)
        return out, f"{n_existing} open findings before"

    for opening in (True, False):
        try:
            with E._cyclic_gc_paused():  # as in the sweep
                async with write_tx():
                    out, before = await phases(opening)
                    raise _Rollback
        except _Rollback:
            pass
        kind = "first sweep (findings open)" if opening else "steady state (findings persist)"
        print(f"\n  batch of {len(ids)} productions, {n_eng} engagements — {kind}; {before}; rolled back")
        for label, seconds, note in out:
            print(f"    {label:<40} {seconds * 1000:9.1f} ms  {note}")

    # the engagement query on a bare asyncpg connection: fetched (server + transfer + decoding) vs counted
    # on the server only (what the database spends; the rest is the driver turning rows into Python values)
    c, b, e = in_list("c.production", ids), in_list("b.production", ids), in_list("e.production", ids)
    sql, args = QueryString(E._settling_sql("postgres"), c, b, e).compile_string(engine_type="postgres")
    whole, whole_args = QueryString(E._ENGAGEMENTS, c, e).compile_string(engine_type="postgres")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET plan_cache_mode = force_custom_plan; SET jit = off")  # as the sweep's batches
        for label, statement, values in [
            ("asyncpg: engagement query, fetched", sql, args),
            ("asyncpg: engagement query, counted", f"SELECT count(*) FROM ({sql}) q", args),
            ("asyncpg: every engagement listed, fetched", whole, whole_args),
        ]:
            await conn.fetch(statement, *values)
            t = time.perf_counter()
            rows = await conn.fetch(statement, *values)
            print(f"    {label:<40} {(time.perf_counter() - t) * 1000:9.1f} ms  {len(rows)} rows")
    finally:
        await conn.close()

    # where the load's and the evaluation's CPU go (Python time only: time awaiting the server is not counted)
    prof = cProfile.Profile()
    with E._cyclic_gc_paused():
        async with write_tx():
            await E._planner_settings()
            prof.enable()
            batch = await E._load(ids)
            prof.disable()
    _print_profile("_load over the batch (Python CPU, top functions by own time)", prof, 12)
    prof = cProfile.Profile()
    prof.enable()
    for pid in batch.facts:
        evaluate_production(batch.facts[pid], [b.version for b in batch.bindings.get(pid, [])])
    prof.disable()
    _print_profile("evaluate_production over the batch (top functions by own time)", prof, 14)


def _print_profile(title: str, prof: cProfile.Profile, top: int) -> None:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n  cProfile of {title}:")
    lines = buf.getvalue().splitlines()
    total = next((line.strip() for line in lines if "function calls" in line), "")
    print(f"    {total}")
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    for line in lines[start:]:
        if line.strip():
            line = line.replace(ROOT + "/", "").replace(sys.prefix + "/", "").replace(sys.base_prefix + "/", "")
            print("   ", line[:160])


# --- main --------------------------------------------------------------------------------------------


def _load_average() -> str:
    """Other work on the machine skews every figure: say how busy it was."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


async def _admin(pg_url: str, *sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(pg_url)
    try:
        for statement in sql:
            await conn.execute(statement)
    finally:
        await conn.close()


async def run(args: argparse.Namespace, url: str) -> None:
    from guild.infra import db

    load_start = _load_average()
    try:
        t = time.perf_counter()
        world = await build_world()
        world_s = time.perf_counter() - t
        seeded = await seed(url, world, args)
        counts = seeded["counts"]
        total_rows = sum(counts.values())
        print(f"database:  {url.rsplit('@', 1)[-1]} (PostgreSQL); load average at the start: {load_start}")
        print(f"world through the services: {world_s:.2f} s (guild, company, officer, producer, ratified compact)")
        print(f"seeding (asyncpg COPY, {CHUNK_PRODUCTIONS} productions per round, foreign keys checked):")
        for table, n in counts.items():
            s = seeded["copy_s"][table]
            print(f"  {table:<20} {n:>9,} rows  {s:7.2f} s  {n / s if s else 0:>9,.0f} rows/s")
        print(
            f"  {'total':<20} {total_rows:>9,} rows  {seeded['total_s']:7.2f} s "
            f"(row generation in Python {seeded['gen_s']:.2f} s, COPY {sum(seeded['copy_s'].values()):.2f} s); "
            f"VACUUM ANALYZE {seeded['vacuum_s']:.2f} s"
        )

        s1, stats1, _ = await timed_sweep(world["compact_id"])
        s2, stats2, run2 = await timed_sweep(world["compact_id"])
        raw1, raw2, rows = await raw_pass(url, world)
        read_s, read_rows = await raw_read(url, world)
        n = args.productions
        changed = await change_some(url, args.changed)
        s_inc, stats_inc, _ = await timed_sweep(world["compact_id"], full=False)
        s_idle, stats_idle, _ = await timed_sweep(world["compact_id"], full=False)
        p1, outs1 = await process_sweep(url, world, 1)
        p2, outs2 = await process_sweep(url, world, 2)
        by_rule = await open_findings_by_rule()
        expected = raw_findings(rows, world["terms"].ai_disclosure.max_ai_share_pct)

        print(
            f"\nsweep 1, full (opens findings): {s1:8.2f} s  {stats1.productions:,} productions in {stats1.batches} "
            f"batches, {n / s1:,.0f} productions/s; opened {stats1.opened:,}, resolved {stats1.resolved:,}"
        )
        print(
            f"sweep 2, full (steady state):   {s2:8.2f} s  {n / s2:,.0f} productions/s; opened {stats2.opened:,}, "
            f"still open {stats2.still_open:,}, escalated {stats2.escalated:,}, resolved {stats2.resolved:,}"
        )
        print(
            f"incremental, {changed:,} changed:    {s_inc:8.2f} s  {stats_inc.productions:,} productions re-evaluated "
            f"({args.changed:.0%} of them had an engagement changed); opened {stats_inc.opened:,}, "
            f"resolved {stats_inc.resolved:,}"
        )
        print(f"incremental, nothing changed: {s_idle:8.2f} s  {stats_idle.productions:,} productions re-evaluated")
        print(f"raw SQL pass (1 statement):   {raw2:8.2f} s  (first run {raw1:.2f} s), {len(rows):,} rows fetched")
        print(
            f"raw read (rows to the client):{read_s:8.2f} s  {read_rows:,} rows: what the sweep reads, in 4 statements, "
            "no evaluation"
        )
        split = ", ".join(f"{o['productions']:,} in {o['batches']} batches" for o in outs2)
        print(f"full sweep by 1 process:      {p1:8.2f} s  (separate OS process, a new run)")
        print(f"full sweep by 2 processes:    {p2:8.2f} s  ({split}: batches claimed with SKIP LOCKED)")
        print(f"ratio sweep 1 / raw pass:     {s1 / raw2:8.2f} x  (goal <= 2)")
        print(f"ratio sweep 2 / raw pass:     {s2 / raw2:8.2f} x  (goal <= 2)")
        print(f"ratio incremental / raw pass: {s_inc / raw2:8.2f} x  (goal <= 0.25)")
        print(f"ratio 2 processes / 1:        {p2 / p1:8.2f} x  (goal < 1)")
        print(f"ratio sweep 2 / raw read:     {s2 / read_s:8.2f} x")
        print("open findings by rule: the sweep's vs what the raw pass counts ('-': not computed by it)")
        for rule in [*expected, *sorted(set(by_rule) - set(expected))]:
            raw_count = f"{expected[rule]:>8,}" if rule in expected else f"{'-':>8}"
            print(f"  {rule:<26} {by_rule.get(rule, 0):>8,}  {raw_count}")
        equal = all(by_rule.get(rule, 0) == count for rule, count in expected.items())
        print(f"load average (1, 5, 15 min) at the end: {_load_average()} on {os.cpu_count()} CPUs")
        each = len({o["productions"] for o in outs2}) >= 1 and sum(o["productions"] for o in outs2) == n
        results = [
            ("full sweep (opens findings) / raw SQL pass", s1 / raw2, "≤ 2×", s1 / raw2 <= 2),
            ("full re-evaluation (steady state) / raw SQL pass", s2 / raw2, "≤ 2×", s2 / raw2 <= 2),
            (
                f"incremental sweep, {args.changed:.0%} changed / raw SQL pass",
                s_inc / raw2,
                "≤ 0.25×",
                s_inc / raw2 <= 0.25,
            ),
            ("full sweep, 2 processes / 1 process", p2 / p1, "< 1×", p2 < p1 and each),
        ]
        rows_out = [
            {
                "benchmark": "compliance_sweep",
                "figure": f,
                "engine": "postgresql",
                "value": f"{v:.2f}×",
                "goal": g,
                "met": m,
            }
            for f, v, g, m in results
        ]
        rows_out.append(
            {
                "benchmark": "compliance_sweep",
                "figure": "open findings by rule vs the raw pass's counts",
                "engine": "postgresql",
                "value": "equal" if equal else "differ",
                "goal": "equal",
                "met": equal,
            }
        )
        if args.json:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(rows_out, out, ensure_ascii=False, indent=1)

        if args.profile == "always" or (args.profile == "auto" and max(s1, s2) / raw2 > 2):
            print(f"\nprofile of one batch ({min(500, n)} productions; phases timed one by one, rolled back):")
            await profile_batch(url, world, run2, min(500, n))
    finally:
        await db.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--productions", type=int, default=10_000)
    parser.add_argument("--engagements", type=int, default=50, help="engagements per production (at least 12)")
    parser.add_argument("--disclosures", type=int, default=10, help="asset categories disclosed per production")
    parser.add_argument(
        "--pg-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an admin connection on the server; the benchmark database is created next to it",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--keep", action="store_true", help="do not drop the benchmark database")
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share of productions changed before the incremental sweep"
    )
    parser.add_argument("--json", default=None, help="write the result rows (figures, goals, met) to this JSON file")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # a run id: be one sweep process
    parser.add_argument("--worker-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--helping", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        os.environ["GUILD_DATABASE_URL"] = args.worker_url
        os.environ["GUILD_DATA_DIR"] = tempfile.mkdtemp(prefix="guild-bench-")
        os.environ["GUILD_SCHEDULER_ENABLED"] = "false"
        asyncio.run(worker(uuid.UUID(args.worker), args.helping))
        return
    if args.productions < 1 or args.engagements < 12:
        parser.error("--productions must be >= 1 and --engagements >= 12")

    dbname = f"guild_bench_sweep_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(args.pg_url)
    url = urlunsplit(parts._replace(path="/" + dbname))
    # before any guild module is imported: the engine is built from these
    os.environ["GUILD_DATABASE_URL"] = url
    os.environ["GUILD_DATA_DIR"] = tempfile.mkdtemp(prefix="guild-bench-")
    os.environ["GUILD_SCHEDULER_ENABLED"] = "false"

    asyncio.run(_admin(args.pg_url, f'CREATE DATABASE "{dbname}"'))
    try:
        asyncio.run(run(args, url))
    finally:
        if args.keep:
            print(f"kept database {dbname}")
        else:
            asyncio.run(
                _admin(
                    args.pg_url,
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{dbname}' "
                    "AND pid <> pg_backend_pid()",
                    f'DROP DATABASE IF EXISTS "{dbname}"',
                )
            )


if __name__ == "__main__":
    main()
