"""App factory: ``create_app()`` is what the ``guild`` CLI and any ASGI server load."""

from __future__ import annotations

from litestar import Litestar
from litestar.plugins.pydantic import PydanticPlugin

from guild.infra.settings import Settings, get_settings
from guild.plugin import GuildCore
from guild.web.conventions import conditional_get
from guild.web.observability import request_id_middleware


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    # request_max_body_size is passed here: Litestar 2.x ignores it when a plugin sets it on AppConfig.
    # validate_strict=None: request models are validated with each field's own strictness (strict integers
    # and floats, guild.domain.values); Litestar's default False would make every Strict() field lax again.
    app = Litestar(
        plugins=[GuildCore(settings), PydanticPlugin(validate_strict=None)],  # type: ignore[arg-type]  # typed bool
        request_max_body_size=settings.max_body_bytes,
    )
    # HEAD, ETag and If-None-Match outside routing, so that HEAD reaches every GET handler (guild.web.conventions).
    # The request id and the access-log line wrap the whole application, not only the routes' middleware
    # stacks: requests refused before a route runs (no such route, 405, the authentication middleware's 401)
    # get their line and X-Request-ID too.
    app.asgi_handler = request_id_middleware(conditional_get(app.asgi_handler))
    return app
