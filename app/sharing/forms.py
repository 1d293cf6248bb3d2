"""The form that makes a share link."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import Email, Length, Optional

from app.sharing.links import EXPIRY_CHOICES
from app.web.forms import choices


class ShareForm(FlaskForm):
    recipient_name = StringField("Recipient name", validators=[Length(max=120)])
    recipient_email = EmailField("Recipient email",
                                 validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    account = StringField("Account", validators=[Length(max=120)])
    expires = SelectField("Link expires", default="30", choices=choices(EXPIRY_CHOICES.items()))
    allow_download = BooleanField("Allow download", default=True)
