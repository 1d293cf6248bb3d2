"""Share links: reps make them and follow them; prospects open them without an account."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.deals import records
from app.deals.records import DealError
from app.documents import generate
from app.extensions import csrf
from app.library import assets
from app.models import RATERS, ShareLink
from app.sharing import links
from app.sharing.forms import ShareForm
from app.web import branding, params, ratelimit
from app.web.access import roles_required
from app.web.forms import ActionForm, flash_form_errors

bp = Blueprint("share", __name__)

VIEW_LIMIT = (600, 60)   # requests per client per link per minute (no one client can lock a link)
PAGE_WIDTH = 1000


# --- the sender's side ------------------------------------------------------------------------

@bp.route("/share/new", methods=["GET", "POST"])
@roles_required(*RATERS)
def new():
    """Share an asset (?asset=) or one of my documents (?document=) with a prospect."""
    asset = None
    if request.args.get("asset"):
        asset = assets.visible_asset(current_user, params.id_arg(request.args, "asset")) or abort(404)
    document = generate.own_document(current_user, params.int_arg(request.args, "document", 0))
    if asset is None and document is None:
        abort(404)
    refused = links.refusal(asset, document)
    deal, wrong_deal = None, ""
    try:
        deal = records.chosen_open_deal(current_user, request.values.get("opportunity"))
    except DealError as error:
        wrong_deal = str(error)  # a stale ?opportunity= is ignored; a posted one is refused
    form = ShareForm(account=document.account if document else (deal.account.name if deal else ""))
    status = 400 if form.is_submitted() else 200
    if refused:
        status = 422 if form.is_submitted() else 200
    elif request.method == "POST" and wrong_deal:
        flash(wrong_deal, "error")
        status = 422
    elif form.validate_on_submit():
        try:
            link = links.create_link(
                current_user, asset=asset, document=document, recipient_name=form.recipient_name.data or "",
                recipient_email=form.recipient_email.data or "", account=form.account.data or "",
                expires_at=links.expiry_from_choice(form.expires.data), allow_download=form.allow_download.data,
                message=form.message.data or "", cta=form.cta.data or "reply",
                meeting_url=form.meeting_url.data or "", opportunity=deal)
        except links.ShareError as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash("Link ready: copy it into your email.", "success")
            return redirect(url_for("share.detail", link_id=link.id))
    else:
        flash_form_errors(form)
    return render_template("share/new.html", form=form, item=document or asset, refused=refused, deal=deal,
                           open_deals=records.open_deals_of(current_user)), status


@bp.route("/shares")
@roles_required(*RATERS)
def index():
    """My shares: every link, opened or not, how often, last opened, pages viewed."""
    mine = links.links_of(current_user)
    return render_template("share/index.html", links=mine, activity=links.activity(mine),
                           why_not_live={link.id: links.why_not_live(link) for link in mine},
                           title_of=links.title_of, action=ActionForm())


@bp.route("/shares/<int:link_id>")
@roles_required(*RATERS)
def detail(link_id: int):
    link = links.own_link(current_user, link_id) or abort(404)
    return render_template("share/detail.html", link=link, activity=links.activity([link])[link.id],
                           not_live=links.why_not_live(link), title=links.title_of(link), action=ActionForm(),
                           url=url_for("share.view", token=link.token, _external=True))


@bp.post("/shares/<int:link_id>/revoke")
@roles_required(*RATERS)
def revoke(link_id: int):
    link = links.own_link(current_user, link_id) or abort(404)
    if ActionForm().validate_on_submit():
        links.revoke(link)
        flash("Link revoked: it no longer opens.", "success")
    return redirect(request.form.get("back") == "list" and url_for("share.index")
                    or url_for("share.detail", link_id=link.id))


# --- the prospect's side (no login) -------------------------------------------------------------

def public_link(token: str, *, page: bool = False) -> ShareLink:
    """The live link for `token`, after rate limits: 429 when exceeded, 404 unknown, 410 no longer live.

    With `page`, the unknown and ended links get the prospect's own pages (no way into Bridge).
    Only unknown tokens count towards a client's scan limit, and a link's requests are counted per
    client: a scanner, or one client hammering a link, never locks the link for its other viewers."""
    link, status = ratelimit.by_token(links.by_token, token, request.remote_addr or "", "share-view", VIEW_LIMIT)
    if status == 404:
        abort(unavailable(None, 404) if page else 404)
    if status != 200:
        abort(status)
    if not links.is_live(link):
        abort(unavailable(link, 410) if page else 410)
    return link


def unavailable(link: ShareLink | None, status: int) -> Response:
    """The prospect's page for a link that does not exist or no longer opens: whom to ask, and
    nothing of Bridge's (no library, no login)."""
    page = render_template("share/unavailable.html", sender=link.user if link else None, status=status,
                           brand=branding.current())
    return Response(page, status)


def this_visit(link: ShareLink) -> links.Visitor:
    return links.visitor(link, current_user, request.remote_addr or "", request.user_agent.string)


@bp.route("/s/<token>")
def view(token: str):
    link = public_link(token, page=True)
    links.open_link(link, this_visit(link), url_for("share.detail", link_id=link.id))
    return render_template("share/view.html", link=link, title=links.buyer_title(link), pages=links.page_count(link),
                           sender=link.user, brand=branding.current(), asset=link.asset,
                           can_download=link.allow_download and links.shared_file(link))


@bp.route("/s/<token>/pages/<int:number>.png")
def page(token: str, number: int):
    image = links.page_image(public_link(token), number, PAGE_WIDTH) or abort(404)
    response = send_file(image, mimetype="image/png")
    # A proxy or shared cache must not keep showing a page after the link is revoked.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/s/<token>/seen")
@csrf.exempt  # sent by the public viewer's beacon; carries nothing but a page number and seconds
def seen(token: str):
    """Time the prospect's browser reports on one page: 422 (and nothing recorded) for a page the
    PDF does not have or an implausible time."""
    link = public_link(token)
    page_number = params.int_arg(request.form, "page", minimum=1)
    seconds = request.form.get("seconds", type=float)
    if page_number is None or seconds is None:
        abort(422, description="Send page and seconds.")
    try:
        links.record_page_time(link, this_visit(link), page_number, seconds)
    except links.ShareError as exc:
        abort(422, description=str(exc))
    return "", 204


@bp.route("/s/<token>/download")
def download(token: str):
    link = public_link(token)
    path, name, mime = links.download(link, this_visit(link)) or abort(403)
    return send_file(path, mimetype=mime, as_attachment=True, download_name=name.replace("/", "-"))


@bp.route("/brand/logo.png")
def logo():
    """The company's logo, for the prospect's pages (public: it is on every share link)."""
    brand = branding.current()
    if not brand.logo_png:
        abort(404)
    response = Response(brand.logo_png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"  # its URL changes with the logo
    return response
