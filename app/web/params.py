"""Parameters from URLs, query strings and forms, checked once: a malformed or out-of-range number,
or a NUL character anywhere, is a 404 (in the path) or a 422 naming the parameter, never a
database error.

Ids are INTEGER columns: 32 bits on PostgreSQL ("integer out of range" beyond 2^31 − 1, found by
the API contract test), 64 on SQLite, which refuses to even bind a larger Python int ("int too
large"); PostgreSQL also refuses a negative OFFSET. So nothing beyond these bounds may reach a query.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from flask import abort, request
from werkzeug.routing import IntegerConverter, ValidationError

MAX_INT = 2**31 - 1  # the smaller of the two databases' INTEGER
MAX_DIGITS = len(str(MAX_INT))
WHOLE_NUMBER = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")
MAX_PAGE = 100_000  # far beyond any library; keeps OFFSET page × size well inside 64 bits


class ParameterError(ValueError):
    """A query or form parameter the request got wrong; answered 422 with `field` and the message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class IdConverter(IntegerConverter):
    """`<int:…>` in routes: ASCII digits up to MAX_INT, else the route does not match (404).

    Werkzeug's own converter accepts any length and calls int() on it: 25 digits reached SQLite
    as "int too large" (500), and 5,000 digits make int() itself raise.
    """

    regex = rf"[0-9]{{1,{MAX_DIGITS}}}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_INT,
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str) -> int:
        if len(value) > MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


def refuse_nul_characters() -> None:
    """Before each request: a NUL character in the path is a 404, in a parameter a 422.

    No Bridge field means one, PostgreSQL text cannot hold one (it answered 500), and SQLite would
    keep a string that ends early for C code reading it.
    """
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        abort(404)
    for name, value in (*request.args.items(multi=True), *request.form.items(multi=True)):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "")
            raise ParameterError(field, f"{field} must not contain NUL characters.")
    if request.is_json and _holds_nul(request.get_json(silent=True)):
        raise ParameterError("body", "The JSON body must not contain NUL characters.")


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def parse_int(text: str | None, field: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """`text` as a whole number in [minimum, maximum], or ParameterError naming `field`."""
    text = (text or "").strip()
    if not WHOLE_NUMBER.fullmatch(text):
        raise ParameterError(field, f"{field} must be a whole number.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise ParameterError(field, f"{field} must be between {minimum} and {maximum}.")
    return value


def int_arg(args: Mapping, field: str, default: int | None = None, *, minimum: int = 0,
            maximum: int = MAX_INT) -> int | None:
    """The whole number `args[field]` (a query string or form), `default` when absent or empty."""
    text = args.get(field)
    if text is None or text == "":
        return default
    return parse_int(text, field, minimum=minimum, maximum=maximum)


def page_arg(args: Mapping, field: str = "page") -> int:
    """A page number from 1 (the default) to MAX_PAGE."""
    return int_arg(args, field, 1, minimum=1, maximum=MAX_PAGE)


def id_arg(args: Mapping, field: str, default: int | None = None) -> int | None:
    """A database id (from 1)."""
    return int_arg(args, field, default, minimum=1)


def as_id(text: str) -> int | None:
    """`text` as a database id if it is one (digits, 1 to MAX_INT), else None: for filters where an
    id that cannot exist simply matches nothing."""
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS or not 0 < int(text) <= MAX_INT:
        return None
    return int(text)


def id_list(args, field: str) -> list[int]:
    """Every value of `field` (a MultiDict: ?ids=1&ids=2) as database ids, empty ones skipped."""
    return [parse_int(value, field, minimum=1) for value in args.getlist(field) if value != ""]
