"""The convening officer's draft terms editor (both engines): the form made from the terms model saves
through the API's service (what the API then reads), a refused value is shown at its field with nothing
saved, rows are added and removed without JavaScript, a stale edit shows the current terms, others are
refused, and a post without the CSRF token changes nothing."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from guild.compacts.terms import example_terms
from tests.integration.scenario import Scenario, person
from tests.integration.test_pages import sign_in

pytestmark = pytest.mark.asyncio

URL = "/compacts/shared/versions/1/edit"


async def world(scenario: Scenario) -> dict[str, str]:
    """The officer's API headers, and a draft convened by actors with the writers as a party."""
    await scenario.organizations({"actors": "guild", "writers": "guild"})
    h = await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        writer_officer=person("officer@writers.example", ("writers", "officer")),
        member=person("member@actors.example", ("actors", "member")),
    )
    await scenario.compact(
        "shared",
        convening="actors",
        by="officer@actors.example",
        parties=["writers"],
        stage="draft",
        terms=example_terms().model_copy(update={"quorum": None}),
    )
    return dict(h["officer"])


def form_values(text: str) -> list[tuple[str, str]]:
    """What a browser sends for the terms form as rendered: inputs, checked boxes, selected options."""
    values: list[tuple[str, str]] = []
    form = text[text.index('class="terms-form"') :]
    for tag in re.findall(r"<input [^>]+>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag and " checked" not in tag):
            continue
        values.append((html.unescape(name.group(1)), html.unescape(value.group(1) if value else "")))
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        values.append((html.unescape(name), html.unescape(chosen.group(1)) if chosen else ""))
    return values


def with_values(values: list[tuple[str, str]], **changes: str) -> dict[str, list[str]]:
    """The form with some inputs changed (names with dots given with __ for ., e.g. quorum or a__b)."""
    wanted = {k.replace("__", "."): v for k, v in changes.items()}
    out: dict[str, list[str]] = {}
    for k, v in [*values, *wanted.items()]:
        out.setdefault(k, []).append(wanted.get(k, v))
    return {k: vs[:1] if k in wanted else vs for k, vs in out.items()}


def problem_at(text: str, name: str) -> str:
    found = re.search(rf'<div class="problem" id="{re.escape(name)}-problem">(.*?)</div>', text, re.S)
    return html.unescape(found.group(1)) if found else ""


async def api_terms(client: httpx.AsyncClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    got = await client.get("/api/v1/compacts/shared/versions/1", headers=headers)
    assert got.status_code == 200
    return got.json()["terms"]  # type: ignore[no-any-return]


async def test_an_officer_edits_a_draft_and_the_api_reads_what_was_saved(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    token = await world(scenario)
    await sign_in(client, "officer@actors.example")
    compact = await client.get("/compacts/shared")
    assert f'href="{URL}"' in compact.text
    page = await client.get(URL)
    assert page.status_code == 200
    values = form_values(page.text)
    shown = dict(values)
    assert shown["apprenticeship.0.min_rate_per_week"] == "600.00", "money in major units"
    assert shown["apprenticeship.0.department"] == "camera"
    assert shown["ai_uses.voice_clone._present"] == "true" and shown["ai_uses.voice_clone.policy"] == "consent_required"
    assert "ai_uses.rotoscoping.policy" in shown and "ai_uses.vfx_generation._present" in shown
    assert "Add a row" in page.text

    # add a quota rule (a row, without JavaScript), remove the fee of per title minute, then save
    added = await client.post(URL, data=with_values(values, action="add:apprenticeship"))
    assert added.status_code == 200
    values = form_values(added.text)
    assert ("apprenticeship.4.department", "") in values or dict(values).get("apprenticeship.4.department") == ""
    changed = with_values(
        values,
        ai_disclosure__max_ai_share_pct="15",
        apprenticeship__0__min_rate_per_week="650.50",
        apprenticeship__4__department="sound",
        apprenticeship__4__budget_min="0",
        apprenticeship__4__currency="EUR",
        apprenticeship__4__min_apprentices="1",
        apprenticeship__4__min_rate_per_week="500",
        apprenticeship__4__min_weeks="4",
        apprenticeship__4__mentor_required="true",
        **{"training_data.fee_schedule.1._remove": "true"},
        action="save",
    )
    saved = await client.post(URL, data=changed)
    assert saved.status_code == 303, saved.text[:2000]

    terms = await api_terms(client, token)
    assert terms["ai_disclosure"]["max_ai_share_pct"] == 15.0
    assert terms["apprenticeship"][0]["min_rate_minor_per_week"] == 65_050
    assert terms["apprenticeship"][4]["department"] == "sound"
    assert terms["apprenticeship"][4]["min_rate_minor_per_week"] == 50_000
    assert len(terms["training_data"]["fee_schedule"]) == 1
    assert terms["ai_uses"]["voice_clone"]["consent_scope"] == "per_use", "what was not changed stays"
    assert terms["likeness_licence"]["max_duration_months"] == 24


async def test_a_bad_value_is_shown_at_its_field_the_input_kept_and_nothing_saved(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    token = await world(scenario)
    await sign_in(client, "officer@actors.example")
    before = await api_terms(client, token)
    values = form_values((await client.get(URL)).text)
    bad = with_values(
        values,
        ai_disclosure__max_ai_share_pct="150",
        apprenticeship__0__budget_max="-1",  # the band's ceiling, in money
        apprenticeship__1__min_weeks="many",
        action="save",
    )
    refused = await client.post(URL, data=bad)
    assert refused.status_code == 422
    assert "less than or equal to 100" in problem_at(refused.text, "ai_disclosure.max_ai_share_pct")
    assert problem_at(refused.text, "apprenticeship.0.budget_max"), "a minor-unit error shown at its money input"
    assert "valid integer" in problem_at(refused.text, "apprenticeship.1.min_weeks")
    kept = dict(form_values(refused.text))
    assert kept["ai_disclosure.max_ai_share_pct"] == "150" and kept["apprenticeship.1.min_weeks"] == "many"
    assert await api_terms(client, token) == before

    # a rule across sections: the certification share above the disclosure maximum
    cross = await client.post(URL, data=with_values(values, certification__human_produced_max_ai_share_pct="30"))
    assert cross.status_code == 422
    assert "must not exceed" in problem_at(cross.text, "certification.human_produced_max_ai_share_pct")
    assert await api_terms(client, token) == before

    # a rule of the service, not of the model: a quorum the two parties can never reach
    quorum = await client.post(URL, data=with_values(values, quorum="5"))
    assert quorum.status_code == 422
    assert "exceeds the number of signatory parties" in problem_at(quorum.text, "quorum")
    assert await api_terms(client, token) == before


async def test_a_stale_edit_shows_the_current_terms_and_saves_nothing(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    token = await world(scenario)
    await sign_in(client, "officer@actors.example")
    values = form_values((await client.get(URL)).text)

    # someone else edits the draft through the API meanwhile
    api = "/api/v1/compacts/shared/versions/1"
    read = await client.get(api, headers=token)
    body = {"terms": {**read.json()["terms"], "quorum": 2}}
    put = await client.put(api, json=body, headers={**token, "If-Match": read.headers["etag"]})
    assert put.status_code == 200, put.text

    stale = await client.post(URL, data=with_values(values, ai_disclosure__max_ai_share_pct="11", action="save"))
    assert stale.status_code == 412
    assert "changed since you read it" in stale.text
    current = dict(form_values(stale.text))
    assert current["quorum"] == "2" and current["ai_disclosure.max_ai_share_pct"] == "20.0"
    assert (await api_terms(client, token))["ai_disclosure"]["max_ai_share_pct"] == 20.0

    again = await client.post(URL, data=with_values(form_values(stale.text), ai_disclosure__max_ai_share_pct="11"))
    assert again.status_code == 303, "saved on the current revision"
    assert (await api_terms(client, token))["ai_disclosure"]["max_ai_share_pct"] == 11.0


async def test_only_convening_officers_edit_and_a_post_needs_the_csrf_token(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    token = await world(scenario)
    await sign_in(client, "officer@writers.example")  # an officer of a party, not of the convening organisation
    assert f'href="{URL}"' not in (await client.get("/compacts/shared")).text
    page = await client.get(URL)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")

    client.cookies.clear()
    await sign_in(client, "member@actors.example")  # a member, not an officer, of the convening organisation
    assert (await client.get(URL)).status_code in (403, 404)

    client.cookies.clear()
    await sign_in(client, "officer@actors.example")
    before = await api_terms(client, token)
    values = [(k, v) for k, v in form_values((await client.get(URL)).text) if k != "_csrf_token"]
    refused = await client.post(URL, data=with_values(values, ai_disclosure__max_ai_share_pct="12", action="save"))
    assert refused.status_code == 403
    assert await api_terms(client, token) == before
    assert (await client.get("/compacts/nowhere/versions/1/edit")).status_code == 404
    nan = await client.post(URL, data=with_values(form_values((await client.get(URL)).text), quorum="nan"))
    assert nan.status_code == 422 and problem_at(nan.text, "quorum")

    proposed = await client.post("/api/v1/compacts/shared/versions/1/propose", headers=token)
    assert proposed.status_code == 200, proposed.text
    assert (await client.get(URL)).status_code == 409, "only a draft is edited"
