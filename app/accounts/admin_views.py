"""Admin pages: users, teams and the taxonomy (dimensions with their terms, funnel stages)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts import service as accounts
from app.accounts.forms import BrandingForm, NameForm, PasswordResetForm, UserCreateForm, UserEditForm
from app.accounts.service import AccountError
from app.extensions import db
from app.library import taxonomy
from app.library.taxonomy import TaxonomyError
from app.models import ADMINS, Dimension, Stage, Team, Term, User
from app.web import branding
from app.web.access import roles_required
from app.web.forms import ActionForm, choices, flash_form_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")


def team_choices():
    return choices([(0, "— No team —")] + [(t.id, t.name) for t in accounts.list_teams()])


@bp.route("/users")
@roles_required(*ADMINS)
def users():
    form = UserCreateForm()
    form.team_id.choices = team_choices()
    users = accounts.list_users()
    return render_template("admin/users.html", users=users, last_login=accounts.last_logins(users), form=form)


@bp.post("/users")
@roles_required(*ADMINS)
def create_user():
    form = UserCreateForm()
    form.team_id.choices = team_choices()
    if form.validate_on_submit():
        team = db.session.get(Team, form.team_id.data)
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.role.data,
                                        form.password.data, team.name if team else None)
        except AccountError as exc:
            flash(str(exc), "error")
        else:
            flash(f"{user.name} can now log in as {user.email}.", "success")
            return redirect(url_for("admin.users"))
    for field, errors in form.errors.items():
        flash(f"{getattr(form, field).label.text}: {'; '.join(errors)}", "error")
    users = accounts.list_users()
    return render_template("admin/users.html", users=users, last_login=accounts.last_logins(users), form=form), 400


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(obj=user, team_id=user.team_id or 0)
    form.team_id.choices = team_choices()
    if form.validate_on_submit():
        try:
            accounts.update_user(user, name=form.name.data, role=form.role.data,
                                 team_id=form.team_id.data or None, active=form.active.data, actor=current_user)
        except AccountError as exc:
            flash(f"Not saved. {exc}", "error")
            return render_template("admin/user.html", user=user, form=form, password_form=PasswordResetForm()), 400
        flash(f"{user.name} was updated.", "success")
        return redirect(url_for("admin.users"))
    if request.method == "POST":
        flash_form_errors(form)
    return render_template("admin/user.html", user=user, form=form,
                           password_form=PasswordResetForm()), 400 if request.method == "POST" else 200


@bp.post("/users/<int:user_id>/password")
@roles_required(*ADMINS)
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        revoked = accounts.reset_password(user, form.password.data)
        tokens = f" and their {revoked} API token{'' if revoked == 1 else 's'} revoked" if revoked else ""
        flash(f"{user.name}'s password was reset, their sessions ended{tokens}.", "success")
        return redirect(url_for("admin.users"))
    for errors in form.errors.values():
        flash("; ".join(errors), "error")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/teams", methods=["GET", "POST"])
@roles_required(*ADMINS)
def teams():
    form = NameForm()
    if form.validate_on_submit():
        try:
            team = accounts.save_team(form.name.data)
            flash(f"Team “{team.name}” created.", "success")
            return redirect(url_for("admin.teams"))
        except AccountError as exc:
            flash(str(exc), "error")
    return render_template("admin/teams.html", teams=accounts.list_teams(), form=form)


@bp.post("/teams/<int:team_id>")
@roles_required(*ADMINS)
def rename_team(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = NameForm()
    if not form.validate_on_submit():
        flash(f"Team “{team.name}” was not renamed: give a name of 1 to 80 characters.", "error")
        return redirect(url_for("admin.teams"))
    old = team.name
    try:
        accounts.save_team(form.name.data, team)
        flash(f"Team “{old}” renamed to “{team.name}”.", "success")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.teams"))


@bp.post("/teams/<int:team_id>/delete")
@roles_required(*ADMINS)
def delete_team(team_id: int):
    team = db.get_or_404(Team, team_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired; reload the page and try again.", "error")
        return redirect(url_for("admin.teams"))
    try:
        flash(f"Team “{accounts.delete_team(team)}” deleted.", "success")
    except AccountError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.teams"))


# What the taxonomy page's forms change, by the name in their URL.
VOCABULARIES = {"dimension": Dimension, "term": Term, "stage": Stage}


@bp.route("/taxonomy")
@roles_required(*ADMINS)
def taxonomy_page():
    return render_template("admin/taxonomy.html", dimensions=taxonomy.dimensions(),
                           stages=taxonomy.stages(), form=NameForm(), action=ActionForm())


def _added(adding, label: str):
    """Add a dimension, term or stage from the name form; flash the outcome."""
    form = NameForm()
    if not form.validate_on_submit():
        flash("Give a name of at most 80 characters.", "error")
        return redirect(url_for("admin.taxonomy_page"))
    try:
        item = adding(form.name.data)
        flash(f"{label}: “{item.name}” added.", "success")
    except TaxonomyError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.taxonomy_page"))


@bp.post("/taxonomy/<vocabulary>")
@roles_required(*ADMINS)
def add_term(vocabulary: str):
    """Add a dimension or a stage at the end of its list."""
    adding = {"dimension": taxonomy.add_dimension, "stage": taxonomy.add_stage}.get(vocabulary) or abort(404)
    return _added(adding, vocabulary.capitalize())


@bp.post("/taxonomy/dimension/<int:dimension_id>/terms")
@roles_required(*ADMINS)
def add_dimension_term(dimension_id: int):
    """Add a term at the end of a dimension's list."""
    dimension = db.get_or_404(Dimension, dimension_id)
    return _added(lambda name: taxonomy.add_term(dimension, name), dimension.name)


@bp.post("/taxonomy/<vocabulary>/<int:term_id>/<action>")
@roles_required(*ADMINS)
def change_term(vocabulary: str, term_id: int, action: str):
    """Rename, delete, or move a dimension, a term or a stage up or down."""
    item = db.get_or_404(VOCABULARIES.get(vocabulary) or abort(404), term_id)
    if action not in ("rename", "delete", "up", "down"):
        abort(404)
    form = NameForm() if action == "rename" else ActionForm()
    label, name = vocabulary.capitalize(), item.name
    if not form.validate_on_submit():
        flash(f"{label} “{name}” was not renamed: give a name of 1 to 80 characters." if action == "rename"
              else "The form expired; reload the page and try again.", "error")
        return redirect(url_for("admin.taxonomy_page"))
    try:
        if action == "rename":
            taxonomy.rename(item, form.name.data)
            done = f"renamed to “{item.name}”"
        elif action == "delete":
            taxonomy.delete(item)
            done = "deleted"
        else:
            taxonomy.move(item, -1 if action == "up" else 1)
            done = f"moved {action}"
        flash(f"{label} “{name}” {done}.", "success")
    except TaxonomyError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.taxonomy_page"))


@bp.route("/branding", methods=["GET", "POST"])
@roles_required(*ADMINS)
def branding_page():
    """The company's name and logo, as prospects see them on shared links and pitch kits."""
    current = branding.current()
    form = BrandingForm(name=current.name)
    status = 200
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            branding.save(form.name.data, upload.read(branding.MAX_LOGO_BYTES + 1) if upload else None,
                          remove_logo=form.remove_logo.data)
        except branding.BrandingError as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash("Branding saved: prospects see it on shared links and pitch kits.", "success")
            return redirect(url_for("admin.branding_page"))
    elif form.is_submitted():
        flash_form_errors(form)
        status = 400
    return render_template("admin/branding.html", form=form, brand=current), status
