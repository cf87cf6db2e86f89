"""App factory: ``create_app()`` is what the ``guild`` CLI and any ASGI server load."""

from __future__ import annotations

from litestar import Litestar
from litestar.plugins.pydantic import PydanticPlugin

from guild.infra.settings import Settings, get_settings
from guild.plugin import GuildCore
from guild.web.conventions import conditional_get


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    # request_max_body_size is passed here: Litestar 2.x ignores it when a plugin sets it on AppConfig.
    # validate_strict=None: request models are validated with each field's own strictness (strict integers
    # and floats, guild.domain.values); Litestar's default False would make every Strict() field lax again.
    app = Litestar(
        plugins=[GuildCore(settings), PydanticPlugin(validate_strict=None)],  # type: ignore[arg-type]  # typed bool
        request_max_body_size=settings.max_body_bytes,
    )
    # outside routing, so that HEAD reaches every GET handler; ETag and If-None-Match on every GET
    app.asgi_handler = conditional_get(app.asgi_handler)
    return app
