"""Lease timing: from the GUILD_SCHEDULER_* settings, with the heartbeat well inside the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from guild.infra.settings import Settings
from scheduler.runs import LeaseTiming


def test_defaults_renew_three_times_per_lease_and_reap_twice():
    timing = LeaseTiming.from_settings(Settings())
    assert timing.lease == timedelta(seconds=60)
    assert timing.heartbeat == timedelta(seconds=20)
    assert timing.reap_every == timedelta(seconds=30)
    assert timing.max_takeovers == 3


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUILD_SCHEDULER_LEASE_SECONDS", "45")
    monkeypatch.setenv("GUILD_SCHEDULER_HEARTBEAT_SECONDS", "5")
    monkeypatch.setenv("GUILD_SCHEDULER_MAX_TAKEOVERS", "0")
    timing = LeaseTiming.from_settings(Settings())
    assert (timing.lease, timing.heartbeat, timing.max_takeovers) == (timedelta(seconds=45), timedelta(seconds=5), 0)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"scheduler_lease_seconds": 30, "scheduler_heartbeat_seconds": 20}, "HEARTBEAT"),  # more than half
        ({"scheduler_lease_seconds": 0.5}, "scheduler_lease_seconds"),
        ({"scheduler_heartbeat_seconds": 0}, "scheduler_heartbeat_seconds"),
        ({"scheduler_max_takeovers": -1}, "scheduler_max_takeovers"),
    ],
)
def test_a_heartbeat_that_could_miss_the_lease_is_refused(values, field):
    with pytest.raises(ValidationError, match=field):
        Settings(**values)


def test_lease_timing_checks_itself():
    with pytest.raises(ValueError, match="half of the lease"):
        LeaseTiming(lease=timedelta(seconds=10), heartbeat_every=timedelta(seconds=6))
    with pytest.raises(ValueError, match="positive"):
        LeaseTiming(lease=timedelta(0))
