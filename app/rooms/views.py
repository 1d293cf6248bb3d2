"""Deal rooms: the rep makes and edits a deal's room; the buyer opens it at /r/<token> without an account."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.deals import recommend
from app.extensions import csrf
from app.models import EVERYONE, DealRoom, DealRoomItem
from app.rooms import service, visits
from app.rooms.forms import RoomForm
from app.rooms.service import RoomError
from app.sharing import links
from app.web import branding, params, ratelimit
from app.web.access import roles_required
from app.web.forms import ActionForm, flash_form_errors

bp = Blueprint("rooms", __name__)

VIEW_LIMIT = (600, 60)   # requests per client per room per minute
PAGE_WIDTH = 1000
MOVES = {"up": -1, "down": 1}


# --- the rep's side --------------------------------------------------------------------------------

@bp.route("/deals/<int:opportunity_id>/room/new", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def new(opportunity_id: int):
    """Create the deal's room: a title, a note, a call to action and the assets the rep ticks
    (the deal's recommended customer-facing assets come ticked)."""
    deal = service.managed_deal(current_user, opportunity_id) or abort(404)
    if (room := service.room_of(deal)) is not None:
        return redirect(url_for("rooms.manage", room_id=room.id))
    default_title = deal.name if deal.account.name in deal.name else f"{deal.account.name}: {deal.name}"
    form = RoomForm(title=default_title[:200] if request.method == "GET" else None)
    recommended = [r.asset for r in recommend.recommend(current_user, deal) if not r.internal]
    offered_assets, offered_documents = service.candidates(current_user, deal, recommended)
    picks = request.form.getlist("item") if request.method == "POST" else [f"asset:{a.id}" for a in recommended[:3]]
    status = 200
    if form.validate_on_submit():
        try:
            room = service.create_room(current_user, deal, form.data_of(), picks)
        except RoomError as error:
            flash(str(error), "error")
            status = 422
        else:
            flash("Deal room ready: copy its link into your email.", "success")
            return redirect(url_for("rooms.manage", room_id=room.id))
    elif request.method == "POST":
        flash_form_errors(form)
        status = 400
    return render_template("rooms/new.html", deal=deal, form=form, assets=offered_assets,
                           documents=offered_documents, recommended={a.id for a in recommended},
                           picked=set(picks)), status


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def manage(room_id: int):
    """The room's page for the rep: its link, its settings, its items in order, what buyers did."""
    room = service.managed_room(current_user, room_id) or abort(404)
    form, status = RoomForm(), 200
    if form.validate_on_submit():
        try:
            service.update_room(current_user, room, form.data_of())
        except RoomError as error:
            flash(str(error), "error")
            status = 422
        else:
            flash("Room saved.", "success")
            return redirect(url_for("rooms.manage", room_id=room.id))
    elif request.method == "POST":
        flash_form_errors(form)
        status = 400
    else:
        form.fill_from(room)
    return render_room(room, form), status


def render_room(room: DealRoom, form: RoomForm) -> str:
    deal = room.opportunity
    offered_assets, offered_documents = service.candidates(current_user, deal, [])
    have = {(i.asset_id, i.document_id) for i in room.items}
    return render_template(
        "rooms/manage.html", room=room, deal=deal, form=form, action=ActionForm(),
        url=url_for("rooms.view", token=room.token, _external=True), not_live=service.why_not_live(room),
        refusals={i.id: service.item_refusal(i) for i in room.items}, title_of=service.title_of,
        assets=[a for a in offered_assets if (a.id, None) not in have],
        documents=[d for d in offered_documents if (None, d.id) not in have], activity=visits.activity(room))


@bp.post("/rooms/<int:room_id>/items")
@roles_required(*EVERYONE)
def add_items(room_id: int):
    room = service.managed_room(current_user, room_id) or abort(404)
    if not ActionForm().validate_on_submit():
        flash("The form expired: send it again.", "error")
        return redirect(url_for("rooms.manage", room_id=room.id))
    try:
        added = service.add_items(current_user, room, request.form.getlist("item"))
    except RoomError as error:
        flash(str(error), "error")
        return render_room(room, filled(room)), 422
    flash(f"{added} item{'s' if added != 1 else ''} added to the room." if added else "Nothing new to add.",
          "success" if added else "info")
    return redirect(url_for("rooms.manage", room_id=room.id) + "#items")


@bp.post("/rooms/<int:room_id>/items/<int:item_id>/<action>")
@roles_required(*EVERYONE)
def change_item(room_id: int, item_id: int, action: str):
    """Move an item up or down, or take it out (buttons: keyboard and screen-reader friendly)."""
    room = service.managed_room(current_user, room_id) or abort(404)
    if action not in (*MOVES, "remove"):
        abort(404)
    if not ActionForm().validate_on_submit():
        flash("The form expired: send it again.", "error")
    else:
        try:
            if action == "remove":
                flash(f"“{service.remove_item(room, item_id)}” taken out of the room.", "success")
            elif service.move_item(room, item_id, MOVES[action]):
                flash(f"Moved {action}.", "success")
            else:
                flash(f"Already {'first' if action == 'up' else 'last'}.", "info")
        except LookupError:
            abort(404)
    anchor = "items" if action == "remove" else f"item-{item_id}"
    return redirect(url_for("rooms.manage", room_id=room.id, _anchor=anchor))


@bp.post("/rooms/<int:room_id>/<action>")
@roles_required(*EVERYONE)
def switch(room_id: int, action: str):
    """Revoke the room (it stops opening at once) or reopen it."""
    room = service.managed_room(current_user, room_id) or abort(404)
    if action not in ("revoke", "reopen"):
        abort(404)
    if not ActionForm().validate_on_submit():
        flash("The form expired: send it again.", "error")
    elif action == "revoke":
        service.revoke(room)
        flash("Room revoked: its link no longer opens.", "success")
    else:
        service.reopen(room)
        flash("Room reopened: its link opens again.", "success")
    return redirect(url_for("rooms.manage", room_id=room.id))


def filled(room: DealRoom) -> RoomForm:
    form = RoomForm(formdata=None)
    form.fill_from(room)
    return form


# --- the buyer's side (no login) --------------------------------------------------------------------

def public_room(token: str, *, page: bool = False) -> DealRoom:
    """The live room for `token`, after rate limits (as share links): 429, 404 unknown, 410 ended
    (with `page`, the buyer's own friendly page)."""
    room, status = ratelimit.by_token(service.by_token, token, request.remote_addr or "", "room-view", VIEW_LIMIT)
    if status == 404:
        abort(unavailable(None, 404) if page else 404)
    if status != 200:
        abort(status)
    if service.why_not_live(room) is not None:
        abort(unavailable(room, 410) if page else 410)
    return room


def unavailable(room: DealRoom | None, status: int) -> Response:
    page = render_template("share/unavailable.html", sender=room.user if room else None, status=status,
                           brand=branding.current(), what="room")
    return Response(page, status)


def public_item(token: str, item_id: int, *, page: bool = False) -> tuple[DealRoom, DealRoomItem]:
    """The live room and one of its items a buyer may see (an internal one never): else 404."""
    room = public_room(token, page=page)
    shown = service.live_item(room, item_id)
    if shown is None:
        abort(unavailable(room, 404) if page else 404)
    return room, shown


def this_visit(room: DealRoom):
    return visits.visitor(room, current_user, request.remote_addr or "", request.user_agent.string)


def deal_path(room: DealRoom) -> str:
    return url_for("deals.show", opportunity_id=room.opportunity_id, _anchor="room")


@bp.route("/r/<token>")
def view(token: str):
    room = public_room(token, page=True)
    visit = this_visit(room)
    visits.open_room(room, visit, deal_path(room))
    items = service.live_items(room)
    return render_template("rooms/view.html", room=room, items=items, pages={i.id: visits.page_count(i) for i in items},
                           title_of=service.buyer_title_of, sender=room.user, brand=branding.current(),
                           preview=visit.is_sender)


@bp.route("/r/<token>/<int:item_id>")
def item(token: str, item_id: int):
    room, shown = public_item(token, item_id, page=True)
    visit = this_visit(room)
    visits.open_room(room, visit, deal_path(room), shown)
    items = service.live_items(room)
    at = items.index(shown)
    version = shown.asset.current_version if shown.asset is not None else None
    return render_template("rooms/item.html", room=room, item=shown, title=service.buyer_title_of(shown),
                           pages=visits.page_count(shown), sender=room.user, brand=branding.current(),
                           asset=shown.asset, landscape=bool(version and version.file_type == "pptx"),
                           can_download=links.file_of(shown.asset, shown.document) is not None,
                           previous=items[at - 1] if at > 0 else None,
                           following=items[at + 1] if at + 1 < len(items) else None, title_of=service.buyer_title_of)


@bp.route("/r/<token>/<int:item_id>/pages/<int:number>.png")
def page(token: str, item_id: int, number: int):
    _, shown = public_item(token, item_id)
    image = visits.page_image(shown, number, PAGE_WIDTH) or abort(404)
    response = send_file(image, mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"  # never kept once the room ends
    return response


@bp.post("/r/<token>/<int:item_id>/seen")
@csrf.exempt  # the public viewer's beacon: a page number and seconds, nothing else
def seen(token: str, item_id: int):
    room, shown = public_item(token, item_id)
    page_number = params.int_arg(request.form, "page", minimum=1)
    seconds = request.form.get("seconds", type=float)
    if page_number is None or seconds is None:
        abort(422, description="Send page and seconds.")
    try:
        visits.record_page_time(room, shown, this_visit(room), page_number, seconds)
    except links.ShareError as exc:
        abort(422, description=str(exc))
    return "", 204


@bp.route("/r/<token>/<int:item_id>/download")
def download(token: str, item_id: int):
    room, shown = public_item(token, item_id)
    path, name, mime = visits.download(room, shown, this_visit(room)) or abort(404)
    return send_file(path, mimetype=mime, as_attachment=True, download_name=name.replace("/", "-"))
