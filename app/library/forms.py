"""Forms of the library and its management pages; every one carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import AUDIENCES, FLAG_REASONS, AssetKind, AssetStatus
from app.web.forms import choices

KIND_CHOICES = choices((k.value, k.label) for k in AssetKind)
STATUS_CHOICES = choices((s.value, s.value.capitalize()) for s in AssetStatus)
AUDIENCE_CHOICES = choices([("", "By kind: internal for messaging, battlecards and email templates"),
                            *AUDIENCES.items()])


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes: friendlier than a multi-select on a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AssetForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    kind = SelectField("Kind", choices=KIND_CHOICES)
    product = StringField("Product", validators=[Length(max=80)])
    tags = StringField("Tags", description="Comma-separated, e.g. roi, security",
                       validators=[Length(max=500)])
    terms = MultiCheckboxField("Terms", coerce=int)  # shown as one list per dimension
    stages = MultiCheckboxField("Funnel stages", coerce=int)
    status = SelectField("Status", choices=STATUS_CHOICES)
    expires_on = DateField("Expires on", validators=[Optional()])
    review_interval_days = IntegerField(
        "Review every (days)", validators=[Optional(), NumberRange(7, 730)],
        description="Past this many days since it was last verified, reps see “Needs review”. "
                    "Empty: by kind (30 for battlecards, 180 for case studies, brochures and videos, else 90).")
    audience = SelectField("Audience", choices=AUDIENCE_CHOICES, default="",
                           description="Internal assets cannot be shared, put in pitch kits or customized "
                                       "into customer documents.")
    file = FileField("File", description="PDF, PPTX, DOCX, PNG or JPEG")
    body = TextAreaField("Messaging text (Markdown)", validators=[Length(max=100_000)])
    url = StringField("Video link", validators=[Optional(), URL(require_tld=False), Length(max=500)])


class VersionForm(FlaskForm):
    file = FileField("Replacement file", validators=[DataRequired()])


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)


class RatingForm(FlaskForm):
    stars = RadioField("Rating", choices=choices((str(n), "★" * n) for n in range(5, 0, -1)),
                       validators=[DataRequired(message="Choose a number of stars.")])
    comment = TextAreaField("Where did it help or fall flat?", validators=[Length(max=2000)])
    account = StringField("Account (optional)", validators=[Length(max=120)])
    outcome = SelectField("Deal outcome", default="", choices=choices(
        [("", "—"), ("open", "Open"), ("won", "Won"), ("lost", "Lost")]))


class FlagForm(FlaskForm):
    reason = SelectField("What is wrong?", default="outdated", choices=choices(FLAG_REASONS.items()))
    note = TextAreaField("Details for the owner", validators=[Length(max=2000)],
                         description="e.g. 'Pricing on page 2 is last year's'")


class ResolveFlagForm(FlaskForm):
    resolution = TextAreaField("What was done", validators=[Length(max=2000)], render_kw={"required": True})
    content_changed = BooleanField("The asset was corrected: tell the reps who used it in the last 30 days")
