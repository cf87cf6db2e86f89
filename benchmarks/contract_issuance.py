"""Contract issuance benchmark: raw WeasyPrint render vs end-to-end issuance, and pool throughput.

    .venv/bin/python benchmarks/contract_issuance.py [--runs 8] [--batch 16]

Uses a fresh SQLite database in a temporary folder unless GUILD_DATABASE_URL is set (then it must be
an empty, migrated-or-migratable database). Prints:
  - raw render: median seconds of html_to_pdf() on the contract's HTML, in this process
  - issuance:   median seconds of the full issue path (load, rules, document, render in the pool,
                transactional insert, audit) for the same contract, one worker
  - ratio:      issuance / raw render (goal: <= 1.15)
  - throughput: contracts per second issuing --batch contracts concurrently with one worker per core
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import row as result_row  # noqa: E402
from _common import write_json  # noqa: E402

if "GUILD_DATABASE_URL" not in os.environ:
    _tmp = tempfile.mkdtemp(prefix="guild-bench-")
    os.environ["GUILD_DATA_DIR"] = _tmp
    os.environ["GUILD_DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite"


async def setup():
    from guild.accounts.schemas import UserCreate
    from guild.accounts.service import create_user, load_principal
    from guild.compacts import service as compacts
    from guild.compacts.schemas import CompactCreate, DecisionCreate
    from guild.compacts.terms import example_terms
    from guild.infra import db
    from guild.infra.settings import get_settings
    from guild.orgs.schemas import MembershipCreate, OrganizationCreate
    from guild.orgs.service import add_member, create_organization
    from guild.productions import service as productions
    from guild.productions.schemas import BindingCreate, EngagementCreate, ProductionCreate

    await db.startup(get_settings().model_copy(update={"migrate_on_start": True}))  # pool on PostgreSQL, as the server
    for slug, kind in [("bench-guild", "guild"), ("bench-company", "production_company")]:
        await create_organization(OrganizationCreate(slug=slug, name=slug.title(), kind=kind), None)
    officer = await create_user(UserCreate(email="officer@bench.example", name="Officer", password="bench-password-1"))
    producer = await create_user(
        UserCreate(email="producer@bench.example", name="Producer", password="bench-password-1")
    )
    await add_member("bench-guild", MembershipCreate(email=officer.email, role="officer"), None)
    await add_member("bench-company", MembershipCreate(email=producer.email, role="producer"), None)
    officer_p, producer_p = await load_principal(officer.id), await load_principal(producer.id)
    terms = example_terms().model_copy(update={"quorum": None})
    await compacts.create_compact(
        officer_p,
        CompactCreate(
            slug="bench-compact", title="Bench Compact", convening_org="bench-guild", parties=[], terms=terms
        ),
    )
    await compacts.propose(officer_p, "bench-compact", 1)
    await compacts.decide(officer_p, "bench-compact", 1, DecisionCreate(organization="bench-guild", decision="approve"))
    prod = await productions.create_production(
        producer_p,
        ProductionCreate(company="bench-company", title="Benchmark Feature", budget_minor=30_000_000, currency="EUR"),
    )
    await productions.bind(producer_p, prod.id, BindingCreate(compact="bench-compact", version=1))

    async def engagement():  # one per issuance: an engagement has one live contract
        eng = await productions.add_engagement(
            producer_p,
            prod.id,
            EngagementCreate(
                person_name="Bench Performer",
                department="production",
                role="Lead",
                level="journey",
                rate_minor_per_week=200_000,
                currency="EUR",
                start_date="2027-03-01",
                end_date="2027-05-28",
            ),
        )
        return eng.id

    return producer_p, prod.id, engagement


def request(engagement_id):
    from contracts.schemas import ContractRequest

    def clause(key, **params):
        return {"key": key, "version": 1, "params": params}

    return ContractRequest.model_validate(
        {
            "engagement_id": str(engagement_id),
            "contract_type": "performer",
            "planned_ai_uses": ["performer_digital_replica"],
            "clauses": [
                clause(
                    "fees_and_schedule",
                    rate_minor_per_week=200_000,
                    currency="EUR",
                    payment_terms_days=14,
                    schedule="weekly",
                ),
                clause("no_required_generative_tools", worker_may_be_required_to_use=False),
                clause("no_training_ingestion", ingestion_without_licence_permitted=False),
                clause("no_scan_condition_of_hire", consent_is_condition_of_hire=False),
                clause(
                    "digital_replica_consent",
                    notice_hours=72,
                    consent_scope="per_use",
                    pay_multiple_of_scale=1.5,
                    use_description="Crowd extension in the harbour sequence (scenes 40-44).",
                    separate_signature=True,
                ),
            ],
            "notes": "Benchmark contract.",
        }
    )


async def main(runs: int, batch: int, json_path: str | None = None) -> None:
    from contracts import service
    from guild.infra.pdf import PdfRenderer, render_html
    from guild.infra.pdf_render import html_to_pdf

    principal, production_id, engagement = await setup()

    async def requests(n):
        return [request(await engagement()) for _ in range(n)]

    # the exact HTML an issuance renders: take it from one real issue
    one = PdfRenderer(max_workers=1)
    [req] = await requests(1)
    first, _ = await service.issue(principal, production_id, req, one, None)  # also warms the worker
    from guild.infra.tables import Contract

    row = (
        await Contract.select(Contract.document, Contract.compliance)
        .where(Contract.id == first.id)
        .output(load_json=True)
        .first()
    )
    from guild.domain.canonical import canonical_hash

    html = render_html(
        "contract.html",
        {"doc": row["document"], "report": row["compliance"], "doc_hash": canonical_hash(row["document"])},
    )
    html_to_pdf(html, [], "warm-up")

    raw = []
    for _ in range(runs):
        t = time.perf_counter()
        html_to_pdf(html, [], "raw")
        raw.append(time.perf_counter() - t)

    issued = []
    for req in await requests(runs):
        t = time.perf_counter()
        await service.issue(principal, production_id, req, one, None)
        issued.append(time.perf_counter() - t)
    one.shutdown()

    pool = PdfRenderer(tenant_queue_max=max(8, batch), queue_max=max(64, batch))  # one company issues the whole batch
    [req] = await requests(1)
    await service.issue(principal, production_id, req, pool, None)  # spawn the workers
    await asyncio.gather(
        *[service.issue(principal, production_id, r, pool, None) for r in await requests(pool.max_workers)]
    )
    reqs = await requests(batch)
    t = time.perf_counter()
    await asyncio.gather(*[service.issue(principal, production_id, r, pool, None) for r in reqs])
    elapsed = time.perf_counter() - t
    pool.shutdown()

    raw_med, issue_med = statistics.median(raw), statistics.median(issued)
    print(f"database:            {os.environ['GUILD_DATABASE_URL'].split('@')[-1]}")
    print(f"raw render (median of {runs}):  {raw_med * 1000:8.1f} ms")
    print(f"issuance   (median of {runs}):  {issue_med * 1000:8.1f} ms")
    print(f"ratio issuance / raw render:   {issue_med / raw_med:8.3f}  (goal <= 1.15)")
    print(
        f"throughput, {pool.max_workers} workers, {batch} contracts: {batch / elapsed:6.2f} contracts/s ({elapsed:.2f} s)"
    )
    engine = "postgresql" if os.environ["GUILD_DATABASE_URL"].startswith("postgres") else "sqlite"
    ratio = issue_med / raw_med
    write_json(
        json_path,
        [
            result_row(
                "contracts",
                "issuance / raw render",
                engine,
                f"{ratio:.2f}× ({issue_med * 1000:.0f} vs {raw_med * 1000:.0f} ms)",
                "≤ 1.15×",
                ratio <= 1.15,
            ),
            result_row(
                "contracts",
                f"throughput, {pool.max_workers} workers",
                engine,
                f"{batch / elapsed:.1f} contracts/s",
                "-",
                True,
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--json", metavar="PATH", help="write the result rows there as JSON")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.batch, args.json))
