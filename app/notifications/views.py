"""The notification centre, each user's notification preferences, and the one-click unsubscribe link."""
from __future__ import annotations

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import csrf
from app.library import notices, taxonomy
from app.models import EVERYONE, NOTIFICATION_KINDS, NOTIFICATION_TABS
from app.notifications import preferences, service
from app.notifications.forms import PreferencesForm
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm, flash_form_errors

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def notification_count():
    """Unread notifications for the bell in the top bar of every page."""
    if has_request_context() and current_user.is_authenticated:
        return {"unread_notifications": service.unread_count(current_user)}
    return {"unread_notifications": 0}


def kind_arg() -> str:
    kind = request.args.get("kind", "")
    if kind and kind not in NOTIFICATION_KINDS:
        abort(404)
    return kind


@bp.route("/notifications")
@roles_required(*EVERYONE)
def index():
    kind = kind_arg()
    centre = service.centre(current_user, kind, params.page_arg(request.args))
    return render_template("notifications/index.html", centre=centre, kinds=NOTIFICATION_KINDS, tabs=NOTIFICATION_TABS,
                           form=ActionForm())


@bp.post("/notifications/read")
@roles_required(*EVERYONE)
def mark_read():
    kind = kind_arg()
    if ActionForm().validate_on_submit():
        count = service.mark_all_read(current_user, kind)
        flash(f"Marked {count} notification{'s' if count != 1 else ''} read." if count else "Nothing was unread.",
              "success")
    else:
        flash("The form expired: send it again.", "error")
    return redirect(url_for("notifications.index", kind=kind or None))


def preferences_form(formdata=None) -> PreferencesForm:
    terms = [(t.id, f"{d.name}: {t.name}") for d in taxonomy.dimensions() for t in d.terms]
    return PreferencesForm.filled(preferences.choices_of(current_user), preferences.segment_ids_of(current_user),
                                  terms, formdata)


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@roles_required(*EVERYONE)
def preferences_page():
    form = preferences_form(request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            try:
                preferences.save(current_user, form.chosen(), form.segments.data)
            except preferences.PreferenceError as exc:
                flash(str(exc), "error")
            else:
                flash("Notification preferences saved.", "success")
                return redirect(url_for("notifications.preferences_page"))
        else:
            flash_form_errors(form)
    return render_template("notifications/preferences.html", form=form, dimensions=taxonomy.dimensions(),
                           labels=NOTIFICATION_KINDS, followed=notices.followed_by(current_user))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token names the user and the digest: it is the credential (RFC 8058 one-click)
def unsubscribe(token: str):
    """GET: a page with a button (mail scanners follow links; they must not unsubscribe anyone).
    POST (the button, or a mail client's List-Unsubscribe-Post): stop that digest, no login needed."""
    user, kind = preferences.from_unsubscribe_token(token) or abort(404)
    if request.method == "POST":
        preferences.stop_email(user, kind)
        return render_template("notifications/unsubscribed.html", label=NOTIFICATION_KINDS[kind], done=True)
    return render_template("notifications/unsubscribed.html", label=NOTIFICATION_KINDS[kind], done=False,
                           token=token)
