"""Signed outbound webhooks (outbox pattern): ``enqueue`` inside a write transaction, ``deliver_due`` later."""

from guild.webhooks.service import (
    FINDING_ESCALATED,
    FINDING_OPENED,
    FINDING_RESOLVED,
    DeliveryStats,
    deliver_due,
    enqueue,
    sign,
    verify_signature,
)

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
