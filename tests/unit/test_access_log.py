"""The server's access log never shows a calendar feed token."""

from __future__ import annotations

import logging


def _access_line(path: str) -> str:
    from guild.web.observability import RedactFeedTokens

    # the shape of uvicorn's access log record: '%s - "%s %s HTTP/%s" %d' with these args
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200),
        None,
    )
    assert RedactFeedTokens().filter(record) is True
    return record.getMessage()


def test_feed_tokens_are_redacted_from_access_log_lines():
    token = "q3Zt0kPz-7aXbW_secret"
    line = _access_line(f"/api/v1/calendar/{token}/production/1234.ics")
    assert token not in line
    assert '"GET /api/v1/calendar/[redacted]/production/1234.ics HTTP/1.1" 200' in line
    assert token not in _access_line(f"/api/v1/calendar/{token}/me.ics?x=1")


def test_other_paths_are_logged_as_they_are():
    assert '"GET /api/v1/productions/abc HTTP/1.1" 200' in _access_line("/api/v1/productions/abc")


def test_the_app_installs_the_filter_on_uvicorns_access_logger():
    from guild.app import create_app
    from guild.web.observability import RedactFeedTokens

    create_app()
    assert any(isinstance(f, RedactFeedTokens) for f in logging.getLogger("uvicorn.access").filters)


def test_invitation_and_reset_link_tokens_are_redacted():
    token = "Zk3v_9QqLm2Xr8s-linktoken"
    for path in (f"/api/v1/invitations/{token}", f"/api/v1/invitations/{token}/accept", f"/invitations/{token}"):
        line = _access_line(path)
        assert token not in line and "/invitations/[redacted]" in line
    assert token not in _access_line(f"/reset-password/{token}")


def test_an_invitation_id_is_not_a_secret():
    invitation_id = "0b8f3c2e-4d5a-4e6f-8a9b-0c1d2e3f4a5b"
    assert invitation_id in _access_line(f"/api/v1/me/invitations/{invitation_id}/accept")
