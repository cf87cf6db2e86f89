"""The e-mailed links and one's own password, in Chromium against a demo server of their own: the demo's
pending invitation opened from its message makes an account; a forgotten password is asked for; a signed-in
person changes theirs. Messages are read from the server's outbox (its scheduler is off here: nothing is
sent), as the mail log would show them."""

from __future__ import annotations

import re
import sqlite3

from playwright.sync_api import expect

from tests.browser.conftest import DATA_DIRS, DEMO_PASSWORD
from tests.browser.test_journeys import DEMO, assert_labelled, fits_width, shot, sign_in

NEW_PASSWORD = "a long new password for June"


def outbox_link(server: str, to: str, kind: str) -> str:
    with sqlite3.connect(DATA_DIRS[server] / "guild.sqlite") as db:
        rows = db.execute(
            "SELECT body_text FROM mail_message WHERE to_address = ? ORDER BY created_at", (to,)
        ).fetchall()
    links = [m.group(0) for (text,) in rows for m in re.finditer(rf"https?://\S+/{kind}/[A-Za-z0-9_-]+", text)]
    assert links, f"no {kind} link to {to}"
    return links[-1][links[-1].index(f"/{kind}/") :]


def test_the_demo_invitation_link_makes_an_account(page, server: str) -> None:
    path = outbox_link(server, f"new.crew@{DEMO}", "invitations")
    page.goto(path)
    assert_labelled(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Join")
    page.get_by_label("Your name").fill("Noor Crew")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill("not the same password")
    page.get_by_role("button", name="Create my account and join").click()
    expect(page.get_by_text("the two passwords differ")).to_be_visible()
    assert page.get_by_label("Your name").input_value() == "Noor Crew"
    shot(page, "invitation-refused")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account and join").click()
    expect(page.get_by_role("status")).to_contain_text("You are now member of")
    shot(page, "invitation-accepted")
    page.locator("#main").get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail").fill(f"new.crew@{DEMO}")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.locator("header")).to_contain_text("Noor Crew")


def test_a_forgotten_password_and_a_changed_one(page, server: str) -> None:
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    assert_labelled(page)
    page.get_by_label("E-mail").fill(f"writer@{DEMO}")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status")).to_contain_text("If an account has this e-mail address")
    shot(page, "reset-requested")
    page.goto(outbox_link(server, f"writer@{DEMO}", "reset-password"))
    assert_labelled(page)
    shot(page, "reset-form")

    sign_in(page, "performer")
    page.locator("header a.who").click()  # one's name in the header: one's account
    page.wait_for_url(re.compile(r".*/account/password$"))
    assert_labelled(page)
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_text("the current password is wrong")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_width(page)
    shot(page, "password-change-refused-phone")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.get_by_label("Current password").fill(DEMO_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("status")).to_contain_text("Your new password is set")
    page.goto("/my/contracts")
    expect(page.get_by_role("heading", level=1)).to_have_text("My contracts")
