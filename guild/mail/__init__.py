"""E-mail: an outbox written in the deciding transaction, delivered over SMTP by the scheduler."""
