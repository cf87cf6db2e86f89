"""iCalendar (RFC 5545) feeds of apprenticeship commitment deadlines, behind a per-user secret URL token.

Calendar apps cannot send a bearer token, so each user may hold one secret token that goes in the
feed URLs. Only its SHA-256 is stored (a leaked table does not leak working feed URLs); issuing a new
token replaces the old one, so the old URLs stop working at once. A feed shows what its user could
read through the API, evaluated at every fetch: losing a role closes the feed too.

Each commitment is one all-day VEVENT: one per production and key, however many bound compacts require it
(one obligation, one commitment: :func:`guild.productions.commitments.merge_commitments`):
- UID ``<commitment id>@guild`` (stable, so a client updates rather than duplicates events; the id of the
  row with the strictest due date);
- DTSTART;VALUE=DATE the due date (all-day, one day long; no DTEND needed);
- SUMMARY ``<production title>: <commitment title>``; DESCRIPTION ``<compact slug> v<N>`` of each compact
  requiring it (with its own due date when there are several) and its state;
- STATUS CONFIRMED while open; CANCELLED once done, with SEQUENCE 1: the deadline no longer needs
  anyone's attention, and an updated (not deleted) event is the RFC 5545 way to make a subscribed
  client drop or strike it through. (A VTODO with STATUS:COMPLETED would say it more exactly, but
  most calendar apps ignore VTODOs in subscribed feeds.)
- DTSTAMP the commitment's last change (created, or marked done): unchanged commitments give
  byte-identical events at every fetch.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from icalendar import Calendar, Event

from guild.accounts.service import load_principal
from guild.domain.errors import NotFound, invalid
from guild.domain.principal import Principal, Role
from guild.domain.statuses import CommitmentStatus
from guild.domain.values import Out
from guild.domain.work import ENTRY_LEVELS
from guild.infra import audit
from guild.infra.db import for_update, read_tx, write_tx
from guild.infra.tables import CalendarToken, Engagement, Production, User
from guild.productions.commitments import CommitmentRead, commitment_rows
from guild.productions.queries import production_row

__all__ = [
    "CalendarTokenRead",
    "FeedLink",
    "issue_token",
    "my_feed",
    "production_feed",
]

MEDIA_TYPE = "text/calendar"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_FEED_FILE = re.compile(r"^(?P<id>[0-9a-fA-F-]{32,36})\.ics$")
_ENTRY = sorted(str(level) for level in ENTRY_LEVELS)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FeedLink(Out):
    production_id: UUID
    production_title: str
    url: str


class CalendarTokenRead(Out):
    token: str
    me_url: str
    production_url_template: str
    productions: list[FeedLink]
    created_at: datetime


def _production_url(base: str, token: str, production_id: UUID | str) -> str:
    return f"{base}/api/v1/calendar/{token}/production/{production_id}.ics"


async def issue_token(principal: Principal, base_url: str) -> CalendarTokenRead:
    """Create the user's feed token, or replace it (the old one stops working). The token is shown only now."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with write_tx():
        # the user's row lock: concurrent requests create or rotate one after the other, so each caller's
        # token was the working one when its request committed (the last one's keeps working)
        await for_update(User.select(User.id).where(User.id == principal.id), User).first()
        existing = await CalendarToken.select(CalendarToken.id).where(CalendarToken.user == principal.id).first()
        if existing:
            await CalendarToken.update({CalendarToken.token: _digest(token), CalendarToken.created_at: now}).where(
                CalendarToken.id == existing["id"]
            )
        else:
            await CalendarToken.insert(
                CalendarToken(id=uuid4(), user=principal.id, token=_digest(token), created_at=now)
            )
        await audit.record(
            principal.id, "calendar_token.rotated" if existing else "calendar_token.created", "user", principal.id, {}
        )
        companies = principal.orgs_with_role(Role.producer, Role.officer)
        productions = (
            await Production.select(Production.id, Production.title)
            .where(Production.company.is_in(companies))
            .order_by(Production.title)
            if companies
            else []
        )
    base = base_url.rstrip("/")
    return CalendarTokenRead(
        token=token,
        me_url=f"{base}/api/v1/calendar/{token}/me.ics",
        production_url_template=_production_url(base, token, "{production_id}"),
        productions=[
            FeedLink(production_id=p["id"], production_title=p["title"], url=_production_url(base, token, p["id"]))
            for p in productions
        ],
        created_at=now,
    )


async def _principal_for(token: str) -> Principal:
    """The token's user, with their current roles; an unknown token (or a deactivated user) is 404."""
    row = None
    if _TOKEN_SHAPE.match(token):
        async with read_tx():
            row = await CalendarToken.select(CalendarToken.user).where(CalendarToken.token == _digest(token)).first()
    principal = await load_principal(row["user"]) if row else None
    if principal is None:
        raise NotFound("no calendar feed at this address")
    return principal


def _cited(c: CommitmentRead) -> str:
    """``c1 v1``; with several compacts requiring it, each with its due date: ``c1 v1 (2040-02-20), c2 v1 (2040-02-27)``."""
    if len(c.cited_by) <= 1:
        return f"{c.compact} v{c.version_number}"
    return ", ".join(f"{x.compact} v{x.version_number} ({x.due_date.isoformat()})" for x in c.cited_by)


def _calendar(name: str, commitments: list[CommitmentRead], stamps: dict[UUID, datetime]) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//guild//apprenticeship commitments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for c in commitments:
        done = c.status == CommitmentStatus.done
        withdrawn = c.status == CommitmentStatus.withdrawn
        event = Event()
        event.add("uid", f"{c.id}@guild")
        event.add("dtstamp", stamps.get(c.id, c.created_at))
        event.add("dtstart", c.due_date)
        event.add("summary", f"{c.production_title}: {c.title}")
        state = (
            f"done {c.done_at.date().isoformat()}"
            if done and c.done_at
            else "withdrawn"
            if withdrawn
            else "overdue"
            if c.overdue
            else "open"
        )
        event.add("description", f"{_cited(c)}\n{c.key}: {state}")
        event.add("status", "CANCELLED" if done or withdrawn else "CONFIRMED")
        event.add("sequence", 1 if done or withdrawn else 0)
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        event.add("categories", ["apprenticeship", *dict.fromkeys([c.compact, *(x.compact for x in c.cited_by)])])
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical


def _stamps(commitments: list[CommitmentRead]) -> dict[UUID, datetime]:
    return {c.id: (c.done_at or c.created_at) for c in commitments}


async def production_feed(token: str, feed_file: str) -> tuple[bytes, str]:
    """``<production id>.ics``: the production's commitments, for its company's producers and officers."""

    principal = await _principal_for(token)
    match = _FEED_FILE.match(feed_file)
    try:
        production_id = UUID(match["id"]) if match else None
    except ValueError:
        production_id = None
    if production_id is None:
        raise invalid("production_id", "uuid_ics", f"expected <production uuid>.ics, got {feed_file[:80]!r}")
    async with read_tx():
        row = await production_row(principal, production_id)  # 404 for anyone else
        commitments = await commitment_rows([production_id])
    return _calendar(f"{row['title']}: apprenticeship commitments", commitments, _stamps(commitments)), str(
        production_id
    )


async def my_feed(token: str) -> bytes:
    """Commitments of productions where the user holds or mentors a placement, or of companies they produce for."""
    principal = await _principal_for(token)
    async with read_tx():
        held = await Engagement.select(Engagement.production).where(
            (Engagement.user == principal.id) & Engagement.level.is_in(_ENTRY)
        )
        mentored = await Engagement.select(Engagement.production).where(
            (Engagement.mentor.user == principal.id) & Engagement.level.is_in(_ENTRY)
        )
        ids: set[Any] = {r["production"] for r in [*held, *mentored]}
        companies = principal.orgs_with_role(Role.producer)
        if companies:
            ids |= {r["id"] for r in await Production.select(Production.id).where(Production.company.is_in(companies))}
        commitments = await commitment_rows(sorted(ids))
    return _calendar("guild: my apprenticeship commitments", commitments, _stamps(commitments))
