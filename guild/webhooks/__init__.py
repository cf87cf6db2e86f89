"""Signed outbound webhooks (outbox pattern): ``enqueue`` inside a write transaction, ``deliver_due`` later."""

from guild.webhooks.delivery import DeliveryStats, deliver_due
from guild.webhooks.rules import FINDING_ESCALATED, FINDING_OPENED, FINDING_RESOLVED, sign, verify_signature
from guild.webhooks.service import enqueue

__all__ = [
    "FINDING_ESCALATED",
    "FINDING_OPENED",
    "FINDING_RESOLVED",
    "DeliveryStats",
    "deliver_due",
    "enqueue",
    "sign",
    "verify_signature",
]
