"""Saved collections pages: my collections, one collection, "Save to collection" on an asset."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.library import assets, collections
from app.models import RATERS, Collection
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("collect", __name__)


def collection_or_404(collection_id: int) -> Collection:
    return collections.own_collection(current_user, collection_id) or abort(404)


def checked(form: ActionForm) -> bool:
    if form.validate_on_submit():
        return True
    flash("The form expired. Reload the page and try again.", "error")
    return False


@bp.route("/collections", methods=["GET", "POST"])
@roles_required(*RATERS)
def index():
    """My collections; POST makes a new one (optionally from the assets chosen on the pitch-kit page)."""
    form = ActionForm()
    if request.method == "POST" and checked(form):
        ids = params.id_list(request.form, "ids")
        try:
            collection = collections.create(current_user, request.form.get("name", ""), ids)
        except collections.CollectionError as error:
            flash(str(error), "error")
            return render_template("collect/index.html", collections=collections.collections_of(current_user),
                                   form=form), 400
        flash(f"Saved “{collection.name}” with {len(collection.items)} "
              f"asset{'' if len(collection.items) == 1 else 's'}.", "success")
        return redirect(url_for("collect.show", collection_id=collection.id))
    return render_template("collect/index.html", collections=collections.collections_of(current_user), form=form)


@bp.route("/collections/<int:collection_id>")
@roles_required(*RATERS)
def show(collection_id: int):
    collection = collection_or_404(collection_id)
    shown = collections.assets_in(current_user, collection)
    return render_template("collect/show.html", collection=collection, assets=shown,
                           hidden=len(collection.items) - len(shown), form=ActionForm())


@bp.post("/collections/<int:collection_id>/rename")
@roles_required(*RATERS)
def rename(collection_id: int):
    collection = collection_or_404(collection_id)
    if checked(ActionForm()):
        try:
            collections.rename(current_user, collection, request.form.get("name", ""))
            flash(f"Renamed to “{collection.name}”.", "success")
        except collections.CollectionError as error:
            flash(str(error), "error")
    return redirect(url_for("collect.show", collection_id=collection.id))


@bp.post("/collections/<int:collection_id>/remove/<int:asset_id>")
@roles_required(*RATERS)
def remove(collection_id: int, asset_id: int):
    collection = collection_or_404(collection_id)
    if checked(ActionForm()) and collections.remove(collection, asset_id):
        flash("Removed from the collection.", "success")
    return redirect(url_for("collect.show", collection_id=collection.id))


@bp.post("/collections/<int:collection_id>/delete")
@roles_required(*RATERS)
def delete(collection_id: int):
    collection = collection_or_404(collection_id)
    if not checked(ActionForm()):
        return redirect(url_for("collect.show", collection_id=collection.id))
    name = collection.name
    collections.delete(collection)
    flash(f"Deleted “{name}”. The assets themselves are untouched.", "success")
    return redirect(url_for("collect.index"))


@bp.post("/assets/<int:asset_id>/collect")
@roles_required(*RATERS)
def add(asset_id: int):
    """Save an asset into one of my collections, or into a new one named in the form."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    back = redirect(url_for("library.asset", asset_id=item.id))
    if not checked(ActionForm()):
        return back
    try:
        if request.form.get("name", "").strip():
            collection = collections.create(current_user, request.form["name"], [item.id])
            flash(f"Saved to the new collection “{collection.name}”.", "success")
        else:
            collection = collection_or_404(params.int_arg(request.form, "collection", 0))
            if collections.add(current_user, collection, item):
                flash(f"Saved to “{collection.name}”.", "success")
            else:
                flash(f"“{item.title}” is already in “{collection.name}”.", "info")
    except collections.CollectionError as error:
        flash(str(error), "error")
    return back
