"""Wiring of the pages into the app: templates, static files, the page router with session, CSRF and CSP."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response, Router
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from pydantic import ValidationError

import templates
from guild.domain.errors import GuildError
from guild.infra.sessions import DatabaseStore
from guild.infra.settings import Settings
from guild.pages import errors, filters
from guild.pages.account import AccountPagesController
from guild.pages.auth import SignInController
from guild.pages.contract_form import ContractFormController
from guild.pages.home import HomeController
from guild.pages.member import MemberController
from guild.pages.members import MemberPagesController
from guild.pages.officer import OfficerController
from guild.pages.producer import ProducerController
from guild.pages.roster import RosterController
from guild.pages.session import SignInRequired, session_config
from guild.pages.terms_form import TermsFormController
from guild.pages.verify import VerifyController
from guild.pages.webhooks import WebhookPagesController
from guild.web.problems import problem_details_config

TEMPLATES_DIR = Path(templates.__file__).parent
STATIC_DIR = TEMPLATES_DIR / "static"
CSRF_COOKIE = "guild_csrf"

# Scripts and styles only from guild itself; no inline script, no framing, forms post only here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _security_headers(response: Response[Any]) -> Response[Any]:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    response = errors.not_found(request, exc)
    return response if errors.is_api_path(request.url.path) else _security_headers(response)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters.install(env)
    return env


def pages_router(settings: Settings) -> Router:
    secure = settings.public_base_url.startswith("https://")
    csrf = CSRFConfig(
        # a key of its own, derived from the app secret: a CSRF token never doubles as a signing key for tokens
        secret=hmac.new(settings.jwt_secret().encode(), b"guild pages csrf", hashlib.sha256).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrf-token",
    )
    return Router(
        path="/",
        route_handlers=[
            HomeController,
            SignInController,
            AccountPagesController,
            MemberController,
            ProducerController,
            ContractFormController,
            TermsFormController,
            RosterController,
            OfficerController,
            VerifyController,
            WebhookPagesController,
            MemberPagesController,
        ],
        middleware=[session_config(secure=secure).middleware, DefineMiddleware(CSRFMiddleware, config=csrf)],
        exception_handlers={
            # every error the API maps to a problem document, as an HTML page (same status, same words)
            **dict.fromkeys(problem_details_config().exception_to_problem_detail_map, errors.problem_page),
            SignInRequired: errors.sign_in_redirect,
            GuildError: errors.guild_error_page,
            ValidationError: errors.invalid_form_page,
            HTTPException: errors.http_error_page,
            Exception: errors.unexpected_error_page,
        },
        after_request=_security_headers,
        include_in_schema=False,
        opt={"public": True},  # no bearer token: the page session decides who is asking
    )


def configure_pages(app_config: AppConfig, settings: Settings) -> AppConfig:
    app_config.template_config = TemplateConfig(engine=JinjaTemplateEngine.from_environment(_environment()))
    sessions = DatabaseStore()  # in the database: shared by every app instance behind a load balancer
    if isinstance(app_config.stores, StoreRegistry):
        app_config.stores.register("sessions", sessions, allow_override=True)
    else:
        app_config.stores = {**(app_config.stores or {}), "sessions": sessions}

    # an unknown address outside the API is a page too (the API's own 404s stay problem documents)
    app_config.exception_handlers[NotFoundException] = _not_found
    app_config.route_handlers.append(pages_router(settings))
    app_config.route_handlers.append(
        create_static_files_router(
            path="/static",
            directories=[STATIC_DIR],
            opt={"public": True},
            include_in_schema=False,
            cache_control=None,
            name="static",
        )
    )
    return app_config


_SWAGGER = "/static/vendor/swagger-ui"


def swagger_ui() -> SwaggerRenderPlugin:
    """Swagger UI at /schema with its files from guild itself (templates/static/vendor/swagger-ui, see its
    README), not from a CDN, so the API documentation works offline."""
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
        css_url=f"{_SWAGGER}/swagger-ui.css",
        standalone_preset_js_url=f"{_SWAGGER}/swagger-ui-standalone-preset.js",
        favicon="",  # Litestar's default favicon comes from a CDN
    )
