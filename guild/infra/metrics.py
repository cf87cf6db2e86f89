"""Prometheus metrics of the work guild does besides answering requests: PDF renders, compliance sweeps,
findings opened. (HTTP request counts and latencies: :mod:`guild.web.metrics`.)

Each process keeps its own counters in prometheus-client's default registry and exposes them itself: an
app instance on ``/metrics``, the ``guild scheduler run`` process on ``--metrics-port``. Prometheus scrapes
every instance and sums across them; nothing is shared between processes.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PDF_RENDERS = Counter(
    "guild_pdf_renders_total",
    "PDF documents rendered, by outcome (ok, or the failure: busy, timeout, unavailable, too_large, error).",
    ["outcome"],
)
PDF_RENDER_SECONDS = Histogram(
    "guild_pdf_render_seconds",
    "Time from submitting a document to the render pool to having its PDF (queueing included), successful renders.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
SWEEP_SECONDS = Histogram(
    "guild_sweep_seconds",
    "Duration of scheduled compliance sweeps run by this process, by outcome (ran, resumed, failed).",
    ["outcome"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600),
)
FINDINGS_OPENED = Counter(
    "guild_findings_opened_total",
    "Compliance findings opened by checks and sweeps this process committed.",
)
