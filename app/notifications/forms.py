"""The preferences form: per kind, shown in the app or not and which email; the segments a rep follows."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired

from app.models import EMAIL_CHOICES, NOTIFICATION_KINDS
from app.notifications.preferences import EMAIL_OPTIONS, Choice
from app.web.forms import choices


class PreferencesForm(FlaskForm):
    """Fields `<kind>_in_app` and `<kind>_email` for every kind (added below), and `segments`."""

    segments = SelectMultipleField("Segments I follow", coerce=int, choices=[], validate_choice=True)

    def kinds(self):
        """(kind, label, in-app field, email field) in the order of NOTIFICATION_KINDS."""
        return [(kind, label, self[f"{kind}_in_app"], self[f"{kind}_email"])
                for kind, label in NOTIFICATION_KINDS.items()]

    def chosen(self) -> dict[str, Choice]:
        return {kind: Choice(in_app=in_app.data, email=email.data) for kind, _, in_app, email in self.kinds()}

    @classmethod
    def filled(cls, current: dict[str, Choice], segment_ids: list[int], term_choices, formdata=None):
        """The form showing `current` choices and segments (overridden by `formdata` when posted)."""
        data = {"segments": segment_ids}
        for kind, choice in current.items():
            data[f"{kind}_in_app"], data[f"{kind}_email"] = choice.in_app, choice.email
        form = cls(formdata=formdata, data=data) if formdata is not None else cls(data=data)
        form.segments.choices = term_choices
        return form


for _kind in NOTIFICATION_KINDS:
    setattr(PreferencesForm, f"{_kind}_in_app", BooleanField("Show in Bridge"))
    setattr(PreferencesForm, f"{_kind}_email", SelectField(
        "Email", choices=choices((o, EMAIL_CHOICES[o]) for o in EMAIL_OPTIONS[_kind]), validators=[InputRequired()]))
