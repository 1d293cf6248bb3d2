"""Share links: reps make them and follow them; prospects open them without an account."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from app import usage
from app.documents import generate
from app.extensions import csrf, db
from app.files import pdf
from app.library import assets
from app.models import EVERYONE, RATERS, ShareLink
from app.notifications.service import notifications_of, unread_count
from app.sharing import links as sharing
from app.sharing.forms import ShareForm
from app.web import ratelimit
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("share", __name__)

CLIENT_LIMIT = (120, 60)  # public requests per client per minute: a token scan stops here
TOKEN_LIMIT = (600, 60)   # requests per link per minute
PAGE_WIDTH = 1000


@bp.app_context_processor
def notification_count():
    """Unread notifications for the top bar of every page."""
    if has_request_context() and current_user.is_authenticated:
        return {"unread_notifications": unread_count(current_user)}
    return {"unread_notifications": 0}


# --- the sender's side ------------------------------------------------------------------------

@bp.route("/share/new", methods=["GET", "POST"])
@roles_required(*RATERS)
def new():
    """Share an asset (?asset=) or one of my documents (?document=) with a prospect."""
    asset = assets.get_visible(current_user, request.args.get("asset", type=int)) if request.args.get("asset") else None
    document = generate.document_of(current_user, request.args.get("document", 0, type=int))
    if asset is None and document is None:
        abort(404)
    form = ShareForm(account=document.account if document else "")
    if form.validate_on_submit():
        try:
            link = sharing.create_link(
                current_user, asset=asset, document=document, recipient_name=form.recipient_name.data or "",
                recipient_email=form.recipient_email.data or "", account=form.account.data or "",
                expires_at=sharing.expiry_from_choice(form.expires.data), allow_download=form.allow_download.data)
        except sharing.ShareProblem as exc:
            flash(str(exc), "error")
        else:
            usage.log_event("share", user=current_user, asset=sharing.shared_asset_id(link), share_id=link.id,
                            account=link.account or None)
            flash("Link ready: copy it into your email.", "success")
            return redirect(url_for("share.detail", link_id=link.id))
    return render_template("share/new.html", form=form, item=document or asset), 400 if form.errors else 200


@bp.route("/shares")
@roles_required(*RATERS)
def index():
    """My shares: every link, opened or not, how often, last opened, pages viewed."""
    links = sharing.links_of(current_user)
    return render_template("share/index.html", links=links, activity=sharing.activity(links),
                           is_live=sharing.is_live, title_of=sharing.title_of, action=ActionForm())


@bp.route("/shares/<int:link_id>")
@roles_required(*RATERS)
def detail(link_id: int):
    link = own_link(link_id)
    return render_template("share/detail.html", link=link, activity=sharing.activity([link])[link.id],
                           live=sharing.is_live(link), title=sharing.title_of(link), action=ActionForm(),
                           url=url_for("share.view", token=link.token, _external=True))


@bp.post("/shares/<int:link_id>/revoke")
@roles_required(*RATERS)
def revoke(link_id: int):
    link = own_link(link_id)
    if ActionForm().validate_on_submit():
        sharing.revoke(link)
        flash("Link revoked: it no longer opens.", "success")
    return redirect(request.form.get("back") == "list" and url_for("share.index")
                    or url_for("share.detail", link_id=link.id))


@bp.route("/notifications")
@roles_required(*EVERYONE)
def notifications():
    return render_template("share/notifications.html", items=notifications_of(current_user))


def own_link(link_id: int) -> ShareLink:
    link = db.session.get(ShareLink, link_id)
    if link is None or link.user_id != current_user.id:
        abort(404)
    return link


# --- the prospect's side (no login) -------------------------------------------------------------

def public_link(token: str) -> ShareLink:
    """The live link for `token`, after rate limits: 429 when exceeded, 404 unknown, 410 ended."""
    if not ratelimit.hit(ratelimit.private_key("share-client", request.remote_addr or ""), *CLIENT_LIMIT):
        abort(429)
    link = sharing.by_token(token)
    if link is None:
        abort(404)
    if not ratelimit.hit(f"share-token:{link.id}", *TOKEN_LIMIT):
        abort(429)
    if not sharing.is_live(link):
        abort(410)
    return link


def log_public(kind: str, link: ShareLink, **context) -> None:
    """Log a prospect's action; the sender's own visits are not counted."""
    if sharing.is_sender(link, current_user):
        return
    usage.log_event(kind, asset=sharing.shared_asset_id(link), share_id=link.id,
                    viewer=sharing.viewer_hash(request.remote_addr or "", request.user_agent.string), **context)


@bp.route("/s/<token>")
def view(token: str):
    link = public_link(token)
    source = sharing.shared_pdf(link)
    pages = pdf.pdf_pages(source[0]) if source else 0
    log_public("share_open", link)
    if not sharing.is_sender(link, current_user):
        sharing.notify_first_open(link, url_for("share.detail", link_id=link.id))
    return render_template("share/view.html", link=link, title=sharing.title_of(link), pages=pages,
                           sender=link.user, company=current_app.config["COMPANY_NAME"],
                           asset=link.asset, can_download=link.allow_download and sharing.shared_file(link))


@bp.route("/s/<token>/pages/<int:number>.png")
def page(token: str, number: int):
    link = public_link(token)
    source = sharing.shared_pdf(link)
    if source is None or not 1 <= number <= pdf.pdf_pages(source[0]):
        abort(404)
    cache = current_app.config["DATA_DIR"] / "page-cache" / f"{source[0].stem}-{number}-{PAGE_WIDTH}.png"
    if not cache.exists():
        cache.parent.mkdir(exist_ok=True)
        scratch = cache.with_suffix(".tmp")
        scratch.write_bytes(pdf.page_png(source[0], number - 1, PAGE_WIDTH))
        scratch.replace(cache)
    return send_file(cache, mimetype="image/png", max_age=300)


@bp.post("/s/<token>/seen")
@csrf.exempt  # sent by the public viewer's beacon; carries nothing but a page number and seconds
def seen(token: str):
    """Time the prospect's browser reports on one page."""
    link = public_link(token)
    page_number = request.form.get("page", type=int)
    seconds = request.form.get("seconds", type=float)
    if page_number is None or seconds is None or not 1 <= page_number <= 5000 or not 0 <= seconds:
        abort(400)
    log_public("share_page", link, page=page_number, seconds=round(min(seconds, sharing.MAX_PAGE_SECONDS), 1))
    return "", 204


@bp.route("/s/<token>/download")
def download(token: str):
    link = public_link(token)
    found = sharing.shared_file(link)
    if not link.allow_download or found is None:
        abort(403)
    log_public("share_download", link)
    path, name, mime = found
    return send_file(path, mimetype=mime, as_attachment=True, download_name=name.replace("/", "-"))
