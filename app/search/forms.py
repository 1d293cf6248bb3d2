"""The synonym page's forms; each carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class SynonymForm(FlaskForm):
    terms = StringField("Words or phrases that mean the same", validators=[DataRequired(), Length(max=2000)],
                        description="Separated by commas, e.g. mid-size, mid-market, midsize")
