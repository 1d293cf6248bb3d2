"""Marketers' and admins' synonym page: groups of words reps may type for one another."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.models import CONTENT_WRITERS, Synonym
from app.search import synonyms
from app.search.forms import SynonymForm
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("synonyms", __name__, url_prefix="/manage/synonyms")


@bp.route("/")
@roles_required(*CONTENT_WRITERS)
def index():
    return render_template("synonyms/index.html", groups=synonyms.groups(), form=SynonymForm(), action=ActionForm())


def _saved(form: SynonymForm, group: Synonym | None = None):
    """Save a group from the form; flash what happened; back to the list."""
    if not form.validate_on_submit():
        flash("Type two or more words or phrases, separated by commas (at most 2,000 characters).", "error")
        return redirect(url_for("synonyms.index"))
    try:
        saved = synonyms.save(form.terms.data, current_user, group)
    except synonyms.SynonymError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Saved: a search for any of {', '.join(saved.terms)} now finds the others.", "success")
    return redirect(url_for("synonyms.index"))


@bp.post("/")
@roles_required(*CONTENT_WRITERS)
def add():
    return _saved(SynonymForm())


@bp.post("/<int:synonym_id>")
@roles_required(*CONTENT_WRITERS)
def edit(synonym_id: int):
    return _saved(SynonymForm(), db.get_or_404(Synonym, synonym_id))


@bp.post("/<int:synonym_id>/delete")
@roles_required(*CONTENT_WRITERS)
def delete(synonym_id: int):
    group = db.get_or_404(Synonym, synonym_id)
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("synonyms.index"))
    terms = ", ".join(group.terms)
    synonyms.delete(group)
    flash(f"Deleted the group {terms}.", "success")
    return redirect(url_for("synonyms.index"))
