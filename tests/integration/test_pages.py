"""Web pages over HTTP (both engines): sign-in and sessions, CSRF, the API's access rules on every page,
HTML error pages, escaping, and /schema served without a CDN."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.scenario import PASSWORD, Scenario, person

pytestmark = pytest.mark.asyncio

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf(client: httpx.AsyncClient, path: str = "/signin") -> str:
    page = await client.get(path)
    found = _TOKEN.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = await csrf(client)
    return await client.post("/signin", data={"email": email, "password": password, "next": "/", "_csrf_token": token})


async def world(scenario: Scenario) -> dict[str, str]:
    await scenario.organizations(
        {"actors": "guild", "writers": "guild", "blue": "production_company", "kestrel": "production_company"}
    )
    h = await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        writer_officer=person("officer@writers.example", ("writers", "officer")),
        blue=person("producer@blue.example", ("blue", "producer")),
        kestrel=person("producer@kestrel.example", ("kestrel", "producer")),
    )
    await scenario.compact("screen-2027", convening="actors", by="officer@actors.example")
    await scenario.compact("writers-draft", convening="writers", by="officer@writers.example", stage="draft")
    pid = await scenario.production("blue", "Harbour <Lights> & Co", by=h["blue"], bind=["screen-2027"])
    return {"production": pid}


NOBODY = "00000000-0000-0000-0000-000000000000"
PROTECTED = [
    "/my/contracts",
    "/my/apprenticeships",
    "/productions",
    "/compacts",
    "/compacts/screen-2027",
    f"/contracts/{NOBODY}",
    f"/contracts/{NOBODY}/pdf",
    f"/productions/{NOBODY}/roster/import",
    "/organizations/actors/webhooks",
    "/organizations/actors/members",
]


async def test_pages_need_a_signed_in_person_and_the_api_keeps_its_problems(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert home.status_code == 200 and "Sign in" in home.text
    assert "unsafe-inline" not in home.headers["content-security-policy"]
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert "guild_session" not in home.headers.get("set-cookie", ""), "no session stored for a visitor"
    for path in PROTECTED:
        r = await client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/signin?next=" + path.replace("/", "%2F")), r.headers["location"]
    api = await client.get("/api/v1/me")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")
    missing = await client.get("/api/v1/productions/00000000-0000-0000-0000-000000000000")
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_sign_in_gives_a_new_session_and_sign_out_ends_it(client: httpx.AsyncClient, scenario: Scenario) -> None:
    await world(scenario)
    client.cookies.set("guild_session", "f" * 64)  # a session id planted by someone else (fixation)
    signed = await sign_in(client, "producer@blue.example")
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    issued = re.search(r"guild_session=([0-9a-f]+)", cookie)
    assert issued and issued.group(1) != "f" * 64
    session = issued.group(1)
    client.cookies.clear()
    client.cookies.set("guild_session", session)
    home = await client.get("/")
    assert "Hello, producer" in home.text and "Harbour &lt;Lights&gt; &amp; Co" in home.text

    token = await csrf(client, "/")
    out = await client.post("/signout", data={"_csrf_token": token})
    assert out.status_code == 303
    after = await client.get("/my/contracts")
    assert after.status_code == 303
    client.cookies.clear()
    client.cookies.set("guild_session", session)  # the old id is worth nothing now
    assert (await client.get("/my/contracts")).status_code == 303


async def test_wrong_password_is_refused_in_the_form(client: httpx.AsyncClient, scenario: Scenario) -> None:
    await world(scenario)
    r = await sign_in(client, "producer@blue.example", "not the password")
    assert r.status_code == 401
    assert "e-mail or password is wrong" in r.text and 'value="producer@blue.example"' in r.text
    assert (await client.get("/productions")).status_code == 303


async def test_a_form_post_without_or_with_a_forged_csrf_token_is_refused(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    await world(scenario)
    await client.get("/signin")
    form = {"email": "producer@blue.example", "password": PASSWORD, "next": "/"}
    missing = await client.post("/signin", data=form)
    assert missing.status_code == 403 and missing.headers["content-type"].startswith("text/html")
    forged = await client.post("/signin", data={**form, "_csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert (await client.get("/productions")).status_code == 303, "refused sign-ins signed nobody in"

    assert (await sign_in(client, "producer@blue.example")).status_code == 303
    pid = (await world_ids(client))[0]
    refused = await client.post(f"/productions/{pid}/check", data={})
    assert refused.status_code == 403
    page = await client.get(f"/productions/{pid}")
    assert "Last check" not in page.text, "the refused check did not run"


async def world_ids(client: httpx.AsyncClient) -> list[str]:
    listing = await client.get("/productions")
    return re.findall(r'href="/productions/([0-9a-f-]{36})"', listing.text)


async def test_another_companys_production_is_a_404_page(client: httpx.AsyncClient, scenario: Scenario) -> None:
    ids = await world(scenario)
    pid = ids["production"]
    await sign_in(client, "producer@kestrel.example")
    assert await world_ids(client) == []
    r = await client.get(f"/productions/{pid}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Harbour" not in r.text and "Page not found" in r.text
    assert (await client.get(f"/contracts/{NOBODY}")).status_code == 404
    assert (await client.get(f"/productions/{pid}/roster/import")).status_code == 404
    token = await csrf(client, "/")
    check = await client.post(f"/productions/{pid}/check", data={"_csrf_token": token})
    assert check.status_code == 404

    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        await sign_in(other, "producer@blue.example")
        assert await world_ids(other) == [pid]
        mine = await other.get(f"/productions/{pid}")
        assert mine.status_code == 200 and "Harbour &lt;Lights&gt; &amp; Co" in mine.text
        token = await csrf(other, f"/productions/{pid}")
        ran = await other.post(f"/productions/{pid}/check", data={"_csrf_token": token})
        assert ran.status_code == 303
        assert "Last check" in (await other.get(f"/productions/{pid}")).text


async def test_compacts_pages_follow_the_api_visibility(client: httpx.AsyncClient, scenario: Scenario) -> None:
    await world(scenario)
    await sign_in(client, "officer@actors.example")
    listing = await client.get("/compacts")
    assert "SCREEN-2027" in listing.text and "WRITERS-DRAFT" not in listing.text
    assert (await client.get("/compacts/writers-draft")).status_code == 404
    assert (await client.get("/compacts/writers-draft/findings")).status_code == 404
    assert (await client.get("/compacts/writers-draft/redline?from=1&to=1")).status_code == 404
    page = await client.get("/compacts/screen-2027")
    assert page.status_code == 200 and "Version 1" in page.text and "ratified" in page.text
    assert (await client.get("/compacts/screen-2027/findings?status=open&due_before=2030-01-01")).status_code == 200
    bad_date = await client.get("/compacts/screen-2027/findings?due_before=soon")
    assert bad_date.status_code == 422 and bad_date.headers["content-type"].startswith("text/html")
    assert "due_before" in bad_date.text
    totals = await client.get("/compacts/screen-2027/apprenticeships.csv")
    assert totals.status_code == 200 and totals.headers["content-type"].startswith("text/csv")
    assert "Harbour <Lights> & Co" in totals.text
    client.cookies.clear()
    await sign_in(client, "officer@writers.example")  # an officer, but of no party to screen-2027
    assert (await client.get("/compacts/screen-2027/apprenticeships")).status_code == 404
    assert (await client.get("/compacts/screen-2027/apprenticeships.csv")).status_code == 404


async def test_an_officer_decides_for_their_organisation_in_a_form(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    await scenario.organizations({"actors": "guild", "writers": "guild"})
    await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        writer_officer=person("officer@writers.example", ("writers", "officer")),
    )
    await scenario.compact(
        "shared", convening="actors", by="officer@actors.example", parties=["writers"], stage="proposed"
    )
    await sign_in(client, "officer@writers.example")
    page = await client.get("/compacts/shared")
    assert "Decide for Writers" in page.text and "Decide for Actors" not in page.text
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    url = "/compacts/shared/versions/1/decision"
    no_reason = await client.post(url, data={"_csrf_token": token, "organization": "writers", "decision": "reject"})
    assert no_reason.status_code == 422 and "reason is required when rejecting" in no_reason.text
    foreign = await client.post(url, data={"_csrf_token": token, "organization": "actors", "decision": "approve"})
    assert foreign.status_code in (403, 404)
    ok = await client.post(url, data={"_csrf_token": token, "organization": "writers", "decision": "approve"})
    assert ok.status_code == 303
    after = await client.get("/compacts/shared")
    assert "Decide for Writers" not in after.text and "approve" in after.text


async def test_verify_by_hash_needs_no_account(client: httpx.AsyncClient) -> None:
    page = await client.get("/verify")
    assert page.status_code == 200 and 'for="pdf"' in page.text and 'for="sha256"' in page.text
    bad = await client.get("/verify", params={"sha256": "<b>nope</b>"})
    assert bad.status_code == 422 and "&lt;b&gt;nope&lt;/b&gt;" in bad.text
    unknown = await client.get("/verify", params={"sha256": "a" * 64})
    assert unknown.status_code == 404 and "no contract PDF" in unknown.text
    token = await csrf(client, "/verify")
    not_pdf = await client.post(
        "/verify", data={"_csrf_token": token}, files={"pdf": ("x.pdf", b"hello", "application/pdf")}
    )
    assert not_pdf.status_code == 422 and "not a PDF" in not_pdf.text


async def test_schema_page_loads_its_assets_from_guild(client: httpx.AsyncClient) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "unpkg" not in page.text
    for asset in re.findall(r'(?:src|href)="(/static/vendor/[^"]+)"', page.text):
        r = await client.get(asset)
        assert r.status_code == 200 and len(r.content) > 1000, asset
    assert len(re.findall(r"/static/vendor/swagger-ui/", page.text)) == 3


async def test_a_convening_officer_proposes_and_amends_in_forms(client: httpx.AsyncClient, scenario: Scenario) -> None:
    await scenario.organizations({"actors": "guild", "writers": "guild"})
    await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        writer_officer=person("officer@writers.example", ("writers", "officer")),
    )
    await scenario.compact(
        "shared", convening="actors", by="officer@actors.example", parties=["writers"], stage="draft"
    )
    await sign_in(client, "officer@writers.example")  # a party's officer, not the convening one
    page = await client.get("/compacts/shared")
    assert "Propose version 1" not in page.text
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    assert (await client.post("/compacts/shared/versions/1/propose", data={"_csrf_token": token})).status_code == 403

    client.cookies.clear()
    await sign_in(client, "officer@actors.example")
    page = await client.get("/compacts/shared")
    assert "Propose version 1 to the parties" in page.text
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    proposed = await client.post("/compacts/shared/versions/1/propose", data={"_csrf_token": token})
    assert proposed.status_code == 303
    page = await client.get("/compacts/shared")
    assert "Propose version 1" not in page.text and "Decide for Actors" in page.text
    again = await client.post("/compacts/shared/versions/1/propose", data={"_csrf_token": token})
    assert again.status_code == 409 and again.headers["content-type"].startswith("text/html")


async def test_a_producer_binds_voids_and_marks_done_only_on_their_own_production(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    await scenario.organizations({"actors": "guild", "blue": "production_company", "kestrel": "production_company"})
    h = await scenario.people(
        officer=person("officer@actors.example", ("actors", "officer")),
        blue=person("producer@blue.example", ("blue", "producer")),
        kestrel=person("producer@kestrel.example", ("kestrel", "producer")),
    )
    await scenario.compact("screen-2027", convening="actors", by="officer@actors.example")
    pid = await scenario.production("blue", "Harbour", by=h["blue"], start_date="2027-03-01", end_date="2027-06-30")

    await sign_in(client, "producer@kestrel.example")
    token = await csrf(client, "/")
    foreign = await client.post(f"/productions/{pid}/bindings", data={"_csrf_token": token, "version": "screen-2027@1"})
    assert foreign.status_code == 404

    client.cookies.clear()
    await sign_in(client, "producer@blue.example")
    page = await client.get(f"/productions/{pid}")
    assert 'value="screen-2027@1"' in page.text and "Not bound to any compact" in page.text
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    bad = await client.post(f"/productions/{pid}/bindings", data={"_csrf_token": token, "version": "NOPE@x"})
    assert bad.status_code == 422 and "Not bound to any compact" in (await client.get(f"/productions/{pid}")).text
    bound = await client.post(f"/productions/{pid}/bindings", data={"_csrf_token": token, "version": "screen-2027@1"})
    assert bound.status_code == 303
    page = await client.get(f"/productions/{pid}")
    assert "screen-2027</a> version 1" in page.text
    done = re.search(rf'action="/productions/{pid}/commitments/([0-9a-f-]{{36}})/done"', page.text)
    assert done, "the example terms require commitments of a production with a shoot"
    cid = done.group(1)
    client2 = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with client2:
        await sign_in(client2, "producer@kestrel.example")
        t2 = await csrf(client2, "/")
        assert (
            await client2.post(f"/productions/{pid}/commitments/{cid}/done", data={"_csrf_token": t2})
        ).status_code == 404
    marked = await client.post(f"/productions/{pid}/commitments/{cid}/done", data={"_csrf_token": token})
    assert marked.status_code == 303
    assert f"/commitments/{cid}/done" not in (await client.get(f"/productions/{pid}")).text


async def test_failed_sign_ins_in_the_form_are_throttled_like_the_apis(
    client: httpx.AsyncClient, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guild.infra.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "signin_failures_per_account", 2)
    monkeypatch.setattr(settings, "signin_window_seconds", 600)
    await world(scenario)
    codes = [(await sign_in(client, "producer@blue.example", "wrong")).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    locked = await sign_in(client, "producer@blue.example")  # even the right password, until the window ends
    assert locked.status_code == 429 and "too many failed sign-ins" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert (await client.get("/productions")).status_code == 303


ROSTER_HEADER = "person_name,email,department,role,level,rate_per_week,currency,start_date,end_date"
GOOD_ROW = "Mara Lind,,production,Lead,journey,2000.00,EUR,2027-03-01,2027-05-28"
BAD_ROW = "Olu Ade,,production,Grip,journey,lots,EUR,2027-03-01,2027-05-28"


async def test_a_roster_upload_shows_each_bad_row_in_place_and_imports_nothing_until_fixed(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    ids = await world(scenario)
    pid = ids["production"]
    await sign_in(client, "producer@kestrel.example")
    token = await csrf(client, "/")
    file = ("roster.csv", f"{ROSTER_HEADER}\n{GOOD_ROW}\n".encode(), "text/csv")
    foreign = await client.post(f"/productions/{pid}/roster/import", data={"_csrf_token": token}, files={"file": file})
    assert foreign.status_code == 404

    client.cookies.clear()
    await sign_in(client, "producer@blue.example")
    form = await client.get(f"/productions/{pid}/roster/import")
    assert form.status_code == 200 and 'for="file"' in form.text
    token = _TOKEN.search(form.text).group(1)  # type: ignore[union-attr]
    bad = ("roster.csv", f"{ROSTER_HEADER}\n{GOOD_ROW}\n{BAD_ROW}\n".encode(), "text/csv")
    refused = await client.post(
        f"/productions/{pid}/roster/import", data={"_csrf_token": token, "mode": "append"}, files={"file": bad}
    )
    assert refused.status_code == 422
    assert "Row 2, rate_per_week" in refused.text
    assert re.search(r'<td class="bad">lots<br><span class="cell-error">', refused.text)
    assert "Mara Lind" not in (await client.get(f"/productions/{pid}")).text, "all rows or none"

    fixed = ("roster.csv", f"{ROSTER_HEADER}\n{GOOD_ROW}\n{BAD_ROW.replace('lots', '1500.00')}\n".encode(), "text/csv")
    ok = await client.post(
        f"/productions/{pid}/roster/import", data={"_csrf_token": token, "mode": "append"}, files={"file": fixed}
    )
    assert ok.status_code == 200 and "Imported 2 rows: 2 new" in ok.text
    roster = (await client.get(f"/productions/{pid}")).text
    assert "Mara Lind" in roster and "Olu Ade" in roster and "EUR 1,500.00" in roster


async def test_cookies_are_secure_when_guild_is_served_over_https(scenario: Scenario) -> None:
    from guild.app import create_app
    from guild.infra.settings import get_settings

    await world(scenario)
    app = create_app(get_settings().model_copy(update={"public_base_url": "https://guild.example"}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
        first = await c.get("/signin")
        assert "Secure" in first.headers["set-cookie"] and "HttpOnly" in first.headers["set-cookie"]
        signed = await sign_in(c, "producer@blue.example")
        session = [v for k, v in signed.headers.multi_items() if k == "set-cookie" and "guild_session=" in v]
        assert session and "Secure" in session[0] and "HttpOnly" in session[0] and "SameSite=lax" in session[0]


async def test_webhook_pages_are_for_the_organisations_officers(client: httpx.AsyncClient, scenario: Scenario) -> None:
    await world(scenario)
    await sign_in(client, "producer@blue.example")  # a producer of blue, not an officer of actors
    assert (await client.get("/organizations/actors/webhooks")).status_code in (403, 404)
    client.cookies.clear()
    await sign_in(client, "officer@actors.example")
    home = await client.get("/")
    assert 'href="/organizations/actors/webhooks"' in home.text
    page = await client.get("/organizations/actors/webhooks")
    assert page.status_code == 200 and "No endpoints." in page.text
    token = _TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    bad = await client.post("/organizations/actors/webhooks/", data={"_csrf_token": token, "url": "ftp://nope"})
    assert bad.status_code == 422 and "No endpoints." in (await client.get("/organizations/actors/webhooks")).text
    added = await client.post(
        "/organizations/actors/webhooks/", data={"_csrf_token": token, "url": "https://receiver.example/hook"}
    )
    assert added.status_code == 200 and "signing secret is shown only now" in added.text
    assert "https://receiver.example/hook" in added.text
    endpoint = re.search(r'/webhooks/([0-9a-f-]{36})/deactivate"', added.text).group(1)  # type: ignore[union-attr]
    off = await client.post(f"/organizations/actors/webhooks/{endpoint}/deactivate", data={"_csrf_token": token})
    assert off.status_code == 303
    assert "inactive" in (await client.get("/organizations/actors/webhooks")).text


async def test_a_form_posted_after_the_session_ended_asks_to_sign_in_again(
    client: httpx.AsyncClient, scenario: Scenario
) -> None:
    ids = await world(scenario)
    token = await csrf(client, "/signin")
    r = await client.post(f"/productions/{ids['production']}/check", data={"_csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2F"


async def test_an_unknown_address_is_a_404_page_but_the_api_keeps_problem_documents(client: httpx.AsyncClient) -> None:
    for path in ("/no-such-page", "/productions/not-a-uuid", "/static/nothing.css", "/apiary"):
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "Page not found" in r.text and "no page at this address" in r.text, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
    for path in ("/api/v1/no-such-thing", "/api/nothing", "/api"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json"), path
        assert r.json()["status"] == 404


async def test_the_redline_page_speaks_peoples_words(client: httpx.AsyncClient, scenario: Scenario) -> None:
    from guild.compacts import queries as compact_queries
    from guild.compacts import service as compact_service
    from guild.compacts.schemas import DraftUpdate

    await world(scenario)
    await scenario.amend("screen-2027", by="officer@actors.example")
    officer = await scenario.principal("officer@actors.example")
    draft, revision = await compact_queries.get_version(officer, "screen-2027", 2)
    terms = draft.terms.model_dump(mode="json")
    terms["ai_disclosure"]["max_ai_share_pct"] = 15.0
    terms["ai_disclosure"]["festival_disclosure_required"] = not terms["ai_disclosure"]["festival_disclosure_required"]
    old_rate = terms["apprenticeship"][0]["min_rate_minor_per_week"]
    terms["apprenticeship"][0]["min_rate_minor_per_week"] = old_rate + 10000
    update = DraftUpdate.model_validate({"terms": terms})
    await compact_service.update_draft(officer, "screen-2027", 2, update, revision)

    await sign_in(client, "officer@actors.example")
    r = await client.get("/compacts/screen-2027/redline?from=1&to=2")
    assert r.status_code == 200
    text = r.text
    assert "AI disclosure › Max AI share (%)" in text
    assert "<del>20%</del>" in text and "<ins>15%</ins>" in text
    assert "Apprenticeship quotas › rule 1 › Min rate per week" in text
    assert "/week</ins>" in text and f"<del>{old_rate}</del>" not in text
    assert re.search(r"<(del|ins)>(yes|no)</\1>", text)
    # the raw path stays for experts, in a muted line
    assert '<code class="muted path">ai_disclosure.max_ai_share_pct</code>' in text


async def disclosed(scenario: Scenario, pid: str) -> set[tuple[str, int, int, tuple[str, ...]]]:
    """The production's disclosures as the API's service reads them."""
    from uuid import UUID

    from guild.productions.service import list_disclosures

    rows = await list_disclosures(await scenario.principal("producer@blue.example"), UUID(pid))
    return {(str(d.category), d.total_count, d.ai_generated_count, tuple(d.tools)) for d in rows}


async def test_a_producer_edits_the_ai_disclosures(client: httpx.AsyncClient, scenario: Scenario) -> None:
    pid = (await world(scenario))["production"]
    await sign_in(client, "producer@blue.example")
    production = await client.get(f"/productions/{pid}")
    assert f'href="/productions/{pid}/disclosures"' in production.text
    form = await client.get(f"/productions/{pid}/disclosures")
    assert form.status_code == 200 and 'name="vfx_shot.total"' in form.text
    token = await csrf(client, f"/productions/{pid}/disclosures")

    saved = await client.post(
        f"/productions/{pid}/disclosures",
        data={
            "_csrf_token": token,
            "vfx_shot.total": "40",
            "vfx_shot.ai": "4",
            "vfx_shot.tools": "Runway; Nuke Copycat",
            "script_page.total": "110",
            "script_page.ai": "0",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"/productions/{pid}#h-disclosures")
    saved_rows = {("vfx_shot", 40, 4, ("Runway", "Nuke Copycat")), ("script_page", 110, 0, ())}
    assert await disclosed(scenario, pid) == saved_rows
    again = await client.get(f"/productions/{pid}/disclosures")
    assert 'value="Runway; Nuke Copycat"' in again.text

    # AI count above the total, a count that is no number: refused at the field, input kept, nothing changed
    refused = await client.post(
        f"/productions/{pid}/disclosures",
        data={
            "_csrf_token": token,
            "vfx_shot.total": "3",
            "vfx_shot.ai": "5",
            "music_cue.total": "many",
            "music_cue.ai": "1",
        },
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert re.search(r'id="vfx_shot\.ai-problem"><p>[^<]*exceeds total_count', refused.text)
    assert 'id="music_cue.total-problem"' in refused.text
    assert 'name="vfx_shot.ai" value="5"' in refused.text and 'name="music_cue.total" value="many"' in refused.text
    assert 'id="vfx_shot.total-problem"' not in refused.text
    assert await disclosed(scenario, pid) == saved_rows

    # without the CSRF token nothing changes
    forged = await client.post(f"/productions/{pid}/disclosures", data={"vfx_shot.total": "1", "vfx_shot.ai": "0"})
    assert forged.status_code == 403
    assert await disclosed(scenario, pid) == saved_rows

    # an empty form clears every disclosure
    cleared = await client.post(f"/productions/{pid}/disclosures", data={"_csrf_token": token})
    assert cleared.status_code == 303
    assert await disclosed(scenario, pid) == set()


async def test_only_the_companys_producers_edit_disclosures(client: httpx.AsyncClient, scenario: Scenario) -> None:
    pid = (await world(scenario))["production"]
    await scenario.people(reader=person("officer@blue.example", ("blue", "officer")))

    await sign_in(client, "producer@kestrel.example")
    assert (await client.get(f"/productions/{pid}/disclosures")).status_code == 404
    token = await csrf(client, "/")
    outsider = await client.post(
        f"/productions/{pid}/disclosures", data={"_csrf_token": token, "vfx_shot.total": "1", "vfx_shot.ai": "0"}
    )
    assert outsider.status_code == 404 and "Page not found" in outsider.text

    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        await sign_in(other, "officer@blue.example")
        production = await other.get(f"/productions/{pid}")
        assert production.status_code == 200 and "/disclosures" not in production.text
        assert (await other.get(f"/productions/{pid}/disclosures")).status_code == 403
        token = await csrf(other, f"/productions/{pid}")
        reader = await other.post(
            f"/productions/{pid}/disclosures", data={"_csrf_token": token, "vfx_shot.total": "1", "vfx_shot.ai": "0"}
        )
        assert reader.status_code == 403
        assert "No disclosures yet." in (await other.get(f"/productions/{pid}")).text
