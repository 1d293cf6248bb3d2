"""What every area's forms share: select choices, the empty form behind POST buttons, and one
flash message for a form that came back with errors."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectChoice


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class ActionForm(FlaskForm):
    """An empty form for POST buttons (archive, delete, revoke): just the CSRF token."""


def flash_form_errors(form: FlaskForm) -> None:
    """One message at the top of the page naming what to fix (the fields show their own errors too):
    a refused form must say so where a person looks first."""
    problems = ["The form expired: send it again." if name == "csrf_token"
                else f"{form[name].label.text if name in form else 'The form'}: {'; '.join(errors)}"
                for name, errors in form.errors.items()]
    if problems:
        flash("Not saved. " + " ".join(problems), "error")
