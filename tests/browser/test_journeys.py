"""Each role's journey in Chromium, as a person sees it: signed out, member, producer, officer."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD, SCREENSHOTS

DEMO = "demo.guild.example"


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits_width(page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def assert_labelled(page) -> None:
    """Every visible form control has a label naming it (``<label for>``, or it is a button)."""
    for control in page.locator("input:not([type=hidden]), select, textarea").all():
        ident = control.get_attribute("id")
        assert ident, control.evaluate("e => e.outerHTML")
        assert page.locator(f"label[for='{ident}']").count() == 1, f"no label for #{ident}"


def sign_in(page, local: str) -> None:
    """With the keyboard only: type the e-mail, Tab to the password, Enter submits."""
    page.goto("/signin")
    assert_labelled(page)
    page.get_by_label("E-mail").fill(f"{local}@{DEMO}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/$"))


def test_a_visitor_sees_a_welcome_and_signs_in_with_the_keyboard(page) -> None:
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "guild"
    page.keyboard.press("Tab")  # the skip link first, then the brand: focus is visible on each
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "focus must be visible"
    shot(page, "welcome")

    page.goto("/signin")
    page.get_by_label("E-mail").fill(f"performer@{DEMO}")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "e-mail or password is wrong"
    shot(page, "signin-refused")

    page.goto("/my/contracts")  # a page that needs a person: sign in, then come back here
    assert "/signin?next=" in page.url
    page.get_by_label("E-mail").fill(f"performer@{DEMO}")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/my/contracts$"))
    assert page.get_by_role("heading", level=1).inner_text() == "My contracts"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/signin$"))
    page.goto("/my/contracts")
    assert "/signin?next=" in page.url


def test_a_member_sees_their_contract_and_the_pdf_verifies_for_anyone(page, browser, tmp_path: Path) -> None:
    sign_in(page, "performer")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Hana Ito"
    nav = page.get_by_role("navigation")
    assert (
        nav.get_by_role("link", name="Compacts").count() == 0
        and nav.get_by_role("link", name="Productions").count() == 0
    )
    shot(page, "member-home")
    page.get_by_role("link", name="My contracts").first.click()
    page.wait_for_url(re.compile(r".*/my/contracts$"))
    row = page.locator("tbody tr").first
    assert "Harbour Lights" in row.inner_text() and "Blue Harbor Pictures" in row.inner_text()
    assert "issued" in row.inner_text()
    shot(page, "member-contracts")
    pdf_href = row.get_by_role("link", name=re.compile("PDF")).get_attribute("href")
    pdf = page.request.get(pdf_href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    file = tmp_path / "contract.pdf"
    file.write_bytes(pdf.body())
    contract_url = pdf_href.removesuffix("/pdf")
    row.get_by_role("link", name="Harbour Lights", exact=True).click()
    page.wait_for_url(re.compile(r".*/contracts/[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Performer contract: Harbour Lights"
    compliance = page.locator("section[aria-labelledby=h-compliance]").inner_text()
    assert "compliant when issued" in compliance and "0 violated" in compliance
    shot(page, "member-contract")
    stranger = browser.new_context(base_url=page.url.split("/contracts/")[0]).new_page()
    sign_in(stranger, "producer.kestrel")
    assert stranger.goto(contract_url).status == 404
    assert stranger.request.get(pdf_href).status == 404
    stranger.context.close()
    page.go_back()

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.reload()
    assert fits_width(page), "the page scrolls sideways at a phone's width (a wide table scrolls on its own)"
    shot(page, "member-contracts-phone")
    page.set_viewport_size({"width": 1200, "height": 900})

    visitor = browser.new_context(base_url=page.url.split("/my/")[0]).new_page()
    visitor.goto("/verify")
    assert_labelled(visitor)
    visitor.get_by_label("Contract PDF").set_input_files(str(file))
    visitor.get_by_role("button", name="Verify the file").click()
    visitor.wait_for_selector(".checks")
    checks = visitor.locator(".checks li")
    assert checks.count() >= 3
    assert visitor.locator(".checks li.fail").count() == 0, visitor.locator(".checks").inner_text()
    assert "matches an issued contract" in visitor.locator(".checks").inner_text()
    shot(visitor, "verify-upload")
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    visitor.get_by_label("SHA-256", exact=True).fill(digest)
    visitor.get_by_role("button", name="Look it up").click()
    visitor.wait_for_url(re.compile(rf".*sha256={digest}$"))
    assert "This PDF was issued here." in visitor.get_by_role("status").inner_text()
    shot(visitor, "verify-hash")
    footer_hash = visitor.locator("dl.facts code").inner_text()  # the contract data's hash, as the footer prints it
    visitor.get_by_label("SHA-256", exact=True).fill(footer_hash)
    visitor.get_by_role("button", name="Look it up").click()
    visitor.wait_for_url(re.compile(rf".*sha256={footer_hash}$"))
    assert "This PDF was issued here." in visitor.get_by_role("status").inner_text()
    visitor.get_by_label("SHA-256", exact=True).fill("0" * 64)
    visitor.get_by_role("button", name="Look it up").click()
    assert "no contract PDF or contract data with this SHA-256" in visitor.get_by_role("alert").inner_text()
    visitor.context.close()


def test_an_apprentice_sees_placements_and_makes_a_calendar_link(page) -> None:
    sign_in(page, "apprentice")
    page.get_by_role("link", name="My apprenticeships").first.click()
    page.wait_for_url(re.compile(r".*/my/apprenticeships$"))
    assert page.get_by_role("heading", level=1).inner_text() == "My apprenticeships"
    placements = page.locator("section[aria-labelledby=h-placements]").inner_text()
    assert "Harbour Lights" in placements and "EUR" in placements
    page.get_by_role("button", name="Make a new calendar link").click()
    page.wait_for_url(re.compile(r".*/my/calendar$"))
    link = page.locator("a.feed")
    assert re.search(r"/api/v1/calendar/[^/]+/me\.ics$", link.inner_text())
    shot(page, "member-apprenticeships")


def test_a_producer_reads_their_production_and_runs_a_check(page, browser) -> None:
    sign_in(page, "producer.blueharbor")
    page.get_by_role("navigation").get_by_role("link", name="Productions").click()
    page.wait_for_url(re.compile(r".*/productions$"))
    assert page.get_by_role("navigation").locator("[aria-current=page]").inner_text() == "Productions"
    assert page.get_by_role("link", name="Harbour Lights").count() == 1
    shot(page, "producer-productions")
    page.get_by_role("link", name="Harbour Lights").click()
    page.wait_for_url(re.compile(r".*/productions/[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Harbour Lights"
    facts = page.locator("dl.facts").inner_text()
    assert "EUR 300,000.00" in facts and "1 Mar 2027" in facts
    assert page.locator("section[aria-labelledby=h-roster] tbody tr").count() >= 2
    assert page.locator("section[aria-labelledby=h-contracts] a", has_text="PDF").count() >= 1
    page.get_by_role("button", name="Run a compliance check now").click()
    page.wait_for_url(re.compile(r".*#findings$"))
    assert "Last check" in page.locator("#findings").inner_text()
    production_url = page.url.split("#")[0]
    shot(page, "producer-production")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert fits_width(page)
    shot(page, "producer-production-phone")

    other = browser.new_context(base_url=production_url.split("/productions/")[0]).new_page()
    sign_in(other, "producer.kestrel")
    response = other.goto(production_url)
    assert response is not None and response.status == 404
    assert other.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert "Harbour" not in other.content()
    shot(other, "producer-other-company-404")
    other.context.close()


def test_an_officer_approves_the_amendment_and_reads_the_redline(page) -> None:
    sign_in(page, "officer.vfx")
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Productions").count() == 0  # a union officer produces nothing
    page.get_by_role("navigation").get_by_role("link", name="Compacts").click()
    page.wait_for_url(re.compile(r".*/compacts$"))
    shot(page, "officer-compacts")
    page.get_by_role("link", name="Independent Film AI & Apprenticeship Compact 2027").click()
    page.wait_for_url(re.compile(r".*/compacts/ai-and-apprenticeship-2027$"))
    version2 = page.locator("#version-2")
    assert "proposed" in version2.inner_text()
    assert_labelled(page)
    shot(page, "officer-compact")
    form = version2.locator("form.decision")
    form.get_by_label("Reject", exact=True).check()
    form.get_by_role("button", name="Record decision").click()
    assert "reason is required when rejecting" in page.get_by_role("alert").inner_text()
    shot(page, "officer-decision-refused")
    form = page.locator("#version-2 form.decision")
    form.get_by_label("Approve", exact=True).check()
    form.get_by_role("button", name="Record decision").click()
    page.wait_for_url(re.compile(r".*/compacts/ai-and-apprenticeship-2027(#version-2)?$"))
    row = page.locator("#version-2 tbody tr", has_text="VFX & Post Crew Union")
    assert "approved" in row.inner_text() and f"officer.vfx@{DEMO}" in row.inner_text()
    assert "2 of 3 approvals" in page.locator("#version-2").inner_text()

    page.get_by_role("link", name="Redline of the last two versions").click()
    page.wait_for_url(re.compile(r".*/redline\?from=1&to=2$"))
    redline = page.locator("table.redline")
    assert "AI disclosure › Max AI share (%)" in redline.inner_text() and "15%" in redline.inner_text()
    assert redline.locator("del").count() >= 1 and redline.locator("ins").count() >= 1
    shot(page, "officer-redline")

    page.goto("/compacts/ai-and-apprenticeship-2027")
    page.get_by_role("link", name="Apprenticeship totals").click()
    page.wait_for_url(re.compile(r".*/apprenticeships$"))
    assert "Harbour Lights" in page.locator("tbody").inner_text()
    shot(page, "officer-apprenticeships")
    csv = page.request.get(page.get_by_role("link", name="Download as CSV").get_attribute("href"))
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "Harbour Lights" in csv.text()

    page.goto("/compacts/ai-and-apprenticeship-2027/findings")
    assert_labelled(page)
    page.get_by_label("Status").select_option("open")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*status=open.*"))
    assert "status=open" in page.url
    assert page.get_by_role("heading", level=1).inner_text().startswith("Findings under")
    shot(page, "officer-findings")

    page.goto("/")
    shot(page, "officer-home")
    page.get_by_role("link", name="webhooks").click()
    page.wait_for_url(re.compile(r".*/organizations/vfx-crew-union/webhooks$"))
    assert_labelled(page)
    page.get_by_label("New endpoint URL (https)").fill("https://receiver.example/guild")
    page.get_by_role("button", name="Add endpoint").click()
    assert "signing secret is shown only now" in page.get_by_role("status").inner_text()
    shot(page, "officer-webhooks")


def test_the_api_documentation_renders_offline(page, server: str) -> None:
    outside: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(server) or r.url.startswith("data:") else outside.append(r.url)
    )
    page.goto("/schema")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "guild API" in page.locator(".swagger-ui .info .title").inner_text()
    assert outside == [], f"requests left the server: {outside}"
    shot(page, "schema")


def test_a_producer_voids_a_contract_with_a_reason(page) -> None:
    sign_in(page, "producer.blueharbor")
    page.goto("/productions")
    page.get_by_role("link", name="Harbour Lights").click()
    row = page.locator("section[aria-labelledby=h-contracts] tbody tr", has_text="Luis Ortega")
    assert "issued" in row.inner_text()
    row.locator("summary").click()
    reason = row.get_by_label("Reason")
    reason.evaluate("e => e.removeAttribute('required')")  # past the browser's own check: the server refuses too
    row.get_by_role("button", name="Void this contract").click()
    page.wait_for_url(re.compile(r".*/void$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Please check what you entered"
    assert "reason" in page.locator("main").inner_text()
    shot(page, "producer-void-refused")
    page.go_back()
    page.reload()
    row = page.locator("section[aria-labelledby=h-contracts] tbody tr", has_text="Luis Ortega")
    row.locator("summary").click()
    row.get_by_label("Reason").fill("Replaced by a <new> offer")
    row.get_by_role("button", name="Void this contract").click()
    page.wait_for_url(re.compile(r".*#h-contracts$"))
    row = page.locator("section[aria-labelledby=h-contracts] tbody tr", has_text="Luis Ortega")
    assert "void" in row.inner_text() and "Replaced by a <new> offer" in row.inner_text()
    assert row.get_by_role("button", name="Void this contract").count() == 0
    shot(page, "producer-contract-voided")


def test_a_producer_uploads_a_roster_with_a_bad_row_and_fixes_it(page, tmp_path: Path) -> None:
    header = "person_name,email,department,role,level,rate_per_week,currency,start_date,end_date"
    good = "Mara Lind,,production,Stand-in,journey,2000.00,EUR,2027-03-01,2027-05-28"
    bad = "Olu Ade,,production,Grip,journey,lots,EUR,2027-03-01,2027-05-28"
    file = tmp_path / "roster.csv"
    file.write_text(f"{header}\n{good}\n{bad}\n")
    sign_in(page, "producer.blueharbor")
    page.goto("/productions")
    page.get_by_role("link", name="Harbour Lights").click()
    page.wait_for_url(re.compile(r".*/productions/[0-9a-f-]{36}$"))
    page.get_by_role("link", name="Import a roster from CSV").click()
    page.wait_for_url(re.compile(r".*/roster/import$"))
    assert_labelled(page)
    page.get_by_label("Roster CSV").set_input_files(str(file))
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    assert "Row 2, rate_per_week" in alert.inner_text()
    bad_cell = page.locator("table.import td.bad")
    assert bad_cell.count() == 1 and bad_cell.inner_text().startswith("lots")
    shot(page, "producer-roster-import-refused")

    file.write_text(f"{header}\n{good}\n{bad.replace('lots', '1500.00')}\n")
    page.get_by_label("Roster CSV").set_input_files(str(file))
    page.get_by_role("button", name="Import").click()
    assert "Imported 2 rows: 2 new" in page.get_by_role("status").inner_text()
    shot(page, "producer-roster-imported")
    page.get_by_role("link", name="See the roster").click()
    page.wait_for_url(re.compile(r".*#h-roster$"))
    roster = page.locator("section[aria-labelledby=h-roster]").inner_text()
    assert "Mara Lind" in roster and "Olu Ade" in roster


def test_a_producer_prepares_a_contract_sees_the_refusal_fixes_it_and_issues(page) -> None:
    sign_in(page, "producer.blueharbor")
    page.goto("/productions")
    page.get_by_role("link", name="Harbour Lights").click()
    row = page.locator("section[aria-labelledby=h-roster] tbody tr", has_text="June Park")
    row.get_by_role("link", name="Prepare contract").click()
    page.wait_for_url(re.compile(r".*/engagements/[0-9a-f-]{36}/contract$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Contract for June Park"
    assert_labelled(page)
    assert page.locator("#use-fees_and_schedule").is_checked(), "required clauses come pre-selected"
    assert page.locator("#use-apprenticeship_placement").is_checked()
    shot(page, "producer-contract-form")

    form_url = page.url
    page.get_by_label("Payment terms days").fill("14")
    page.keyboard.press("Tab")  # a change: the live preview (htmx) updates the result, the page stays
    expect(page.locator("#result")).to_contain_text("Paid Apprenticeship Placement, Weeks: Field required")
    assert page.url == form_url and page.get_by_label("Payment terms days").input_value() == "14"
    page.locator("[id='p.apprenticeship_placement.weeks']").fill("2")  # shorter than the compact allows
    page.keyboard.press("Tab")
    expect(page.locator("#h-result")).to_contain_text("Does not comply")
    page.locator("#result summary").click()
    assert "min_weeks" in page.locator("#result").inner_text()
    shot(page, "producer-contract-live-preview")

    page.get_by_label("Payment terms days").fill("14")
    page.locator("[id='p.apprenticeship_placement.weeks']").fill("2")  # shorter than the compacts allow
    page.locator("[id='p.apprenticeship_placement.rate_per_week']").fill("100.00")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert "Does not comply" in page.get_by_role("heading", level=2).first.inner_text()
    problem = page.locator("[id='p.apprenticeship_placement.weeks-problem']")
    assert "min_weeks" in problem.inner_text() or "weeks" in problem.inner_text()
    assert page.locator("[id='p.apprenticeship_placement.weeks']").get_attribute("aria-invalid") == "true"
    shot(page, "producer-contract-refused")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_width(page)
    shot(page, "producer-contract-refused-phone")
    page.set_viewport_size({"width": 1200, "height": 900})

    page.locator("[id='p.apprenticeship_placement.weeks']").fill("13")
    page.get_by_label("Mentor required").check()
    page.locator("[id='p.apprenticeship_placement.rate_per_week']").fill(
        page.locator("[id='p.fees_and_schedule.rate_per_week']").input_value()
    )
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state()
    assert page.locator("#h-result").inner_text() == "Complies with the bound compacts", page.locator(
        "main"
    ).inner_text()
    shot(page, "producer-contract-compliant")
    page.get_by_role("button", name="Issue").click()
    page.wait_for_url(re.compile(r".*/contracts/[0-9a-f-]{36}$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Crew contract: Harbour Lights"
    assert "compliant" in page.locator("section[aria-labelledby=h-compliance]").inner_text()
    pdf = page.get_by_role("link", name="PDF")
    assert pdf.count() == 1 and pdf.get_attribute("href").endswith("/pdf")
    shot(page, "producer-contract-issued")


def test_an_officer_edits_the_terms_of_a_draft_in_the_form(page) -> None:
    sign_in(page, "officer.writers")
    page.goto("/compacts/writers-source-material")
    page.get_by_role("link", name="Edit the terms of version 1").click()
    page.wait_for_url(re.compile(r".*/compacts/writers-source-material/versions/1/edit$"))
    assert_labelled(page)
    shot(page, "officer-terms-editor")
    for part in ("ai_uses", "apprenticeship", "apprenticeship_commitments"):
        page.locator(f"fieldset[id='{part}']").scroll_into_view_if_needed()
        page.locator(f"fieldset[id='{part}'] > legend").evaluate("e => e.scrollIntoView()")
        page.screenshot(path=str(SCREENSHOTS / f"officer-terms-editor-{part}.png"))

    rows = page.locator("fieldset[id='apprenticeship'] > fieldset.terms-row")
    before = rows.count()
    page.locator("fieldset[id='apprenticeship'] > p > button", has_text="Add a row").click()
    page.wait_for_load_state()
    assert rows.count() == before + 1, "a row added without JavaScript"
    new = f"apprenticeship.{before}"
    page.locator(f"[id='{new}.department']").select_option("sound")
    page.locator(f"[id='{new}.budget_min']").fill("0")
    page.locator(f"[id='{new}.currency']").fill("EUR")
    page.locator(f"[id='{new}.min_apprentices']").fill("1")
    page.locator(f"[id='{new}.min_rate_per_week']").fill("550.00")
    page.locator(f"[id='{new}.min_weeks']").fill("4")
    page.locator("[id='ai_disclosure.max_ai_share_pct']").fill("150")  # a bad value: over 100 %
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_load_state()
    problem = page.locator("[id='ai_disclosure.max_ai_share_pct-problem']")
    assert "less than or equal to 100" in problem.inner_text()
    assert page.locator("[id='ai_disclosure.max_ai_share_pct']").get_attribute("aria-invalid") == "true"
    assert page.locator(f"[id='{new}.min_rate_per_week']").input_value() == "550.00", "the input is kept"
    shot(page, "officer-terms-editor-refused")
    page.screenshot(path=str(SCREENSHOTS / "officer-terms-editor-refused-top.png"))
    problem.evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(SCREENSHOTS / "officer-terms-editor-refused-field.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_width(page)
    shot(page, "officer-terms-editor-phone")
    page.set_viewport_size({"width": 1200, "height": 900})

    page.locator("[id='ai_disclosure.max_ai_share_pct']").fill("18")
    page.get_by_role("button", name="Save the draft").click()
    page.wait_for_url(re.compile(r".*/compacts/writers-source-material(#version-1)?$"))
    page.goto("/compacts/writers-source-material/versions/1/edit")
    assert page.locator("[id='ai_disclosure.max_ai_share_pct']").input_value() == "18.0"
    assert page.locator(f"[id='{new}.department']").input_value() == "sound"
    assert page.locator(f"[id='{new}.min_rate_per_week']").input_value() == "550.00"


def test_a_producer_corrects_the_ai_disclosures(page) -> None:
    sign_in(page, "producer.blueharbor")
    page.goto("/productions")
    page.get_by_role("link", name="Harbour Lights").click()
    page.get_by_role("link", name="Edit the AI disclosures").click()
    page.wait_for_url(re.compile(r".*/disclosures$"))
    assert_labelled(page)
    total = page.get_by_label("VFX shot: total")
    ai = page.get_by_label("VFX shot: AI-generated")
    kept_ai = ai.input_value()
    ai.fill(str(int(total.input_value() or "0") + 5))
    page.get_by_role("button", name="Save disclosures").click()
    assert "fixing" in page.get_by_role("alert").inner_text()
    problem = page.locator("#row-vfx_shot td.invalid .problem")
    assert "exceeds total_count" in problem.inner_text()
    assert page.get_by_label("VFX shot: AI-generated").get_attribute("aria-invalid") == "true"
    page.get_by_label("VFX shot: AI-generated").scroll_into_view_if_needed()
    shot(page, "producer-disclosures-refused")

    page.get_by_label("VFX shot: AI-generated").fill(kept_ai)
    page.get_by_label("VFX shot: tools").fill("Runway; Nuke CopyCat")
    page.get_by_role("button", name="Save disclosures").click()
    page.wait_for_url(re.compile(r".*#h-disclosures$"))
    section = page.locator("section[aria-labelledby=h-disclosures]")
    assert "Runway, Nuke CopyCat" in section.inner_text()
    shot(page, "producer-disclosures-saved")
