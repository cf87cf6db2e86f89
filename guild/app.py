"""App factory: ``create_app()`` is what the ``guild`` CLI and any ASGI server load."""

from __future__ import annotations

from litestar import Litestar

from guild.plugin import GuildCore
from guild.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    return Litestar(plugins=[GuildCore(settings or get_settings())])
