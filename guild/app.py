"""App factory: ``create_app()`` is what the ``guild`` CLI and any ASGI server load."""

from __future__ import annotations

from litestar import Litestar

from guild.plugin import GuildCore
from guild.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    # request_max_body_size is passed here: Litestar 2.x ignores it when a plugin sets it on AppConfig.
    return Litestar(plugins=[GuildCore(settings)], request_max_body_size=settings.max_body_bytes)
