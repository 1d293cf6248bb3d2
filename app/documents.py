"""Reps' and managers' customized documents: fill a template, preview, keep the PDF."""
from __future__ import annotations

import base64

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from . import assets, customization, storage, usage
from .access import RATERS, roles_required
from .customization import TemplateProblem, ValueProblem
from .forms import ActionForm
from .pdf import RenderError

bp = Blueprint("documents", __name__)


def customizable(asset_id: int):
    item = assets.get_visible(current_user, asset_id)
    if item.template is None:
        abort(404)
    return item


@bp.route("/assets/<int:asset_id>/customize", methods=["GET", "POST"])
@roles_required(*RATERS)
def customize(asset_id: int):
    """Fill the asset's fields for an account; preview page 1 or create the PDF."""
    item = customizable(asset_id)
    fields = customization.fields_of(item.template)
    start = customization.document_of(current_user, request.args.get("from", 0, type=int))
    values = customization.prefilled(fields, current_user, start)
    account = start.account if start else ""
    preview, status = None, 200
    form = ActionForm()
    if request.method == "POST":
        account = request.form.get("account", "")
        values.update({k: v for k, v in request.form.items() if k in values})
        try:
            if not form.validate_on_submit():
                raise ValueProblem("The form expired. Reload the page and try again.")
            values = customization.clean_values(fields, request.form, request.files, fallback=values)
            if request.form.get("action") == "preview":
                png = customization.first_page_png(customization.render_document(item.template, values))
                preview = "data:image/png;base64," + base64.b64encode(png).decode()
            else:
                document = customization.generate(current_user, item, values, account)
                usage.log_event("customize", user=current_user, asset=item, account=document.account,
                                document_id=document.id, template_version=document.template_version)
                flash(f"“{document.title}” is ready.", "success")
                return redirect(url_for("documents.index", new=document.id))
        except (ValueProblem, RenderError, TemplateProblem) as exc:
            flash(str(exc), "error")
            status = 400
    return render_template("documents/customize.html", asset=item, fields=fields, values=values,
                           account=account, preview=preview, form=form), status


@bp.route("/documents")
@roles_required(*RATERS)
def index():
    """My documents: every PDF this user generated, newest first."""
    return render_template("documents/index.html", documents=customization.documents_of(current_user),
                           new=request.args.get("new", type=int))


@bp.route("/documents/<int:document_id>/download")
@roles_required(*RATERS)
def download(document_id: int):
    document = customization.document_of(current_user, document_id) or abort(404)
    return send_file(storage.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.title}.pdf".replace("/", "-"))
