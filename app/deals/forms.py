"""Forms of the deals area: a rep's new opportunity, a marketer's play, the import's upload."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from app.models import OPPORTUNITY_STATUSES
from app.web.forms import choices


class OpportunityForm(FlaskForm):
    name = StringField("Opportunity name", validators=[DataRequired(), Length(max=200)])
    account = StringField("Account", validators=[DataRequired(), Length(max=200)])
    terms = SelectMultipleField("Account terms", coerce=int, validators=[Optional()])
    stage = SelectField("Stage", coerce=int)
    amount = DecimalField("Amount", places=2, validators=[Optional(), NumberRange(min=0, max=10**13)])
    currency = StringField("Currency", default="USD",
                           validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="Three letters, e.g. USD.")])
    close_date = DateField("Expected close date", validators=[Optional()])

    def fill_choices(self, terms, stages) -> None:
        self.terms.choices = choices((t.id, f"{t.dimension.name}: {t.name}") for t in terms)
        self.stage.choices = choices((s.id, s.name) for s in stages)


class MoveForm(FlaskForm):
    """The deal's stage and outcome, changed in Bridge (when no CRM import does it)."""

    stage = SelectField("Stage", coerce=int)
    status = SelectField("Status", choices=choices(OPPORTUNITY_STATUSES.items()))

    def fill_choices(self, stages, deal) -> None:
        self.stage.choices = choices((s.id, s.name) for s in stages)
        if deal.stage_id is None:
            self.stage.choices.insert(0, choices([(0, "No stage")])[0])
        if not self.is_submitted():
            self.stage.data, self.status.data = deal.stage_id or 0, deal.status


class PlayForm(FlaskForm):
    term = SelectField("Term", coerce=int)
    stage = SelectField("Stage", coerce=int)
    asset = SelectField("Asset", coerce=int)
    note = StringField("Why (shown to reps)", validators=[Length(max=200)])

    def fill_choices(self, terms, stages, assets) -> None:
        self.term.choices = choices((t.id, f"{t.dimension.name}: {t.name}") for t in terms)
        self.stage.choices = choices((s.id, s.name) for s in stages)
        self.asset.choices = choices((a.id, a.title) for a in assets)


class ImportForm(FlaskForm):
    file = FileField("CRM export (CSV)")
