"""One way to answer with a page: the template, the person, and a navigation for their roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.response import Template

from guild.domain.principal import Principal


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def is_officer(principal: Principal) -> bool:
    return principal.is_admin or any("officer" in roles for roles in principal.roles.values())


def is_producer(principal: Principal) -> bool:
    return principal.is_admin or any("producer" in roles for roles in principal.roles.values())


def nav(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return [NavItem("/verify", "Verify a contract"), NavItem("/signin", "Sign in")]
    items = [NavItem("/", "Home")]
    if is_officer(principal):
        items.append(NavItem("/compacts", "Compacts"))
    if is_producer(principal):
        items.append(NavItem("/productions", "Productions"))
    items += [
        NavItem("/my/contracts", "My contracts"),
        NavItem("/my/apprenticeships", "My apprenticeships"),
        NavItem("/verify", "Verify a contract"),
    ]
    return items


def page(
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=f"pages/{template}",
        context={"me": principal, "nav": nav(principal), **context},
        status_code=status_code,
        headers=headers,
    )
