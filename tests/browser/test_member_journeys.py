"""An organisation's people page in Chromium against a demo server of its own: the VFX union's officer sees
the demo's pending invitation, invites someone (the same words whoever it is), withdraws that invitation, and
is told on the page that the last officer cannot be removed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_journeys import DEMO, assert_labelled, fits_width, shot, sign_in

PAGE = "/organizations/vfx-crew-union/members"


def test_the_vfx_officer_invites_and_withdraws(page, server: str) -> None:
    sign_in(page, "officer.vfx")
    page.locator("#main").get_by_role("link", name="members").click()
    page.wait_for_url(f"**{PAGE}")
    assert_labelled(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("VFX & Post Crew Union")
    members = page.get_by_role("table").first
    expect(members).to_contain_text("Chen Wei")
    expect(members).to_contain_text("June Park")
    pending = page.locator("section", has=page.get_by_role("heading", name="Pending invitations"))
    expect(pending).to_contain_text(f"new.crew@{DEMO}")
    shot(page, "officer-members")

    page.get_by_label("E-mail address").fill("gaffer@example.org")
    page.get_by_label("Role").select_option("reviewer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_have_text("Invitation sent to gaffer@example.org.")
    expect(pending).to_contain_text("gaffer@example.org")
    shot(page, "officer-members-invited")

    page.get_by_role("button", name="Withdraw the invitation to gaffer@example.org").click()
    page.wait_for_url(f"**{PAGE}")
    expect(pending).not_to_contain_text("gaffer@example.org")
    expect(pending).to_contain_text(f"new.crew@{DEMO}")

    page.get_by_role("button", name="Remove Chen Wei as officer").click()
    expect(page.get_by_role("alert")).to_contain_text("last officer")
    expect(members).to_contain_text("Chen Wei")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_width(page)
    shot(page, "officer-members-last-officer-phone")
    page.set_viewport_size({"width": 1200, "height": 900})


def test_a_member_sees_the_list_without_forms(page, server: str) -> None:
    sign_in(page, "apprentice")
    page.goto(PAGE)
    expect(page.get_by_role("table")).to_contain_text("Chen Wei")
    expect(page.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.get_by_text(f"new.crew@{DEMO}")).to_have_count(0)
    shot(page, "member-members")
