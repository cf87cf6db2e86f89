# guild as a container image: a regular (non-editable) install of this source tree on slim Python 3.11, run
# as an unprivileged user. The entrypoint is the `guild` command: the default is the server (`guild run`);
# the same image runs `guild db migrate` and `guild scheduler run` (see compose.yaml).
#
#   docker build -t guild .
#   docker run --rm -p 8000:8000 -e GUILD_DATABASE_URL=postgresql://... -e GUILD_SECRET_KEY=... guild

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY guild ./guild
COPY contracts ./contracts
COPY scheduler ./scheduler
COPY templates ./templates
# Into a virtual environment that the runtime stage copies whole: no compiler, no source tree, no pip cache.
RUN python -m venv /opt/guild && /opt/guild/bin/pip install --upgrade pip && /opt/guild/bin/pip install .

FROM python:3.11-slim-bookworm
# WeasyPrint's system libraries (Pango, HarfBuzz's subsetter) and the fonts the contract templates use.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/guild --create-home --shell /usr/sbin/nologin guild
COPY --from=build /opt/guild /opt/guild
ENV PATH=/opt/guild/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GUILD_DATA_DIR=/var/lib/guild \
    LITESTAR_QUIET_CONSOLE=1
USER guild
WORKDIR /var/lib/guild
EXPOSE 8000
# Readiness, not mere liveness: /health answers 200 only when the database and the PDF render pool can serve
# (503 otherwise; urlopen raises on it). The scheduler and migration services of compose.yaml override this.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["guild"]
CMD ["run", "--host", "0.0.0.0", "--port", "8000"]
