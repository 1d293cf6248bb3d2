"""Flask-WTF forms; every one carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, RadioField, SelectChoice, DateField, EmailField, HiddenField, PasswordField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, URL
from wtforms.widgets import CheckboxInput, ListWidget

from .flags import REASONS
from .sharing import EXPIRY_CHOICES
from .models import AssetKind, AssetStatus, Role


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


ROLE_CHOICES = choices((r.value, r.label) for r in Role)
KIND_CHOICES = choices((k.value, k.label) for k in AssetKind)
STATUS_CHOICES = choices((s.value, s.value.capitalize()) for s in AssetStatus)


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: friendlier than a multi-select on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """An empty form for POST buttons (archive, delete, revoke): just the CSRF token."""


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class AssetForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    kind = SelectField("Kind", choices=KIND_CHOICES)
    product = StringField("Product", validators=[Length(max=80)])
    tags = StringField("Tags", description="Comma-separated, e.g. roi, security",
                       validators=[Length(max=500)])
    segments = MultiCheckboxField("Segments", coerce=int)
    stages = MultiCheckboxField("Funnel stages", coerce=int)
    status = SelectField("Status", choices=STATUS_CHOICES)
    expires_on = DateField("Expires on", validators=[Optional()])
    file = FileField("File", description="PDF, PPTX, DOCX, PNG or JPEG")
    body = TextAreaField("Messaging text (Markdown)", validators=[Length(max=100_000)])
    url = StringField("Video link", validators=[Optional(), URL(require_tld=False), Length(max=500)])


class VersionForm(FlaskForm):
    file = FileField("Replacement file", validators=[DataRequired()])


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)


class UserCreateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    team_id = SelectField("Team", coerce=int)
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=8, max=200)])


class UserEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    team_id = SelectField("Team", coerce=int)
    active = BooleanField("Active (may log in)")


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField("Repeat", validators=[EqualTo("password", "The passwords differ.")])


class NameForm(FlaskForm):
    """Create or rename a team, segment or stage."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)],
                       description="What will use it, e.g. 'Salesforce sync'")


class RatingForm(FlaskForm):
    stars = RadioField("Rating", choices=choices((str(n), "★" * n) for n in range(5, 0, -1)),
                       validators=[DataRequired(message="Choose a number of stars.")])
    comment = TextAreaField("Where did it help or fall flat?", validators=[Length(max=2000)])
    account = StringField("Account (optional)", validators=[Length(max=120)])
    outcome = SelectField("Deal outcome", default="", choices=choices(
        [("", "—"), ("open", "Open"), ("won", "Won"), ("lost", "Lost")]))


class FlagForm(FlaskForm):
    reason = SelectField("What is wrong?", default="outdated", choices=choices(REASONS.items()))
    note = TextAreaField("Details for the owner", validators=[Length(max=2000)],
                         description="e.g. 'Pricing on page 2 is last year's'")


class ResolveFlagForm(FlaskForm):
    resolution = TextAreaField("What was done", validators=[Length(max=2000)])


class TemplateForm(FlaskForm):
    html = TextAreaField("Template HTML (Jinja)", validators=[DataRequired(), Length(max=200_000)])
    css = TextAreaField("CSS", validators=[Length(max=200_000)])
    fields_json = TextAreaField("Fields (JSON)", validators=[Length(max=20_000)])
    preview = SubmitField("Preview")
    save = SubmitField("Save template")


class ShareForm(FlaskForm):
    recipient_name = StringField("Recipient name", validators=[Length(max=120)])
    recipient_email = EmailField("Recipient email", validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    account = StringField("Account", validators=[Length(max=120)])
    expires = SelectField("Link expires", default="30", choices=choices(EXPIRY_CHOICES.items()))
    allow_download = BooleanField("Allow download", default=True)
