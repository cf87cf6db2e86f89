"""The producer's contract form (both engines): required clauses pre-selected, the preview's violations
beside the fields they concern, one contract for a double-submitted Issue, 404 for another company's
engagement, CSRF refused."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from guild.infra.tables import Contract
from tests.integration.scenario import Scenario, person
from tests.integration.test_pages import _TOKEN, sign_in

pytestmark = pytest.mark.asyncio


async def world(scenario: Scenario) -> dict[str, str]:
    await scenario.organizations({"actors": "guild", "blue": "production_company", "kestrel": "production_company"})
    h = await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        blue=person("producer@blue.example", ("blue", "producer")),
        kestrel=person("producer@kestrel.example", ("kestrel", "producer")),
    )
    await scenario.compact("screen-2027", convening="actors", by="officer@actors.example")
    pid = await scenario.production("blue", "Harbour Lights", by=h["blue"], bind=["screen-2027"])
    eid = await scenario.engagement(pid, "Mara <Okafor>", by=h["blue"], role="Lead")
    return {"production": pid, "engagement": eid}


def form_values(text: str) -> dict[str, list[str]]:
    """What a browser would send for the form as rendered: inputs, checked boxes, selected options, textareas."""
    values: dict[str, list[str]] = {}
    form = text[text.index('class="contract-form"') :]
    for tag in re.findall(r"<input [^>]+>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag and " checked" not in tag):
            continue
        values.setdefault(html.unescape(name.group(1)), []).append(html.unescape(value.group(1) if value else ""))
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        values[name] = [html.unescape(chosen.group(1)) if chosen else ""]
    for name, content in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[name] = [html.unescape(content)]
    return values


def encoded(values: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: list(vs) for k, vs in values.items()}


def violation_of(text: str, field: str) -> str:
    """The problem shown beside the input ``field`` (empty when none)."""
    found = re.search(rf'<div class="problem" id="{re.escape(field)}-problem">(.*?)</div>', text, re.S)
    return found.group(1) if found else ""


async def test_a_refused_preview_shows_each_violation_by_its_field_and_issue_makes_one_contract(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    ids = await world(scenario)
    await sign_in(client, "producer@blue.example")
    production = await client.get(f"/productions/{ids['production']}")
    url = f"/productions/{ids['production']}/engagements/{ids['engagement']}/contract"
    assert f'href="{url}"' in production.text

    page = await client.get(url, params={"contract_type": "performer"})
    assert page.status_code == 200 and "Mara &lt;Okafor&gt;" in page.text
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/static/vendor/htmx/htmx.min.js" defer>']
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    htmx = await client.get("/static/vendor/htmx/htmx.min.js")  # the live preview's, served by guild
    assert htmx.status_code == 200 and "htmx" in htmx.text
    values = form_values(page.text)
    assert "fees_and_schedule" in values["clause"], "the clause every contract needs is pre-selected"
    assert values["p.fees_and_schedule.rate_per_week"] == ["2000.00"], "money in major units"
    assert values["idempotency_key"][0]

    values["ai_use"] = ["performer_digital_replica"]
    values["action"] = ["preview"]
    first = await client.post(url, data=encoded(values))
    assert first.status_code == 422 and "clause parameters are invalid" in first.text
    assert "Field required" in violation_of(first.text, "p.fees_and_schedule.payment_terms_days"), "left empty"
    values = form_values(first.text)  # now the replica consent clause is required and pre-selected
    values["p.fees_and_schedule.payment_terms_days"] = ["14"]
    values["p.fees_and_schedule.rate_per_week"] = ["1500.00"]  # less than the engagement's pay
    values["p.digital_replica_consent.notice_hours"] = ["1"]
    values["ai_use"], values["action"] = ["performer_digital_replica"], ["preview"]
    for key in ("digital_replica_consent", "no_scan_condition_of_hire", "no_training_ingestion"):
        if key not in values["clause"]:
            values["clause"].append(key)
    values["p.digital_replica_consent.use_description"] = ["Crowd extension in the harbour night sequence."]
    values["p.digital_replica_consent.scale_per_day"] = ["300.00"]
    values["p.digital_replica_consent.replica_pay_per_day"] = ["600.00"]
    refused = await client.post(url, data=encoded(values))
    assert refused.status_code == 422, refused.text[:2000]
    notice = violation_of(refused.text, "p.digital_replica_consent.notice_hours")
    assert "screen-2027 version 1" in notice and "notice_hours" in notice, refused.text
    rate = violation_of(refused.text, "p.fees_and_schedule.rate_per_week")
    assert "EUR 1,500.00" in rate and "EUR 2,000.00" in rate, rate
    assert await Contract.count() == 0

    good = form_values(refused.text)
    good["p.fees_and_schedule.rate_per_week"] = ["2000.00"]
    good["p.digital_replica_consent.notice_hours"] = ["72"]
    good["p.digital_replica_consent.scale_per_day"] = ["1500.00"]
    good["p.digital_replica_consent.replica_pay_per_day"] = ["1500.00"]
    good["p.digital_replica_consent.separate_signature"] = ["true"]
    good["ai_use"], good["action"] = ["performer_digital_replica"], ["preview"]
    ok = await client.post(url, data=encoded(good))
    assert ok.status_code == 200 and "Complies with the bound compacts" in ok.text, ok.text
    good["action"] = ["issue"]
    issued = await client.post(url, data=encoded(good))
    again = await client.post(url, data=encoded(good))  # the same form sent twice
    assert issued.status_code == 303 and again.status_code == 303
    assert issued.headers["location"] == again.headers["location"]
    assert await Contract.count() == 1
    contract = await client.get(issued.headers["location"])
    assert contract.status_code == 200 and "/pdf" in contract.text

    fresh = await client.get(url, params={"contract_type": "performer"})  # a new form replaces the live contract
    assert "replaces the live contract" in fresh.text
    good["idempotency_key"], good["supersedes"] = (
        form_values(fresh.text)["idempotency_key"],
        [issued.headers["location"].rsplit("/", 1)[1]],
    )
    assert form_values(fresh.text)["supersedes"] == good["supersedes"]
    replaced = await client.post(url, data=encoded(good))
    assert replaced.status_code == 303 and replaced.headers["location"] != issued.headers["location"]
    assert await Contract.count() == 2
    assert "superseded" in (await client.get(issued.headers["location"])).text


async def test_another_companys_engagement_is_a_404_page_and_a_forged_form_is_refused(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    ids = await world(scenario)
    url = f"/productions/{ids['production']}/engagements/{ids['engagement']}/contract"
    await sign_in(client, "producer@kestrel.example")
    r = await client.get(url)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Okafor" not in r.text and "Page not found" in r.text
    token = _TOKEN.search((await client.get("/")).text).group(1)  # type: ignore[union-attr]
    posted = await client.post(url, data={"_csrf_token": token, "action": "issue", "clause": "fees_and_schedule"})
    assert posted.status_code == 404 and "Okafor" not in posted.text

    client.cookies.clear()
    await sign_in(client, "producer@blue.example")
    page = await client.get(url)
    values = form_values(page.text)
    values.pop("_csrf_token")
    values["action"] = ["issue"]
    forged = await client.post(url, data=encoded(values))
    assert forged.status_code == 403
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    for bad in (
        {"contract_type": "astronaut"},
        {"clause": "fees_and_schedule", "p.fees_and_schedule.rate_per_week": "x"},
    ):
        refused = await client.post(url, data={"_csrf_token": token, "action": "issue", **bad})
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html"), refused.text
    assert await Contract.count() == 0
