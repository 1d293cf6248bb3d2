"""What every area's forms share: select choices, and the empty form behind POST buttons."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class ActionForm(FlaskForm):
    """An empty form for POST buttons (archive, delete, revoke): just the CSRF token."""
