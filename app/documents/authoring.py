"""Customizable assets, the marketer's side: templates with declared fields, checked and rendered.

Templates are Jinja run in a SandboxedEnvironment with autoescape, fed only plain strings; the
HTML goes to WeasyPrint in the worker's render process (`files.pdf.RenderProcess`: no fetching
beyond static files and data: URIs, a time and memory limit per render).

A field's `default` is an example for text, long text and dates (shown to the rep as a
placeholder, never printed unless the rep types it) and the option chosen at first for a choice.
One field names the customer: the one declared `"account": true`, else the first field named
`account`, `customer`, `customer_name`, else the first required text field. Its value is the
account a generated document is filed under, so the rep types the customer's name once.
"""
from __future__ import annotations

import base64
import functools
import json
import re
from dataclasses import dataclass
from datetime import date

from jinja2 import StrictUndefined, TemplateSyntaxError
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.database import transaction
from app.extensions import db
from app.files import pages, pdf, storage
from app.models import Asset, DocumentTemplate

FIELD_TYPES = {"text": "Short text", "long_text": "Long text", "number": "Number", "choice": "Choice",
               "image": "Image", "date": "Date"}
BASE_STYLESHEET = "pdf/customize-base.css"
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
NESTED_TOO_DEEPLY = "The template nests brackets, tags or blocks too deeply to be read; flatten it."


class TemplateError(ValueError):
    """A marketer-facing reason why a template cannot be saved (with the line when known)."""


ACCOUNT_NAMES = ("account", "customer", "customer_name")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"
    default: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    account: bool = False  # declared as the customer's field

    def as_dict(self) -> dict:
        declared = {"name": self.name, "label": self.label, "type": self.type, "default": self.default,
                    "choices": list(self.choices), "required": self.required}
        return {**declared, "account": True} if self.account else declared

    @property
    def example(self) -> str:
        """What the rep sees greyed out in an empty box: the default of a text, long text or date."""
        return self.default if self.type in ("text", "long_text", "number", "date") else ""


def parse_fields(declared: list) -> list[Field]:
    """Check a template's declared fields: names, types, choices and defaults."""
    if not isinstance(declared, list):
        raise TemplateError("Fields must be a JSON list of objects.")
    fields, seen = [], set()
    for n, item in enumerate(declared, start=1):
        if not isinstance(item, dict):
            raise TemplateError(f"Field {n}: must be an object with name, label and type.")
        name, kind = str(item.get("name", "")), str(item.get("type", "text"))
        if not NAME.fullmatch(name) or name in seen:
            raise TemplateError(f"Field {n}: name {name!r} must be unique, lower case, letters, digits and _.")
        if kind not in FIELD_TYPES:
            raise TemplateError(f"Field {name}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}.")
        choices = tuple(str(c) for c in item.get("choices", []) or [])
        if kind == "choice" and not choices:
            raise TemplateError(f"Field {name}: a choice needs a list of choices.")
        default = str(item.get("default", "") or "")
        if kind == "choice" and default and default not in choices:
            raise TemplateError(f"Field {name}: default {default!r} is not one of its choices.")
        account = item.get("account", False) is True
        if account and kind != "text":
            raise TemplateError(f"Field {name}: the account field must be of type text.")
        if account and any(f.account for f in fields):
            raise TemplateError(f"Field {name}: only one field can be the account field.")
        seen.add(name)
        fields.append(Field(name, str(item.get("label") or name.replace("_", " ").capitalize()), kind,
                            default, choices, bool(item.get("required", False)), account))
    return fields


def account_field(fields: list[Field]) -> Field | None:
    """The field that names the customer (see the module's docstring), or None when no text field can."""
    texts = [f for f in fields if f.type == "text"]
    declared = next((f for f in texts if f.account), None)
    by_name = next((f for name in ACCOUNT_NAMES for f in texts if f.name == name), None)
    return declared or by_name or next((f for f in texts if f.required), None)


def parse_fields_json(text: str) -> list[Field]:
    try:
        declared = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise TemplateError(f"Fields, line {exc.lineno}: {exc.msg}.") from exc
    return parse_fields(declared)


# What a new template starts with: the customer's name, the field reps type once per document.
EXAMPLE_FIELDS = (Field("customer_name", "Customer name", "text", "Acme Health", (), True, True),)


def fields_of(template: DocumentTemplate) -> list[Field]:
    return parse_fields(template.fields)


_ENDS_VALUE = "\u2064"  # invisible; marks where a value that ends with a full stop was put


def _mark_full_stop(value):
    return f"{value}{_ENDS_VALUE}" if isinstance(value, str) and value.endswith(".") else value


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_mark_full_stop)


def _one_full_stop(body: str) -> str:
    """"proposal for {{ customer }}." with the customer "Alden & Sons, Ltd." reads "Ltd.", not "Ltd.."."""
    return body.replace(f".{_ENDS_VALUE}.", ".").replace(_ENDS_VALUE, "")


def check_syntax(html: str) -> None:
    """Parse only: compiling folds constant expressions ({{ 'x' * 2000000000 }} allocates 2 GB),
    so compiling and rendering happen in the limited render process, never in the worker."""
    try:
        _environment().parse(html)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"Line {exc.lineno}: {exc.message}") from exc
    except RecursionError:  # Jinja's parser recurses once per level of brackets or blocks
        raise TemplateError(NESTED_TOO_DEEPLY) from None


def render_html(html: str, values: dict[str, str]) -> str:
    """The template's HTML with `values` (plain strings, escaped) inside a document.

    Runs inside the render process (see `render_document`)."""
    try:
        body = _one_full_stop(_environment().from_string(html).render(**values, today=date.today().isoformat()))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"Line {exc.lineno}: {exc.message}") from exc
    except RecursionError:
        raise TemplateError(NESTED_TOO_DEEPLY) from None
    except JinjaTemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateError(f"{f'Line {line}: ' if line else ''}{exc}") from exc
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>{body}</body></html>'


def defaults(fields: list[Field]) -> dict[str, str]:
    return {f.name: f.default for f in fields}


def render_document(template: DocumentTemplate, values: dict[str, str]) -> bytes:
    """The PDF of a template with these values, rendered within the configured limits."""
    check_syntax(template.html)
    return pdf.render_bounded(functools.partial(render_html, template.html, values), (BASE_STYLESHEET,),
                              template.css)


def first_page_png(pdf_bytes: bytes, width: int = 900) -> bytes:
    """Page 1 as a PNG, for previews (drawn by the bounded page renderer)."""
    return pages.pages_of_bytes(pdf_bytes, width, 1, storage.incoming_dir())[0].png


def trial_render(html: str, css: str, fields: list[Field]) -> bytes:
    """Render a template draft with its default values; any problem is a TemplateError."""
    if not html.strip():
        raise TemplateError("The template's HTML is empty.")
    probe = DocumentTemplate(html=html, css=css, fields=[f.as_dict() for f in fields])
    try:
        return render_document(probe, defaults(fields))
    except pdf.RenderError as exc:  # includes the template's own errors, raised in the renderer
        raise TemplateError(str(exc)) from exc


def preview_data_uri(html: str, css: str, fields: list[Field]) -> str:
    png = first_page_png(trial_render(html, css, fields))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def save_template(asset: Asset, html: str, css: str, fields: list[Field], author) -> DocumentTemplate:
    """Check the template compiles and renders with its defaults, then store it as a new version."""
    trial_render(html, css, fields)
    with transaction():
        template = asset.template
        if template is None:
            template = DocumentTemplate(asset_id=asset.id, version=0)
            db.session.add(template)
        template.html, template.css = html, css
        template.fields = [f.as_dict() for f in fields]
        template.version += 1
        template.updated_by_id = author.id
    db.session.refresh(asset)
    return template
