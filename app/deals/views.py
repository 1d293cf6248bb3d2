"""Deals pages: the team's or the rep's opportunities, one deal with its recommendations, a rep's new
opportunity, the CRM import (managers, admins) and marketing's plays."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.deals import csvimport, plays, recommend, records, workspace
from app.deals.forms import ImportForm, MoveForm, OpportunityForm, PlayForm
from app.deals.records import DealError, OpportunityData
from app.library import taxonomy
from app.models import CONTENT_WRITERS, EVERYONE, RATERS, Role
from app.rooms import service as rooms
from app.rooms import visits as room_visits
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm, flash_form_errors

bp = Blueprint("deals", __name__, url_prefix="/deals")


@bp.route("/")
@roles_required(*EVERYONE)
def index():
    """The opportunities the user sees: a rep's own, a manager's team's, everyone's for marketing."""
    status = request.args.get("status", "open")
    status = status if status in ("open", "won", "lost") else "open"
    page = params.page_arg(request.args)
    total, deals = records.opportunities(current_user, status=status, page=page)
    return render_template("deals/index.html", deals=deals, total=total, status=status, page=page,
                           sent=workspace.sent_in([d.id for d in deals]), may_import=records.may_import(current_user))


@bp.route("/<int:opportunity_id>")
@roles_required(*EVERYONE)
def show(opportunity_id: int):
    """One deal: its stage history, what was sent in it, and what to send next."""
    deal = records.own_opportunity(current_user, opportunity_id) or abort(404)
    room = rooms.room_of(deal) if rooms.may_manage(current_user, deal) else None
    move_form = None
    if records.may_move(current_user, deal):
        move_form = MoveForm()
        move_form.fill_choices(taxonomy.stages(), deal)
    return render_template("deals/show.html", deal=deal, history=records.history(deal), move_form=move_form,
                           sent=workspace.sent_in([deal.id]).get(deal.id, []),
                           recommendations=recommend.recommend(current_user, deal),
                           may_send=deal.owner_id == current_user.id and deal.is_open,
                           may_manage_room=rooms.may_manage(current_user, deal), room=room,
                           room_not_live=rooms.why_not_live(room) if room else None,
                           room_url=url_for("rooms.view", token=room.token, _external=True) if room else "",
                           activity=room_visits.activity(room) if room else None)


@bp.route("/<int:opportunity_id>/move", methods=["POST"])
@roles_required(*EVERYONE)
def move(opportunity_id: int):
    """The deal's owner (or their manager) sets its stage or closes it won or lost, or reopens it."""
    deal = records.own_opportunity(current_user, opportunity_id) or abort(404)
    if not records.may_move(current_user, deal):
        abort(403)
    form = MoveForm()
    form.fill_choices(taxonomy.stages(), deal)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("deals.show", opportunity_id=deal.id))
    try:
        changed = records.move(current_user, deal, stage_id=form.stage.data or None, status=form.status.data)
    except DealError as error:
        flash(str(error), "error")
    else:
        if not changed:
            flash("Nothing changed.", "info")
        elif deal.is_open:
            flash(f"“{deal.name}” is now at {deal.stage.name if deal.stage else 'no stage'}.", "success")
        else:
            flash(f"“{deal.name}” closed {deal.status}. Content sent in it now counts in Influence.", "success")
    return redirect(url_for("deals.show", opportunity_id=deal.id))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*RATERS)
def new():
    """A rep (or manager) adds an opportunity of their own."""
    form = OpportunityForm()
    form.fill_choices(taxonomy.terms(), taxonomy.stages())
    if form.validate_on_submit():
        try:
            deal, _ = records.save(current_user, OpportunityData(
                name=form.name.data, account_name=form.account.data, account_term_ids=form.terms.data or [],
                stage_id=form.stage.data, amount_minor=int(form.amount.data * 100) if form.amount.data else 0,
                currency=form.currency.data.upper(), close_date=form.close_date.data, owner_id=current_user.id),
                source="app")
        except DealError as error:
            flash(str(error), "error")
        else:
            flash(f"Opportunity “{deal.name}” added.", "success")
            return redirect(url_for("deals.show", opportunity_id=deal.id))
    elif request.method == "POST":
        flash_form_errors(form)
    return render_template("deals/new.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.MANAGER, Role.ADMIN)
def import_csv():
    """A CRM export in: read, its columns matched (a preset or by name) and confirmed, then loaded."""
    form, upload, mapping, report, status = ImportForm(), None, {}, None, 200
    preset = request.form.get("preset", "") if request.form.get("preset", "") in csvimport.PRESETS else ""
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise DealError("The form expired. Reload the page and try again.")
            if request.form.get("upload"):
                upload = csvimport.stashed(current_user, request.form["upload"])
                if upload is None:
                    raise DealError("That CSV is no longer waiting here; upload it again.")
                if request.form.get("action") == "preset":  # the preset was changed: map again
                    mapping = csvimport.auto_mapping(upload.columns, preset)
                else:
                    mapping = {name: request.form.get(f"map-{name}", "") for name, _, _ in csvimport.fields()}
                    report = csvimport.import_rows(current_user, upload, mapping, preset)
                    upload = None
            else:
                data = form.file.data.read(csvimport.MAX_CSV_BYTES + 1) if form.file.data else b""
                if not data:
                    raise DealError("Choose the CSV your CRM exported.")
                upload = csvimport.stash(current_user, data)
                preset = preset or csvimport.guess_preset(upload.columns)
                mapping = csvimport.auto_mapping(upload.columns, preset)
        except DealError as error:
            flash(str(error), "error")
            status = 400
        if report is not None:
            flash(f"{report.created} opportunities added, {report.updated} updated"
                  + (f"; {len(report.bad)} row{'' if len(report.bad) == 1 else 's'} left out (below)."
                     if report.bad else "."),
                  "error" if report.bad else "success")
    return render_template("deals/import.html", form=form, upload=upload, mapping=mapping, report=report,
                           preset=preset, presets=csvimport.PRESETS, fields=csvimport.fields()), status


@bp.route("/plays", methods=["GET", "POST"])
@roles_required(*CONTENT_WRITERS)
def plays_page():
    """Marketing pins assets to cells (a term × a stage): the first recommendations in those deals."""
    form = PlayForm()
    form.fill_choices(taxonomy.terms(), taxonomy.stages(), plays.pinnable_assets())
    status = 200
    if form.validate_on_submit():
        try:
            play = plays.pin(current_user, form.term.data, form.stage.data, form.asset.data, form.note.data or "")
        except DealError as error:
            flash(str(error), "error")
            status = 400
        else:
            flash(f"“{play.asset.title}” pinned to {play.term.name} · {play.stage.name}.", "success")
            return redirect(url_for("deals.plays_page"))
    elif request.method == "POST":
        flash_form_errors(form)
        status = 400
    return render_template("deals/plays.html", form=form, plays=plays.plays(), action=ActionForm()), status


@bp.post("/plays/<int:play_id>/unpin")
@roles_required(*CONTENT_WRITERS)
def unpin(play_id: int):
    if not ActionForm().validate_on_submit():
        flash("The form expired: send it again.", "error")
    elif plays.unpin(current_user, play_id):
        flash("Play removed.", "success")
    else:
        abort(404)
    return redirect(url_for("deals.plays_page"))
