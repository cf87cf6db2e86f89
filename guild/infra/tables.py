"""Piccolo tables. Every primary key is a UUID; every timestamp is ``Timestamptz`` (UTC)."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    Array,
    BigInt,
    Boolean,
    Bytea,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from guild.domain.statuses import (
    CommitmentStatus,
    ContractStatus,
    Decision,
    DeliveryStatus,
    FindingStatus,
    MailStatus,
    ProductionStatus,
    RunStatus,
    RunTrigger,
    VersionStatus,
)


class User(Table, tablename="guild_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=200)
    password_hash = Varchar(length=255)
    is_admin = Boolean(default=False)
    is_active = Boolean(default=True)
    created_at = Timestamptz()
    # Raised by every password change or reset: bearer tokens carry the value they were issued with and stop
    # working once it moves on.
    credentials_version = Integer(default=0)


class Organization(Table, tablename="organization"):
    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=200)
    kind = Varchar(length=32)
    created_at = Timestamptz()


class Membership(Table, tablename="membership"):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16)
    created_at = Timestamptz()
    # unique (organization, user, role): a unique index made in the migration (SQLite cannot ALTER ADD CONSTRAINT)


class MembershipInvitation(Table, tablename="membership_invitation"):
    """An officer's offer of a role to whoever holds an e-mail address; it becomes a membership when that
    account accepts it (unique per organisation, e-mail and role: migration index)."""

    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.cascade, index=True)
    email = Varchar(length=254, index=True)
    role = Varchar(length=16)
    invited_by = Varchar(length=64, null=True)
    created_at = Timestamptz()
    # The e-mailed link's token, stored only as its SHA-256 (hex); null for invitations made before links.
    token_hash = Varchar(length=64, null=True, default=None, index=True)
    expires_at = Timestamptz(null=True, default=None)


class PasswordResetToken(Table, tablename="password_reset_token"):
    """A single-use, expiring password reset link's token (only its SHA-256 is stored); a reset or a password
    change deletes every token of the account."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, index=True)
    expires_at = Timestamptz()
    created_at = Timestamptz()


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained log of every state change."""

    seq = BigInt(unique=True, index=True)
    id = UUID(primary_key=True)
    at = Timestamptz()
    actor_id = Varchar(length=64, null=True)
    action = Varchar(length=64)
    entity_type = Varchar(length=64)
    entity_id = Varchar(length=64)
    data = JSON()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)
    mac = Varchar(length=64, default="")  # HMAC-SHA256 of ``hash`` with the audit key (guild.infra.audit.event_mac)
    # index (entity_type, entity_id): made in the migration (the audit cross-check looks events up by entity)


class AuditCheckpoint(Table, tablename="audit_checkpoint"):
    """The audit chain's head at one moment (event count and hash), MAC'd; also appended to a file outside
    the database, so deleting the newest events, or all of them, is detected."""

    id = UUID(primary_key=True)
    seq = BigInt(unique=True)
    head_hash = Varchar(length=64)
    at = Timestamptz()
    mac = Varchar(length=64)


class Compact(Table, tablename="compact"):
    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True, index=True)
    title = Varchar(length=200)
    convening_org = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    created_by = Varchar(length=64, null=True)
    created_at = Timestamptz()


class CompactParty(Table, tablename="compact_party"):
    """A signatory organisation of a compact (unique per compact: index made in the migration)."""

    id = UUID(primary_key=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    added_at = Timestamptz()


class CompactVersion(Table, tablename="compact_version"):
    """One version of a compact's terms. From ``proposed`` on, ``terms`` and ``parties`` never change."""

    id = UUID(primary_key=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    number = Integer()
    parent_number = Integer(null=True)
    status = Varchar(length=16, index=True, choices=VersionStatus)
    terms = JSON()
    parties = JSON(default="[]")  # signatory org slugs, frozen at proposal
    terms_hash = Varchar(length=64, null=True, index=True)
    revision = Integer(default=1)
    created_by = Varchar(length=64, null=True)
    created_at = Timestamptz()
    proposed_at = Timestamptz(null=True, default=None)
    ratified_at = Timestamptz(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    closed_reason = Text(default="")


class CompactDocument(Table, tablename="compact_document"):
    """A rendered PDF of a non-draft compact version, stored so that asking again costs a read, not a render.
    ``input_sha256`` is the SHA-256 of everything the document is made from (template files, context,
    attachment): a new decision or status makes a new document; the same inputs never render twice."""

    id = UUID(primary_key=True)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.cascade, index=True)
    input_sha256 = Varchar(length=64, unique=True)
    pdf = Bytea()
    pdf_sha256 = Varchar(length=64)
    rendered_at = Timestamptz()


class RatificationDecision(Table, tablename="ratification_decision"):
    """One party's decision on one proposed version (unique per version and party: index in the migration)."""

    id = UUID(primary_key=True)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.cascade, index=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict)
    decision = Varchar(length=16, choices=Decision)
    reason = Text(default="")
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    decided_at = Timestamptz()


class Production(Table, tablename="production"):
    id = UUID(primary_key=True)
    company = ForeignKey(references=Organization, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    budget_minor = BigInt()
    currency = Varchar(length=3)
    start_date = Date(null=True, default=None)
    end_date = Date(null=True, default=None)
    status = Varchar(length=16, default=ProductionStatus.development, choices=ProductionStatus)
    created_at = Timestamptz()
    # Incremental compliance sweeps (guild.compliance.service). ``inputs_rev`` is bumped by database triggers
    # (migration "compliance inputs triggers") in the transaction of every write to the production's compliance
    # inputs; a check stores the revision it evaluated, the run that did, and the next instant a time-driven
    # rule (a commitment falling due, a finding escalating) can change its findings without any write.
    inputs_rev = BigInt(default=1)
    evaluated_rev = BigInt(default=0)
    checked_run = UUID(null=True, default=None)
    next_check_at = Timestamptz(null=True, default=None, index=True)


class ProductionBinding(Table, tablename="production_binding"):
    """A production bound to one ratified compact version (unique per production and compact: migration index)."""

    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, index=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.restrict)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.restrict)
    version_hash = Varchar(length=64)
    bound_at = Timestamptz()


class Engagement(Table, tablename="engagement"):
    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, index=True)
    person_name = Varchar(length=200)
    user = ForeignKey(references=User, on_delete=OnDelete.set_null, null=True, index=True)
    department = Varchar(length=32)
    role = Varchar(length=200)
    level = Varchar(length=16)
    rate_minor_per_week = BigInt()
    currency = Varchar(length=3)
    start_date = Date()
    end_date = Date()
    mentor: ForeignKey[Engagement] = ForeignKey(references="self", on_delete=OnDelete.set_null, null=True)
    # the producer's own stable id for the engagement; unique per production when given (migration index
    # engagement_external_ref); roster imports in upsert mode match rows by it
    external_ref = Varchar(length=200, null=True, default=None)
    created_at = Timestamptz()


class CustomClause(Table, tablename="custom_clause"):
    """An officer's plain-text clause for their organisation (unique per org, key and version: migration index)."""

    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=80)
    version = Integer()
    title = Varchar(length=200)
    text = Text()
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    created_at = Timestamptz()


class CustomClauseReview(Table, tablename="custom_clause_review"):
    """An officer of a compact's party reviewed a custom clause version against one term of one compact
    version (contracts.screening): the clause may then stand beside that term. Unique per clause, version
    and term path (migration index); never changed."""

    id = UUID(primary_key=True)
    custom_clause = ForeignKey(references=CustomClause, on_delete=OnDelete.cascade, index=True)
    compact_version = ForeignKey(references=CompactVersion, on_delete=OnDelete.cascade, index=True)
    term_path = Varchar(length=200)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.restrict)
    reviewer = ForeignKey(references=User, on_delete=OnDelete.restrict)
    note = Text()
    reviewed_at = Timestamptz()


class Contract(Table, tablename="contract"):
    """An issued talent contract: its data, compliance report and PDF never change; it can only be voided or
    superseded (status: guild.domain.statuses.ContractStatus)."""

    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.restrict, index=True)
    engagement = ForeignKey(references=Engagement, on_delete=OnDelete.restrict, index=True)
    contract_type = Varchar(length=16)
    status = Varchar(length=16, default=ContractStatus.issued, choices=ContractStatus)
    document = JSON()
    document_sha256 = Varchar(length=64, unique=True)
    compliance = JSON()
    pdf = Bytea()
    pdf_sha256 = Varchar(length=64, index=True)
    idempotency_key = Varchar(length=200, null=True)
    request_sha256 = Varchar(length=64)
    issued_by = ForeignKey(references=User, on_delete=OnDelete.restrict)
    issued_at = Timestamptz()
    voided_at = Timestamptz(null=True, default=None)
    void_reason = Text(default="")
    # status superseded: the later contract of the same engagement that replaced this one, and when.
    # At most one issued (live) contract per engagement: the partial unique index contract_one_live.
    superseded_by = UUID(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)
    # What the compliance sweep reads of the document and report, kept as columns at issue
    # (contracts.rules.contract_facts) so a sweep never re-parses documents.
    clause_keys = Array(base_column=Varchar(length=64), default=list)
    planned_ai_uses = Array(base_column=Varchar(length=64), default=list)
    version_hashes = Array(base_column=Varchar(length=64), default=list)
    compliant = Boolean(default=False)


class ContractRecheck(Table, tablename="contract_recheck"):
    """An issued contract re-checked against a compact version it was not issued under (an amendment its
    production's binding moved to, or a compact bound later): computed once by the compliance engine
    (guild.compliance.recheck) and kept; the contract's own document and report never change. Unique per
    contract and version hash (migration index ``contract_recheck_once``)."""

    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, on_delete=OnDelete.cascade)
    version_hash = Varchar(length=64)
    compliant = Boolean()
    violations = JSON()  # what it breaks under that version, as its compliance report words a violation
    checked_at = Timestamptz()


class AssetDisclosure(Table, tablename="asset_disclosure"):
    """Per production and asset category: how many assets, how many AI-generated (unique per pair: migration)."""

    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, index=True)
    category = Varchar(length=32)
    total_count = Integer()
    ai_generated_count = Integer()
    tools = JSON(default="[]")
    evidence_notes = Text(default="")
    updated_at = Timestamptz()


class ComplianceRun(Table, tablename="compliance_run"):
    """One compliance check: a scheduled sweep slot (unique per job and slot: migration) or an on-demand check."""

    id = UUID(primary_key=True)
    trigger = Varchar(length=16, choices=RunTrigger)
    job_id = Varchar(length=120, null=True, default=None)
    slot = Timestamptz(null=True, default=None)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, null=True, index=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, null=True, index=True)
    status = Varchar(length=16, choices=RunStatus)
    owner = Varchar(length=120, default="")
    cursor = Varchar(length=64, default="")  # last production id completed: a resumed sweep starts after it
    productions_checked = Integer(default=0)
    findings_opened = Integer(default=0)
    findings_resolved = Integer(default=0)
    started_at = Timestamptz()
    heartbeat_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    error = Text(default="")
    # The owner's lease (scheduler/runs.py): renewed by its heartbeats and batch commits; once it lapses any
    # live process takes the run over, which bumps ``lease_epoch`` (a fencing token every owner write checks).
    lease_expires_at = Timestamptz(null=True, default=None)
    lease_epoch = Integer(default=0)
    takeovers = Integer(default=0)  # times taken over from an owner whose lease lapsed (not clean hand-overs)
    full = Boolean(default=True)  # every bound production re-evaluated; False: only changed or due ones


class Finding(Table, tablename="finding"):
    """An obligation (rule, subject) a production breaks under its bound compact versions. Resolved, never
    deleted. ``compact`` and ``version``: the primary one, whose requirement is the strictest; every
    version requiring it is cited (:class:`FindingCitation`).

    At most one open finding per (production, rule, subject): the partial unique index finding_one_obligation.
    """

    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, index=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.restrict)
    rule = Varchar(length=64)
    subject = Varchar(length=120)
    severity = Varchar(length=16)
    status = Varchar(length=16, choices=FindingStatus)  # open ones: the partial unique index finding_one_obligation
    evidence = JSON()
    remediation = Text(default="")
    first_seen_at = Timestamptz()
    last_seen_at = Timestamptz()
    due_at = Timestamptz()
    escalated_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    first_run = ForeignKey(references=ComplianceRun, on_delete=OnDelete.set_null, null=True)
    last_run = ForeignKey(references=ComplianceRun, on_delete=OnDelete.set_null, null=True)


class FindingCitation(Table, tablename="finding_citation"):
    """A compact version that requires what a finding says is broken (its primary version included).
    Officers of the compact's parties see the finding; its convening organisation gets its webhook events.
    One row per (finding, version): a unique index."""

    id = UUID(primary_key=True)
    finding = ForeignKey(references=Finding, on_delete=OnDelete.cascade, index=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade, index=True)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.restrict)


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=2000)
    secret = Varchar(length=128, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """The delivery log: one row per event and endpoint, retried with backoff until delivered or given up."""

    id = UUID(primary_key=True)
    endpoint = ForeignKey(references=WebhookEndpoint, on_delete=OnDelete.cascade, index=True)
    event = Varchar(length=64)
    payload = JSON()
    status = Varchar(length=16, index=True, choices=DeliveryStatus)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    last_status_code = Integer(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class MailMessage(Table, tablename="mail_message"):
    """The e-mail outbox: written in the transaction that decides to send, delivered over SMTP by the scheduler."""

    id = UUID(primary_key=True)
    kind = Varchar(length=32)  # invitation, password_reset, ...: what the message is for
    to_address = Varchar(length=254, index=True)
    subject = Varchar(length=200)
    body_text = Text()
    status = Varchar(length=16, index=True, choices=MailStatus)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    last_error = Text(default="")
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)


class Commitment(Table, tablename="commitment"):
    """An apprenticeship obligation of a production under one bound compact version (unique per key: migration)."""

    id = UUID(primary_key=True)
    production = ForeignKey(references=Production, on_delete=OnDelete.cascade, index=True)
    compact = ForeignKey(references=Compact, on_delete=OnDelete.cascade)
    version = ForeignKey(references=CompactVersion, on_delete=OnDelete.restrict)
    key = Varchar(length=64)
    title = Varchar(length=200)
    due_date = Date()
    status = Varchar(length=16, default=CommitmentStatus.open, choices=CommitmentStatus)
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class CalendarToken(Table, tablename="calendar_token"):
    """A per-user secret for iCalendar feed URLs (calendar apps cannot send bearer tokens)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, unique=True)
    token = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()


class RateLimitCounter(Table, tablename="rate_limit_counter"):
    """A fixed-window attempt counter (sign-in throttling), shared by every app instance.

    ``key`` is the SHA-256 of the limit's name and its subject (a client address, an e-mail): the
    table never holds addresses or e-mails in the clear.
    """

    key = Varchar(length=64, primary_key=True)
    window_start = BigInt()  # unix seconds
    hits = Integer(default=0)


class WebSession(Table, tablename="web_session"):
    """A page session (Litestar's server-side session store): shared by every app instance on the database.

    ``key`` is the session id from the browser's cookie; ``expires_at`` is unix seconds (None: never).
    """

    key = Varchar(length=255, primary_key=True)
    value = Bytea()
    expires_at = BigInt(null=True, default=None, index=True)
