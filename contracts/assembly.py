"""Assembling a contract's text: each clause's wording rendered from its template with its parameters."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from pydantic import BaseModel

from contracts.clauses import ClauseTemplate, validate_params
from guild.domain.money import format_money
from guild.infra.resources import TEMPLATES_DIR


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,  # plain text; escaped when placed in the HTML contract
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = format_money
    return env


def render_clause_text(clause: ClauseTemplate, params: BaseModel | dict[str, Any]) -> str:
    """The clause's plain text with its (validated) parameters interpolated."""
    values = validate_params(clause, params)
    return (
        _environment()
        .get_template(clause.template)
        .render(title=clause.title, clause_key=clause.key, clause_version=clause.version, **dict(values))
    )
