"""The rep's library: home grid, browsing, asset pages, downloads and copies."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import search
from app.deals import records, workspace
from app.deals.records import DealError
from app.files import storage
from app.library import assets, collections, flags, freshness, ratings
from app.library.assets import sees_drafts
from app.library.forms import FlagForm, RatingForm
from app.models import EVERYONE, RATERS
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("library", __name__)


@bp.app_template_global("freshness_of")
def freshness_of(asset):
    """The asset's freshness today, for badges on every page that lists assets."""
    return freshness.freshness(asset)


@bp.before_app_request
def forget_flag_warnings():
    # g outlives a request when an app context was already pushed (tests, CLI): read flags afresh.
    g.pop("flag_warnings", None)


@bp.app_template_global("flag_warning")
def flag_warning(asset):
    """The open "wrong" or "outdated" flag reps are warned of on this asset, if any; read once per request."""
    if "flag_warnings" not in g:
        g.flag_warnings = flags.open_warnings()
    return g.flag_warnings.get(asset.id)


@bp.route("/")
@roles_required(*EVERYONE)
def home():
    """A rep's open deals (reps and managers), a dimension's terms × stages grid (?dimension=ID, the first
    by default), recently updated and popular assets."""
    page = assets.home(current_user, params.id_arg(request.args, "dimension"))
    deals = workspace.my_deals(current_user) if current_user.has_role(*RATERS) else None
    return render_template("library/home.html", dimensions=page.dimensions, dimension=page.dimension,
                           stages=page.stages, grid=page.grid, recent=page.recent, popular=page.popular, deals=deals)


@bp.route("/browse")
@roles_required(*EVERYONE)
def browse():
    """Old browse links: the search page browses when given facets and no words."""
    return redirect(url_for("library.search_page", **request.args.to_dict(flat=False)))


@bp.route("/search")
@roles_required(*EVERYONE)
def search_page():
    """Search with facets; an empty query with facets browses."""
    result = search.run_search(current_user, search.request_from_args(current_user, request.args))
    if result.page.page > result.page.pages:  # past the last page: there is no such page
        abort(404)
    return render_template("library/search.html", result=result)


@bp.route("/search/suggest")
@roles_required(*EVERYONE)
def suggest():
    return {"suggestions": search.suggestions(current_user, request.args.get("q", ""))}


@bp.route("/assets/<int:asset_id>")
@roles_required(*EVERYONE)
def asset(asset_id: int):
    item = assets.open_asset(current_user, asset_id) or abort(404)
    search.record_click(current_user, item, request.args.get("sid"),
                           params.int_arg(request.args, "pos"))
    return render_asset(item, deal=prefilled_deal(request.args))


def prefilled_deal(values):
    """The open deal the rep came from (?opportunity=), to prefill the send forms; none if not theirs."""
    try:
        return records.chosen_open_deal(current_user, values.get("opportunity"))
    except DealError:
        return None


def render_asset(item, rating_form: RatingForm | None = None, flag_form: FlagForm | None = None,
                 status: int = 200, deal=None):
    mine = ratings.rating_of(current_user, item)
    if rating_form is None:
        rating_form = RatingForm(obj=mine) if mine else RatingForm()
        if mine:
            rating_form.stars.data = str(mine.stars)
    can_edit, can_rate = sees_drafts(current_user), current_user.has_role(*RATERS)
    open_deals = records.open_deals_of(current_user) if can_rate else []
    rated_for = ratings.rated_for_deal(current_user, item) if mine and deal is None else None
    rating_deal = deal or next((d for d in open_deals if d.id == rated_for), None)
    return render_template(
        "library/asset.html", asset=item, action=ActionForm(), can_edit=can_edit, pages=assets.page_count(item),
        rating=ratings.summaries([item.id]).get(item.id),
        comments=ratings.recent_comments(item), rating_form=rating_form,
        can_rate=can_rate, my_rating=mine,
        fresh=freshness.freshness(item), can_verify=freshness.may_verify(current_user, item),
        flag_form=flag_form or FlagForm(), open_flags=flags.open_on(item) if can_edit else [],
        collections=collections.collections_of(current_user) if can_rate else [],
        deal=deal, open_deals=open_deals, rating_deal=rating_deal,
    ), status


@bp.route("/assets/<int:asset_id>/related")
@roles_required(*EVERYONE)
def related(asset_id: int):
    """"More like this", fetched after the asset page is shown (the page's script puts this fragment in
    its place; without JavaScript, a link opens it as a page of its own)."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    found = search.related(current_user, item)
    fragment = request.headers.get("X-Fragment") == "1"
    response = make_response(render_template("library/_related.html" if fragment else "library/related.html",
                                             asset=item, related=found))
    response.vary.add("X-Fragment")
    return response


@bp.post("/assets/<int:asset_id>/rate")
@roles_required(*RATERS)
def rate(asset_id: int):
    """Rate an asset 1–5 stars, optionally with a comment and the deal it was used in."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    form = RatingForm()
    if not form.validate_on_submit():
        flash("Choose between 1 and 5 stars.", "error")
        return render_asset(item, rating_form=form, status=400, deal=prefilled_deal(request.form))
    try:
        deal = records.chosen_open_deal(current_user, request.form.get("opportunity"))
    except DealError as error:
        flash(str(error), "error")
        return render_asset(item, rating_form=form, status=422)
    ratings.rate(current_user, item, int(form.stars.data), form.comment.data or "", form.account.data or "",
                 form.outcome.data or "", opportunity=deal)
    flash("Thanks: your rating helps marketing see what works.", "success")
    return redirect(url_for("library.asset", asset_id=item.id))


@bp.post("/assets/<int:asset_id>/flag")
@roles_required(*EVERYONE)
def flag(asset_id: int):
    """Report an asset as outdated or wrong; it goes to the owner's queue."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    form = FlagForm()
    if not form.validate_on_submit():
        flash("Say what is wrong with the asset.", "error")
        return render_asset(item, flag_form=form, status=400)
    flags.raise_flag(current_user, item, form.reason.data, form.note.data or "")
    owner = item.owner.name if item.owner else "marketing"
    flash(f"Thanks: {owner} will review your flag.", "success")
    return redirect(url_for("library.asset", asset_id=item.id))


@bp.route("/assets/<int:asset_id>/download")
@bp.route("/assets/<int:asset_id>/versions/<int:number>/download")
@roles_required(*EVERYONE)
def download(asset_id: int, number: int | None = None):
    """Send a version as an attachment under its original name."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    version = assets.download(current_user, item, number) or abort(404)
    return send_file(storage.path_of(version.stored_name), mimetype=version.mime_type,
                     as_attachment=True, download_name=version.original_filename)


PAGE_WIDTH = 1000


@bp.route("/assets/<int:asset_id>/view")
@roles_required(*EVERYONE)
def viewer(asset_id: int):
    """Page through the asset's file (a PDF, or a deck's or document's converted pages)."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    pages = assets.page_count(item)
    if not pages:
        abort(404)
    return render_template("library/viewer.html", asset=item, pages=pages)


@bp.route("/assets/<int:asset_id>/pages/<int:number>.png")
@roles_required(*EVERYONE)
def page(asset_id: int, number: int):
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    image = assets.page_image(item, number, PAGE_WIDTH) or abort(404)
    response = send_file(image, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"  # behind a login, and changes with the file
    return response


@bp.route("/assets/<int:asset_id>/thumbnail")
@roles_required(*EVERYONE)
def thumbnail(asset_id: int):
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    version = item.current_version
    if version is None or not version.thumbnail_name:
        abort(404)
    response = send_file(storage.path_of(version.thumbnail_name), mimetype="image/png", max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"  # behind a login: never in a shared cache
    return response


@bp.post("/assets/<int:asset_id>/copied")
@roles_required(*EVERYONE)
def copied(asset_id: int):
    """Record that the messaging text was copied to the clipboard."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)  # CSRFProtect has checked X-CSRFToken
    assets.record_copy(current_user, item)
    return {"ok": True, "asset": url_for("library.asset", asset_id=item.id)}
