"""The template editor's form (marketers make an asset customizable)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class TemplateForm(FlaskForm):
    html = TextAreaField("Template HTML (Jinja)", validators=[DataRequired(), Length(max=200_000)])
    css = TextAreaField("CSS", validators=[Length(max=200_000)])
    fields_json = TextAreaField("Fields (JSON)", validators=[Length(max=20_000)])
    preview = SubmitField("Preview")
    save = SubmitField("Save template")
