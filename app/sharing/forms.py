"""The form that makes a share link."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Email, Length, Optional

from app.models import SHARE_CALLS_TO_ACTION
from app.sharing.links import EXPIRY_CHOICES, MAX_MESSAGE
from app.web.forms import choices


class ShareForm(FlaskForm):
    recipient_name = StringField("Recipient name", validators=[Length(max=120)])
    recipient_email = EmailField("Recipient email",
                                 validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    account = StringField("Account", validators=[Length(max=120)])
    expires = SelectField("Link expires", default="30", choices=choices(EXPIRY_CHOICES.items()))
    allow_download = BooleanField("Allow download", default=True)
    message = TextAreaField("Personal message (shown above the content)", validators=[Length(max=MAX_MESSAGE)],
                            description="e.g. “As promised, the ROI summary for Mercy Regional. Page 2 has "
                                        "the staffing figures you asked about.”")
    cta = RadioField("Their next step", default="reply", choices=choices(SHARE_CALLS_TO_ACTION.items()))
    meeting_url = StringField("Meeting booking link", validators=[Length(max=500)],
                              description="Your calendar's booking page, https://…")
