"""E-mail: an outbox written in the deciding transaction, delivered over SMTP by the scheduler.

``enqueue`` inside the ``write_tx()`` that makes the change; ``deliver_due`` (the scheduler's ``mail`` job)
sends what is due.
"""

from guild.mail.delivery import MailStats, deliver_due
from guild.mail.service import enqueue

__all__ = ["MailStats", "deliver_due", "enqueue"]
