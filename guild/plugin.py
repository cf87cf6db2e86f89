"""GuildCore: the one plugin that wires controllers, auth, errors, logging, lifespan and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins import CLIPluginProtocol, InitPluginProtocol
from litestar.plugins.problem_details import ProblemDetailsPlugin
from litestar.plugins.structlog import StructlogPlugin

from guild import __version__
from guild.accounts.service import load_principal
from guild.cli import register
from guild.infra import db
from guild.infra.pdf import PdfRenderer
from guild.infra.settings import Settings
from guild.pages import configure_pages, swagger_ui
from guild.routes import route_handlers
from guild.web.bodies import GuildRequest
from guild.web.conventions import conventions_middleware
from guild.web.metrics import metrics_controller
from guild.web.observability import quiet_server_access_log, structlog_config
from guild.web.openapi import ApiDocumentation, AuthRule
from guild.web.paging import page_request
from guild.web.problems import problem_details_config
from guild.web.security import TokenIssuer, make_jwt_auth
from scheduler.runs import LeaseTiming
from scheduler.service import GuildScheduler

if TYPE_CHECKING:
    from click import Group


class GuildCore(InitPluginProtocol, CLIPluginProtocol):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:

        settings = self.settings
        jwt_auth = make_jwt_auth(settings, load_principal)
        app_config.route_handlers.extend(route_handlers())
        app_config.route_handlers.append(metrics_controller(settings))  # Prometheus: see guild.web.metrics
        app_config.dependencies["settings"] = Provide(lambda: settings, sync_to_thread=False, use_cache=True)
        issuer = TokenIssuer(jwt_auth)
        renderer = PdfRenderer(
            max_workers=settings.pdf_workers,
            max_tasks_per_child=settings.pdf_recycle_after,
            queue_max=settings.pdf_queue_max,
            tenant_queue_max=settings.pdf_tenant_queue_max,
            timeout=settings.pdf_timeout_seconds,
            worker_memory_mb=settings.pdf_worker_memory_mb,
            worker_nice=settings.pdf_worker_nice,
        )
        app_config.dependencies["pdf_renderer"] = Provide(lambda: renderer, sync_to_thread=False, use_cache=True)
        app_config.dependencies["token_issuer"] = Provide(lambda: issuer, sync_to_thread=False, use_cache=True)
        app_config.dependencies["page"] = Provide(page_request, sync_to_thread=False)  # ?limit=&cursor= of lists
        app_config.state["public_base_url"] = settings.public_base_url  # next links and Location headers
        app_config.openapi_config = OpenAPIConfig(
            title="guild API",
            version=__version__,
            description="Federated labor compacts for independent film.",
            path="/schema",
            render_plugins=[swagger_ui()],  # served by guild: works offline
            use_handler_docstrings=True,  # a handler's docstring is its operation's description
        )
        app_config = configure_pages(app_config, settings)  # HTML pages for people, beside the API
        app_config.request_class = GuildRequest  # JSON bodies: depth limit, clear 400s for undecodable bytes
        app_config = jwt_auth.on_app_init(app_config)
        app_config.middleware.append(conventions_middleware)  # after auth: unknown query 400, 415, Location
        app_config.plugins.append(ApiDocumentation(AuthRule.of(jwt_auth)))  # problem responses, public routes
        app_config = ProblemDetailsPlugin(problem_details_config()).on_app_init(app_config)
        app_config = StructlogPlugin(structlog_config(settings.log_level)).on_app_init(app_config)

        embedded: dict[str, GuildScheduler] = {}

        async def start() -> None:
            quiet_server_access_log()
            await db.startup(settings)
            if settings.scheduler_enabled:  # embedded mode: one process; otherwise run `guild scheduler run`
                scheduler = GuildScheduler(timing=LeaseTiming.from_settings(settings))
                scheduler.start()
                await scheduler.sync_jobs()
                embedded["scheduler"] = scheduler

        async def stop() -> None:
            scheduler = embedded.pop("scheduler", None)
            if scheduler is not None:
                await scheduler.shutdown()
            renderer.shutdown(wait=False)
            await db.shutdown()

        app_config.on_startup.append(start)
        app_config.on_shutdown.append(stop)
        return app_config

    def on_cli_init(self, cli: Group) -> None:

        register(cli)
