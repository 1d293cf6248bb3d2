"""The review queue on the manage side (blueprint review): what owners should check now, acted on in bulk."""
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
    """A bulk action: first a confirmation page listing what will change, then (confirmed) all of it or none."""
    view, reason = _view_args()
    action, owner_id = request.form.get("action", ""), request.form.get("owner", type=int)
    asset_ids = request.form.getlist("asset", type=int)
    back = url_for("review.queue", view=view, reason=reason or None)
    try:
        if request.form.get("confirm") != "yes":
            return render_template("review/confirm.html", plan=reviews.plan(current_user, action, asset_ids, owner_id),
                                   view=view, reason=reason, back=back)
        done = reviews.carry_out(current_user, action, asset_ids, owner_id)
    except reviews.ReviewError as exc:
        flash(str(exc), "error")
        return redirect(back)
    flash(done.done, "success")
    return redirect(back)
