"""The convening officer's draft terms editor: a form made from the terms model, one fieldset per section.

Works without JavaScript: "add a row" is a submit button that shows the form again with one more empty
row; a row's "remove" checkbox drops it on the next submit. Saving goes through the API's own service
(:func:`guild.compacts.service.update_draft`) with the revision the officer read (a hidden field, the
API's If-Match): a stale edit shows the current values and says so. Money is typed in major units (the
terms models' ``major_units`` fields); the API's 422 errors are shown beside the fields they name.
"""

from __future__ import annotations

import json
import math
import re
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, ValidationError

from guild.compacts import queries as compacts
from guild.compacts import service
from guild.compacts.lifecycle import Revision
from guild.compacts.schemas import CompactRead, DraftUpdate, VersionRead
from guild.compacts.terms import Terms
from guild.domain.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable
from guild.domain.money import to_major
from guild.domain.principal import Principal
from guild.pages.contract_form import _plain, _words
from guild.pages.render import page
from guild.pages.session import require_principal
from guild.web.params import SlugParam, VersionNumber

_MAX_FORM_FIELDS = 3000
_MAX_ROWS = 60  # rows of one list a form may hold (the terms' own limits are lower or checked by the API)


@dataclass
class Input:
    name: str  # the input's name: the field's path in the terms (money: its major-unit field)
    label: str
    kind: Literal["checkbox", "select", "number", "decimal", "text"]
    value: str
    help: str = ""
    options: list[str] = field(default_factory=list)
    required: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class Group:
    name: str  # path of the section, row or list
    title: str
    kind: Literal["section", "list", "row", "entry"]
    help: str = ""
    optional: bool = False  # a section that may be left out: an "include" checkbox
    present: bool = True
    children: list[Input | Group] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _money(model: type[BaseModel]) -> dict[str, tuple[str, str]]:
    """minor-unit field → (its major-unit field, its currency field)."""
    pairs: dict[str, tuple[str, str]] = getattr(model, "major_units", {})
    return {minor: (major, currency) for major, (minor, currency) in pairs.items()}


def _kind(annotation: Any) -> str:
    """scalar, bool, enum, literal, model, list (of models), map (enum → model or number)."""
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum"
    if typing.get_origin(annotation) is Literal:
        return "literal"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    if typing.get_origin(annotation) is list:
        return "list"
    if typing.get_origin(annotation) is dict:
        return "map"
    return "scalar"


def _inner(annotation: Any, index: int = 0) -> Any:
    inner, _ = _plain(typing.get_args(annotation)[index])
    return inner


def _title(name: str) -> str:
    """A field or model name for people: ``ai_uses`` → "AI uses", ``QuotaRule`` → "Quota rule"."""
    words = _words(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower())
    return re.sub(r"\b(ai|vfx)\b", lambda m: m[1].upper(), words, flags=re.IGNORECASE)


def _label(name: str, description: str | None) -> tuple[str, str]:
    return _title(name), description or ""


# --- the stored terms as the form shows them ---------------------------------------------------------------


def _shown(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """A model's dumped data as form values: money in major units, nested models likewise."""
    money = _money(model)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = data.get(name)
        annotation, _ = _plain(info.annotation)
        kind = _kind(annotation)
        if name in money:
            major, currency = money[name]
            out[major] = "" if value is None else str(to_major(value, data.get(currency) or "EUR"))
        elif value is None:
            out[name] = None
        elif kind == "model":
            out[name] = _shown(annotation, value)
        elif kind == "list" and _kind(_inner(annotation)) == "model":
            out[name] = [_shown(_inner(annotation), row) for row in value]
        elif kind == "map" and _kind(_inner(annotation, 1)) == "model":
            out[name] = {k: _shown(_inner(annotation, 1), v) for k, v in value.items()}
        else:
            out[name] = value
    return out


def terms_values(terms: Terms) -> dict[str, Any]:
    return _shown(Terms, terms.model_dump(mode="json"))


# --- what the officer submitted ------------------------------------------------------------------------------


def _row_indices(form: FormMultiDict, prefix: str) -> list[int]:
    found: set[int] = set()
    for key in form.keys():
        if key.startswith(prefix):
            head = key[len(prefix) :].split(".", 1)[0]
            if head.isdigit() and len(head) < 4:
                found.add(int(head))
    return sorted(found)[:_MAX_ROWS]


def _submitted(model: type[BaseModel], form: FormMultiDict, prefix: str, action: str) -> dict[str, Any]:
    """The form's values for one model (strings, booleans, lists and dicts), rows removed and added."""
    money = _money(model)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "schema_version":
            continue
        annotation, optional = _plain(info.annotation)
        kind = _kind(annotation)
        shown = money[name][0] if name in money else name
        path = f"{prefix}{shown}"
        if kind == "bool":
            out[name] = form.get(path) == "true"
        elif kind == "model":
            if optional and form.get(f"{path}._present") != "true":
                out[name] = None
            else:
                out[name] = _submitted(annotation, form, f"{path}.", action)
        elif kind == "list":
            row_model = _inner(annotation)
            rows = [
                _submitted(row_model, form, f"{path}.{i}.", action)
                for i in _row_indices(form, f"{path}.")
                if form.get(f"{path}.{i}._remove") != "true"
            ]
            if action == f"add:{path}" and len(rows) < _MAX_ROWS:
                rows.append({})
            out[name] = rows
        elif kind == "map":
            key_type, value_type = _inner(annotation), _inner(annotation, 1)
            entries: dict[str, Any] = {}
            for key in key_type:
                if _kind(value_type) == "model":
                    if form.get(f"{path}.{key.value}._present") == "true":
                        entries[key.value] = _submitted(value_type, form, f"{path}.{key.value}.", action)
                else:
                    raw = str(form.get(f"{path}.{key.value}") or "").strip()
                    if raw:
                        entries[key.value] = raw
            out[name] = entries
        else:
            out[shown] = str(form.get(path) or "").strip()
    return out


def _number(raw: str, integer: bool) -> Any:
    try:
        number = int(raw) if integer else float(raw)
    except ValueError:
        return raw  # the terms model refuses it, naming the field
    return number if math.isfinite(number) else raw  # nan, inf: not a number the JSON body could carry


def _payload(model: type[BaseModel], values: dict[str, Any]) -> dict[str, Any]:
    """The submitted values typed as the API's JSON body would carry them; an empty input is left out."""
    money = _money(model)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation, optional = _plain(info.annotation)
        kind = _kind(annotation)
        shown = money[name][0] if name in money else name
        if shown not in values:
            continue
        value = values[shown]
        if kind == "model":
            out[name] = None if value is None else _payload(annotation, value)
        elif kind == "list":
            out[name] = [_payload(_inner(annotation), row) for row in value]
        elif kind == "map":
            value_type = _inner(annotation, 1)
            if _kind(value_type) == "model":
                out[name] = {k: _payload(value_type, v) for k, v in value.items()}
            else:
                out[name] = {k: _number(v, value_type is int) for k, v in value.items()}
        elif kind == "bool":
            out[name] = bool(value)
        elif value == "" and (optional or not info.is_required() or annotation is not str):
            continue  # the default, or the model's "Field required" at this field
        elif name in money:
            out[shown] = value
        elif annotation in (int, float):
            out[name] = _number(value, annotation is int)
        else:
            out[name] = value
    return out


# --- the form ------------------------------------------------------------------------------------------------


def _groups(model: type[BaseModel], values: dict[str, Any] | None, prefix: str) -> list[Input | Group]:
    money = _money(model)
    values = values or {}
    nodes: list[Input | Group] = []
    for name, info in model.model_fields.items():
        if name == "schema_version":
            continue
        annotation, optional = _plain(info.annotation)
        kind = _kind(annotation)
        shown = money[name][0] if name in money else name
        path = f"{prefix}{shown}"
        label, help_ = _label(shown, info.description)
        value = values.get(shown)
        if kind == "model":
            nodes.append(
                Group(
                    path,
                    label,
                    "section",
                    help_ or (annotation.__doc__ or "").split("\n\n")[0].strip(),
                    optional=optional,
                    present=value is not None or not optional,
                    children=_groups(annotation, value, f"{path}."),
                )
            )
        elif kind == "list":
            row_model = _inner(annotation)
            rows: list[Input | Group] = [
                Group(
                    f"{path}.{i}",
                    f"{_title(row_model.__name__)} {i + 1}",
                    "row",
                    children=_groups(row_model, row, f"{path}.{i}."),
                )
                for i, row in enumerate(value or [])
            ]
            nodes.append(Group(path, label, "list", help_, children=rows))
        elif kind == "map":
            key_type, value_type = _inner(annotation), _inner(annotation, 1)
            entries: list[Input | Group] = []
            for key in key_type:
                entry = (value or {}).get(key.value)
                if _kind(value_type) == "model":
                    entries.append(
                        Group(
                            f"{path}.{key.value}",
                            _title(key.value),
                            "entry",
                            optional=True,
                            present=entry is not None,
                            children=_groups(value_type, entry, f"{path}.{key.value}."),
                        )
                    )
                else:
                    entries.append(
                        Input(f"{path}.{key.value}", _title(key.value), "decimal", "" if entry is None else str(entry))
                    )
            nodes.append(Group(path, label, "section", help_, children=entries))
        else:
            spec = Input(path, label, "text", "" if value is None else str(value), help_)
            spec.required = info.is_required() and not optional
            if name in money:
                spec.kind = "decimal"
                spec.label = f"{label} (amount)"
                spec.help = help_.replace("in integer minor units", "in major units (e.g. 1800.00)")
            elif kind == "bool":
                spec.kind, spec.value = "checkbox", "true" if value else ""
            elif kind == "enum":
                spec.kind, spec.options = "select", [str(m.value) for m in annotation]
            elif kind == "literal":
                spec.kind, spec.options = "select", [str(a) for a in typing.get_args(annotation)]
            elif annotation is int:
                spec.kind = "number"
            elif annotation is float:
                spec.kind = "decimal"
            nodes.append(spec)
    return nodes


def _claim(nodes: list[Input | Group], errors: dict[str, list[str]]) -> None:
    """Put each error beside the input or group whose path it names (a minor-unit field's beside its major one)."""
    for node in nodes:
        if isinstance(node, Group):
            _claim(node.children, errors)
        node.errors.extend(errors.pop(node.name, []))


def _minor_to_major(path: str) -> str:
    """terms path of a minor-unit field → the form's major-unit input for it, where the model has one."""
    model: Any = Terms
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return path
        info = model.model_fields.get(part)
        if info is None:
            return path
        if i == len(parts) - 1:
            money = _money(model)
            return ".".join([*parts[:-1], money[part][0]]) if part in money else path
        annotation, _ = _plain(info.annotation)
        kind = _kind(annotation)
        if kind == "model":
            model = annotation
        elif kind in ("list", "map") and i + 1 < len(parts):
            model = _inner(annotation, 0 if kind == "list" else 1)
            parts_rest = parts[i + 2 :]
            return ".".join([*parts[: i + 2], _rest(model, parts_rest)]) if parts_rest else path
        else:
            return path
    return path


def _rest(model: Any, parts: list[str]) -> str:
    if not parts:
        return ""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ".".join(parts)
    info = model.model_fields.get(parts[0])
    if info is None:
        return ".".join(parts)
    if len(parts) == 1:
        money = _money(model)
        return money[parts[0]][0] if parts[0] in money else parts[0]
    annotation, _ = _plain(info.annotation)
    kind = _kind(annotation)
    if kind == "model":
        return f"{parts[0]}.{_rest(annotation, parts[1:])}"
    if kind in ("list", "map") and len(parts) > 2:
        return f"{parts[0]}.{parts[1]}.{_rest(_inner(annotation, 0 if kind == 'list' else 1), parts[2:])}"
    return ".".join(parts)


def _errors_by_path(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    by_path: dict[str, list[str]] = {}
    for item in items:
        path = str(item.get("field", "")).removeprefix("terms.")
        message = str(item.get("message", "invalid value")).removeprefix("Value error, ")
        by_path.setdefault(_minor_to_major(path), []).append(message)
    return by_path


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors as the API's 422 names them (its field paths: the loc joined with dots)."""
    return [{"field": ".".join(str(p) for p in e["loc"]), "rule": e["type"], "message": e["msg"]} for e in exc.errors()]


class TermsFormController(Controller):
    path = "/compacts/{slug:str}/versions/{number:int}/edit"

    async def _draft(self, principal: Principal, slug: str, number: int) -> tuple[CompactRead, VersionRead, Revision]:
        compact = await compacts.get_compact(principal, slug)  # 404 for what this person cannot see
        if not principal.has_role(compact.convening_org, "officer"):  # the rule of the API's PUT
            raise Forbidden(
                f"only officers of the convening organisation {compact.convening_org!r} may do this",
                rule="convening_officer",
            )
        version, revision = await compacts.get_version(principal, slug, number)
        if version.status != "draft":
            raise Conflict(f"version {number} is {version.status}, not a draft", rule="edit_drafts_only")
        return compact, version, revision

    def _page(
        self,
        principal: Principal,
        compact: CompactRead,
        version: VersionRead,
        revision: Revision,
        values: dict[str, Any],
        *,
        status_code: int = 200,
        errors: list[dict[str, Any]] | None = None,
        notice: str = "",
        problem: str = "",
    ) -> Template:
        nodes = _groups(Terms, values, "")
        general = [n for n in nodes if isinstance(n, Input)]  # the document's own fields: one section of them
        sections: list[Input | Group] = [Group("general", "General", "section", children=list(general))]
        sections += [n for n in nodes if isinstance(n, Group)]
        by_path = _errors_by_path(errors or [])
        count = sum(len(m) for m in by_path.values())
        _claim(sections, by_path)
        loose = [f"{path or 'terms'}: {m}" for path, messages in by_path.items() for m in messages]
        return page(
            "terms_form.html",
            principal,
            status_code=status_code,
            compact=compact,
            version=version,
            revision=revision.tag,
            sections=sections,
            error_count=count,
            loose=loose,
            notice=notice,
            problem=problem,
        )

    @get("/")
    async def form(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], number: FromPath[VersionNumber]
    ) -> Template:
        principal = await require_principal(request)
        compact, version, revision = await self._draft(principal, slug, number)
        return self._page(principal, compact, version, revision, terms_values(version.terms))

    @post("/", status_code=200)
    async def submit(
        self, request: Request[Any, Any, Any], slug: FromPath[SlugParam], number: FromPath[VersionNumber]
    ) -> Template | Redirect:
        """Add or remove rows (the form again), or save through the API's service (then the compact page)."""
        principal = await require_principal(request)
        compact, version, current = await self._draft(principal, slug, number)
        form = await request.form()
        if len(list(form.multi_items())) > _MAX_FORM_FIELDS:
            raise Unprocessable("the form has too many fields", title="Validation failed")
        action = str(form.get("action") or "save")
        values = _submitted(Terms, form, "", action)
        read = Revision.from_tag(str(form.get("revision") or ""))
        if action != "save":  # a row added or removed: the form again, nothing saved
            return self._page(principal, compact, version, read, values)
        try:
            update = DraftUpdate.model_validate_json(json.dumps({"terms": _payload(Terms, values)}))
        except ValidationError as exc:
            return self._page(
                principal,
                compact,
                version,
                read,
                values,
                status_code=422,
                errors=_validation_errors(exc),
                problem="Nothing was saved.",
            )
        try:
            await service.update_draft(principal, slug, number, update, read)
        except PreconditionFailed:
            return self._page(
                principal,
                compact,
                version,
                current,
                terms_values(version.terms),
                status_code=412,
                notice="This draft has changed since you read it. Below are its current terms: apply your edit "
                "again and save.",
            )
        except Unprocessable as refused:
            items = refused.extra.get("errors") or [
                {"field": refused.extra.get("field", ""), "message": refused.detail}
            ]
            return self._page(
                principal, compact, version, read, values, status_code=422, errors=items, problem="Nothing was saved."
            )
        return Redirect(path=f"/compacts/{slug}#version-{number}", status_code=303)
