"""The form a rep writes a deal room with (the items come as `item` values: "asset:12", "document:3")."""
from __future__ import annotations

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.rooms.service import MAX_MESSAGE, RoomData


class RoomForm(FlaskForm):
    title = StringField("Room title (the buyer sees it)", validators=[Length(max=200)])
    message = TextAreaField("Your note to the buyer", validators=[Length(max=MAX_MESSAGE)],
                            description="e.g. “Everything we discussed on Tuesday, in one place. The ROI "
                                        "summary has your staffing figures.”")
    contact_phone = StringField("Your phone (shown with your name and email)", validators=[Length(max=40)])
    cta_label = StringField("Call to action: button label", validators=[Length(max=80)])
    cta_url = StringField("Call to action: web address", validators=[Length(max=500)])
    expires_on = DateField("Room expires after (optional)", validators=[Optional()])

    def data_of(self) -> RoomData:
        return RoomData(self.title.data or "", self.message.data or "", self.contact_phone.data or "",
                        self.cta_label.data or "", self.cta_url.data or "", self.expires_on.data)

    def fill_from(self, room) -> None:
        self.title.data, self.message.data, self.contact_phone.data = room.title, room.message, room.contact_phone
        self.cta_label.data, self.cta_url.data = room.cta_label, room.cta_url
        self.expires_on.data = room.expires_at.date() - timedelta(days=1) if room.expires_at else None
