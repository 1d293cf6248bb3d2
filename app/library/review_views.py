"""Bulk actions on assets (blueprint review): the review queue, and the same actions from insights
pages, each confirmed first and undoable after."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.library import reviews
from app.models import CONTENT_WRITERS
from app.web.access import roles_required

bp = Blueprint("review", __name__, url_prefix="/manage/review")

VIEWS = {"mine": "My assets", "all": "Everyone's"}


def _view_args() -> tuple[str, str]:
    view = request.values.get("view", "mine")
    reason = request.values.get("reason", "")
    return (view if view in VIEWS else "mine"), (reason if reason in reviews.REASONS else "")


def _local(path: str | None) -> str | None:
    """A path on this site to go back to (an insights page with its filters), or None."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) < 2000:
        return path
    return None


@bp.route("/")
@roles_required(*CONTENT_WRITERS)
def queue():
    """Assets whose review is due or overdue, flagged or expiring: mine by default, or everyone's."""
    view, reason = _view_args()
    items = reviews.queue(owner=current_user if view == "mine" else None, reason=reason)
    return render_template("review/queue.html", items=items, view=view, views=VIEWS, reason=reason,
                           reasons=reviews.REASONS, actions=reviews.ACTIONS, owners=reviews.owners())


@bp.post("/bulk")
@roles_required(*CONTENT_WRITERS)
def bulk():
    """A bulk action: first a confirmation page listing what will change, then (confirmed) all of it or
    none, with an Undo button in the message; back to the page it came from (`next`) or the queue."""
    view, reason = _view_args()
    action, owner_id = request.form.get("action", ""), request.form.get("owner", type=int)
    asset_ids = request.form.getlist("asset", type=int)
    came_from = _local(request.form.get("next"))
    back = came_from or url_for("review.queue", view=view, reason=reason or None)
    try:
        if request.form.get("confirm") != "yes":
            return render_template("review/confirm.html", plan=reviews.plan(current_user, action, asset_ids, owner_id),
                                   view=view, reason=reason, back=back, came_from=came_from)
        done, change = reviews.carry_out(current_user, action, asset_ids, owner_id)
    except reviews.ReviewError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(done.done, "success")
    flash(str(change.id), "undo")
    return redirect(back)


@bp.post("/undo/<int:change_id>")
@roles_required(*CONTENT_WRITERS)
def undo(change_id: int):
    """Put the assets of one of my bulk changes back as they were (all of them, or none)."""
    back = _local(request.form.get("next")) or url_for("review.queue")
    try:
        change = reviews.undo(current_user, change_id)
    except reviews.ReviewError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Undone: {change.summary}", "success")
    return redirect(back)
