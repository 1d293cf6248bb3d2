"""Marketers' side of the library: publish, edit, version, archive and delete collateral."""
from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.files import storage
from app.files.ingest import IngestError
from app.library import assets, flags, freshness, score, taxonomy
from app.library.assets import AssetData, AssetError
from app.library.forms import AssetForm, ResolveFlagForm, StatusForm, VersionForm
from app.models import CONTENT_WRITERS, Asset, AssetStatus
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm, choices

bp = Blueprint("content", __name__, url_prefix="/manage")


@contextmanager
def received_upload(file_storage):
    """Spool an uploaded file to scratch space; yields (path, name) or None, cleans up after."""
    if file_storage is None or not file_storage.filename:
        yield None
        return
    path = storage.scratch_path("upload")
    file_storage.save(path)
    try:
        yield path, file_storage.filename
    finally:
        storage.discard(path)


def asset_form(asset: Asset | None = None) -> AssetForm:
    form = AssetForm(obj=asset) if asset and request.method == "GET" else AssetForm()
    dimensions = taxonomy.dimensions()
    form.terms.choices = choices((t.id, t.name) for d in dimensions for t in d.terms)
    form.term_groups = [(d.name, {t.id for t in d.terms}) for d in dimensions]  # one list per dimension
    form.stages.choices = choices((s.id, s.name) for s in taxonomy.stages())
    if asset and request.method == "GET":
        form.terms.data = [t.id for t in asset.terms]
        form.stages.data = [s.id for s in asset.stages]
        form.tags.data = ", ".join(asset.tags)
        if asset.review_interval_days == freshness.default_interval(asset.kind):
            form.review_interval_days.data = None  # "by kind" stays by kind: a later change of kind follows
    elif request.method == "GET":  # prefilled from insights: a coverage cell's term and stage, a gap's words
        known_terms, known_stages = {c.value for c in form.terms.choices}, {c.value for c in form.stages.choices}
        form.terms.data = [i for i in map(params.as_id, request.args.getlist("term")) if i in known_terms]
        form.stages.data = [i for i in map(params.as_id, request.args.getlist("stage")) if i in known_stages]
        form.title.data = request.args.get("title", "")[:200]
        form.tags.data = request.args.get("tags", "")[:500]
    return form


def data_from(form: AssetForm) -> AssetData:
    return AssetData(
        title=form.title.data, kind=form.kind.data, description=form.description.data or "",
        product=form.product.data or "", tags=assets.parse_tags(form.tags.data or ""),
        term_ids=form.terms.data or [], stage_ids=form.stages.data or [],
        status=form.status.data, expires_on=form.expires_on.data,
        body=form.body.data or "", url=form.url.data or "", audience=form.audience.data or "",
        review_interval_days=form.review_interval_days.data,
    )


def get_asset(asset_id: int) -> Asset:
    return db.get_or_404(Asset, asset_id)


@bp.route("/")
@roles_required(*CONTENT_WRITERS)
def index():
    """Every asset, any status, filtered by status and words of the title; by last change or by score."""
    status, title = request.args.get("status", ""), request.args.get("q", "")
    listed = score.manage_page(current_user, sort=request.args.get("sort", "updated"),
                               page=params.page_arg(request.args), statuses=[status] if status else [], title=title)
    return render_template("content/index.html", page=listed.page, scores=listed.scores, sort=listed.sort,
                           sorts=score.MANAGE_SORTS, status=status, title=title,
                           statuses=[s.value for s in AssetStatus])


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*CONTENT_WRITERS)
def new():
    form = asset_form()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with received_upload(form.file.data) as upload:
            try:
                item = assets.save_asset(data_from(form), current_user, upload=upload)
            except (AssetError, IngestError) as exc:
                flash(str(exc), "error")
                status = 422
            else:
                flash(f"“{item.title}” was saved as {item.status}.", "success")
                return redirect(url_for("library.asset", asset_id=item.id))
    return render_template("content/edit.html", form=form, asset=None), status


@bp.route("/<int:asset_id>/edit", methods=["GET", "POST"])
@roles_required(*CONTENT_WRITERS)
def edit(asset_id: int):
    item = get_asset(asset_id)
    form = asset_form(item)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        with received_upload(form.file.data) as upload:
            try:
                assets.save_asset(data_from(form), current_user, asset=item, upload=upload)
            except (AssetError, IngestError) as exc:
                flash(str(exc), "error")
                status = 422
            else:
                flash("Changes saved.", "success")
                return redirect(url_for("library.asset", asset_id=item.id))
    return render_template("content/edit.html", form=form, asset=item,
                           version_form=VersionForm(), action=ActionForm(),
                           status_form=StatusForm(status=item.status)), status


@bp.post("/<int:asset_id>/versions")
@roles_required(*CONTENT_WRITERS)
def new_version(asset_id: int):
    """Replace the file: the upload becomes the next version, older ones stay downloadable."""
    item = get_asset(asset_id)
    form = VersionForm()
    if not form.validate_on_submit():
        flash("Choose a file to upload.", "error")
        return redirect(url_for("content.edit", asset_id=item.id))
    with received_upload(form.file.data) as upload:
        try:
            version = assets.add_version(item, upload, current_user)
        except IngestError as exc:
            flash(str(exc), "error")
            return redirect(url_for("content.edit", asset_id=item.id))
    flash(f"Version {version.number} uploaded.", "success")
    return redirect(url_for("library.asset", asset_id=item.id))


@bp.post("/<int:asset_id>/status")
@roles_required(*CONTENT_WRITERS)
def change_status(asset_id: int):
    item = get_asset(asset_id)
    form = StatusForm()
    if form.validate_on_submit():
        assets.set_status(item, form.status.data)
        flash(f"“{item.title}” is now {item.status}.", "success")
    return redirect(url_for("content.edit", asset_id=item.id))


@bp.post("/<int:asset_id>/verify")
@roles_required(*CONTENT_WRITERS)
def verify(asset_id: int):
    """The owner (or a marketer) checked the asset and found it right: its review clock restarts."""
    item = get_asset(asset_id)
    if ActionForm().validate_on_submit():
        try:
            freshness.verify(current_user, [item])
        except freshness.FreshnessError as exc:
            flash(str(exc), "error")
        else:
            flash(f"“{item.title}” verified: next review due {freshness.review_due_on(item).isoformat()}.", "success")
    return redirect(url_for("library.asset", asset_id=item.id))


@bp.post("/<int:asset_id>/delete")
@roles_required(*CONTENT_WRITERS)
def delete(asset_id: int):
    item = get_asset(asset_id)
    if ActionForm().validate_on_submit():
        title = item.title
        assets.delete_asset(item)
        flash(f"“{title}” and its files were deleted.", "success")
        return redirect(url_for("content.index"))
    return redirect(url_for("content.edit", asset_id=item.id))


FLAG_VIEWS = {"mine": "On my assets", "all": "All open", "resolved": "Recently resolved"}


@bp.route("/flags")
@roles_required(*CONTENT_WRITERS)
def flag_queue():
    """Flags waiting for a marketer: the owner's own first, then everyone's, then resolved."""
    view = request.args.get("view", "mine")
    if view not in FLAG_VIEWS:
        view = "mine"
    items = flags.queue(owner=current_user if view == "mine" else None, resolved=view == "resolved")
    return render_template("content/flags.html", flags=items, view=view, views=FLAG_VIEWS,
                           form=ResolveFlagForm())


@bp.post("/flags/<int:flag_id>/resolve")
@roles_required(*CONTENT_WRITERS)
def resolve_flag(flag_id: int):
    item = flags.get(flag_id) or abort(404)
    form = ResolveFlagForm()
    if form.validate_on_submit():
        try:
            flags.resolve(item, current_user, form.resolution.data or "", content_changed=form.content_changed.data,
                          asset_url=url_for("library.asset", asset_id=item.asset_id))
        except flags.FlagError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Flag on “{item.asset.title}” resolved.", "success")
    else:
        flash("The note is too long (2,000 characters at most).", "error")
    return redirect(url_for("content.flag_queue", view=request.args.get("view", "mine")))
