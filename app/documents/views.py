"""Reps' and managers' customized documents: fill a template, preview, keep the PDF."""
from __future__ import annotations

import base64

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import search
from app.documents import authoring, generate, kits
from app.documents import bulk as bulk_service
from app.documents.authoring import TemplateError
from app.documents.generate import DocumentError
from app.files import storage
from app.files.pdf import RenderError
from app.library import assets, collections
from app.models import RATERS, Role
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("documents", __name__)


def customizable(asset_id: int):
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    if item.template is None:
        abort(404)
    return item


@bp.route("/assets/<int:asset_id>/customize", methods=["GET", "POST"])
@roles_required(*RATERS)
def customize(asset_id: int):
    """Fill the asset's fields for an account; preview page 1 or create the PDF."""
    item = customizable(asset_id)
    fields = authoring.fields_of(item.template)
    start = generate.own_document(current_user, params.int_arg(request.args, "from", 0))
    values = generate.prefilled(fields, current_user, start)
    account = start.account if start else ""
    preview, status = None, 200
    form = ActionForm()
    if request.method == "POST":
        account = request.form.get("account", "")
        values.update({k: v for k, v in request.form.items() if k in values})
        try:
            if not form.validate_on_submit():
                raise DocumentError("The form expired. Reload the page and try again.")
            values = generate.clean_values(fields, request.form, request.files, fallback=values)
            if request.form.get("action") == "preview":
                png = authoring.first_page_png(authoring.render_document(item.template, values))
                preview = "data:image/png;base64," + base64.b64encode(png).decode()
            else:
                document = generate.generate(current_user, item, values, account)
                flash(f"“{document.title}” is ready.", "success")
                return redirect(url_for("documents.index", new=document.id))
        except (DocumentError, RenderError, TemplateError) as exc:
            flash(str(exc), "error")
            status = 400
    return render_template("documents/customize.html", asset=item, fields=fields, values=values,
                           account=account, preview=preview, form=form), status


@bp.route("/documents")
@roles_required(*RATERS)
def index():
    """My documents: every PDF this user generated, newest first."""
    return render_template("documents/index.html", documents=generate.documents_of(current_user),
                           new=request.args.get("new", type=int))


@bp.route("/documents/<int:document_id>/download")
@roles_required(*RATERS)
def download(document_id: int):
    document = generate.own_document(current_user, document_id) or abort(404)
    return send_file(storage.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.title}.pdf".replace("/", "-"))


def asset_link(asset_id: int) -> str:
    """The asset's page, as printed on a pitch kit's summary pages."""
    return url_for("library.asset", asset_id=asset_id, _external=True)


@bp.route("/kits/new", methods=["GET", "POST"])
@roles_required(*RATERS)
def new_kit():
    """Pick assets (from a saved collection, or search to find more), add a cover and a letter, get one PDF."""
    chosen = params.id_list(request.values, "ids")
    collection = collections.own_collection(current_user, params.id_arg(request.args, "collection"))
    if collection is not None:
        chosen += [a.id for a in collections.assets_in(current_user, collection)]
    selected = assets.load_in_order(chosen, user=current_user)
    status, form = 200, ActionForm()
    if request.method == "POST":
        if len(selected) < len(set(chosen)):
            abort(404)  # hidden assets do not exist for the user
        try:
            if not form.validate_on_submit():
                raise DocumentError("The form expired. Reload the page and try again.")
            document = kits.build_kit(current_user, selected, request.form.get("account", ""),
                                      request.form.get("title", ""), request.form.get("intro", ""), asset_link)
        except (DocumentError, RenderError) as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash(f"“{document.title}” is ready: {document.page_count} pages.", "success")
            return redirect(url_for("documents.index", new=document.id))
    found = []
    if request.args.get("q"):
        found = [r.asset for r in search.run_search(
            current_user, search.request_from_args(current_user, request.args), log=False).results]
    return render_template("documents/kit.html", selected=selected,
                           found=[a for a in found if a not in selected], form=form, max_items=kits.MAX_ITEMS,
                           collections=collections.collections_of(current_user)), status


@bp.route("/assets/<int:asset_id>/bulk", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def bulk(asset_id: int):
    """Managers: a CSV of accounts in, one customized PDF per account out (as a ZIP)."""
    item = customizable(asset_id)
    results, status, form = [], 200, ActionForm()
    if request.method == "POST":
        upload = request.files.get("accounts")
        try:
            if not form.validate_on_submit() or upload is None or not upload.filename:
                raise DocumentError("Choose a CSV file of accounts.")
            results = bulk_service.generate_many(
                current_user, item, bulk_service.read_accounts_csv(upload.read(bulk_service.MAX_CSV_BYTES)))
        except DocumentError as exc:
            flash(str(exc), "error")
            status = 400
        made = [r.document for r in results if r.document]
        if results:
            failed = len(results) - len(made)
            flash(f"{len(made)} documents made" + (f"; {failed} rows need fixing (below)." if failed else "."),
                  "success" if not failed else "error")
    return render_template("documents/bulk.html", asset=item, results=results, form=form,
                           fields=authoring.fields_of(item.template)), status


@bp.route("/documents/zip")
@roles_required(*RATERS)
def download_zip():
    """Several of the user's own documents in one ZIP (?ids=1&ids=2…)."""
    documents = [d for i in params.id_list(request.args, "ids")
                 if (d := generate.own_document(current_user, i)) is not None]
    if not documents:
        abort(404)
    return Response(generate.zip_of(documents), mimetype="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="bridge-documents.zip"'})
