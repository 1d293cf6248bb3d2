"""Forms of the login, profile and admin pages; every one carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.models import Role
from app.web.forms import choices

ROLE_CHOICES = choices((r.value, r.label) for r in Role)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


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


class PasswordChangeForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField("Repeat", validators=[EqualTo("password", "The passwords differ.")])


class NameForm(FlaskForm):
    """Create or rename a team, segment or stage."""

    name = StringField("Name", validators=[DataRequired(), Length(max=80)])


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)],
                       description="What will use it, e.g. 'Salesforce sync'")


class BrandingForm(FlaskForm):
    name = StringField("Company name", validators=[DataRequired(), Length(max=80)])
    logo = FileField("Logo", description="PNG or JPEG, up to 512 KB; shown about 40 pixels tall")
    remove_logo = BooleanField("Remove the logo")
