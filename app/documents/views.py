"""Reps' and managers' customized documents: fill a template, preview, keep the PDF."""
from __future__ import annotations

import base64

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from app import search
from app.deals import records
from app.deals.records import DealError
from app.documents import authoring, generate, kits
from app.documents import bulk as bulk_service
from app.documents.authoring import TemplateError
from app.documents.generate import DocumentError
from app.files import storage
from app.files.pdf import RenderError
from app.library import assets, collections, prospects
from app.models import RATERS, Job, Role
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
    """Fill the asset's fields for a customer and create the PDF (kept in My documents)."""
    item = customizable(asset_id)
    if request.method == "POST" and request.form.get("action") == "preview":
        return preview(asset_id)  # a browser that ignored the Preview button's formaction
    fields = authoring.fields_of(item.template)
    start = generate.own_document(current_user, params.int_arg(request.args, "from", 0))
    values = generate.prefilled(fields, current_user, start)
    deal = prefilled_deal(request.args)
    account = start.account if start else (deal.account.name if deal else "")
    status, form = 200, ActionForm()
    if request.method == "POST":
        values, account = entered(fields, values)
        try:
            if not form.validate_on_submit():
                raise DocumentError("The form expired. Reload the page and try again.")
            deal = records.chosen_open_deal(current_user, request.form.get("opportunity"))
            cleaned = generate.clean_values(fields, request.form, request.files, kept=values)
            document = generate.generate(current_user, item, cleaned, account, opportunity=deal)
        except (DocumentError, RenderError, TemplateError, DealError) as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash(f"“{document.title}” is ready.", "success")
            return redirect(url_for("documents.index", new=document.id))
    return customize_page(item, fields, values, account, form, status=status, deal=deal)


def prefilled_deal(values):
    """The open deal the rep came from or chose (?opportunity=): prefills the deal select; none if not theirs."""
    try:
        return records.chosen_open_deal(current_user, values.get("opportunity"))
    except DealError:
        return None


@bp.post("/assets/<int:asset_id>/customize/preview")
@roles_required(*RATERS)
def preview(asset_id: int):
    """The pages the rep would get, shown inline: no document is kept and nothing is counted."""
    item = customizable(asset_id)
    fields = authoring.fields_of(item.template)
    values, account = entered(fields, generate.prefilled(fields, current_user))
    form, status, images = ActionForm(), 200, []
    try:
        if not form.validate_on_submit():
            raise DocumentError("The form expired. Reload the page and try again.")
        values = generate.clean_values(fields, request.form, request.files, kept=values)
        images = ["data:image/png;base64," + base64.b64encode(page.png).decode()
                  for page in generate.preview(item, values)]
    except (DocumentError, RenderError, TemplateError) as exc:
        flash(str(exc), "error")
        status = 400
    return customize_page(item, fields, values, account, form, images, status, prefilled_deal(request.form))


def entered(fields, values: dict) -> tuple[dict, str]:
    """What the rep typed, to show again (images too: they travel in the page until created)."""
    shown = dict(values)
    shown.update({f.name: request.form.get(f.name, "") for f in fields if f.name in request.form})
    return shown, request.form.get("account", "")


def customize_page(item, fields, values: dict, account: str, form, previews=(), status: int = 200, deal=None):
    return render_template("documents/customize.html", asset=item, fields=fields, values=values,
                           account=account, account_field=authoring.account_field(fields), previews=list(previews),
                           form=form, refused=generate.refusal(item), deal=deal,
                           open_deals=records.open_deals_of(current_user)), status


@bp.route("/documents")
@roles_required(*RATERS)
def index():
    """My documents: every PDF this user generated, newest first."""
    return render_template("documents/index.html", documents=generate.documents_of(current_user),
                           new=params.id_arg(request.args, "new"))


@bp.route("/documents/<int:document_id>/download")
@roles_required(*RATERS)
def download(document_id: int):
    document = generate.own_document(current_user, document_id) or abort(404)
    return send_file(storage.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                     download_name=document.file_name)


@bp.app_context_processor
def kit_counter():
    """How many parts the rep's draft pitch kit holds, for the top bar."""
    if has_request_context() and current_user.is_authenticated and current_user.has_role(*RATERS):
        return {"kit_items": kits.item_count(current_user)}
    return {"kit_items": 0}


KIT_ACTIONS = ("build", "save", "search", "remove", "up", "down", "add_asset", "add_document", "add_collection",
               "clear")


@bp.route("/kits/new", methods=["GET", "POST"])
@roles_required(*RATERS)
def new_kit():
    """The rep's draft pitch kit: its parts (kept between searches and sessions), a search and the
    rep's documents to add from, the customer, cover title and letter; then one PDF."""
    form = ActionForm()
    if request.method == "POST":
        action = next((a for a in KIT_ACTIONS if a in request.form), "save")
        target = params.int_arg(request.form, action)
        details = None  # a button from another page (a collection's) leaves what the rep typed alone
        try:
            if not form.validate_on_submit():
                raise DocumentError("The form expired. Reload the page and try again.")
            if "account" in request.form:
                deal = records.chosen_open_deal(current_user, request.form.get("opportunity"))
                details = kits.Details(request.form["account"], request.form.get("title", ""),
                                       request.form.get("intro", ""), deal.id if deal else None)
            message = kits.edit_draft(current_user, details, action, target, collections.own_collection(
                current_user, params.id_arg(request.form, "collection")))
        except (DocumentError, RenderError, DealError) as exc:
            flash(str(exc), "error")
            return kit_page(form, request.form.get("q", ""), 400)
        if isinstance(message, Job):  # the kit is being built: its page shows how far
            return redirect(url_for("jobs.job", job_id=message.id))
        if message:
            flash(message, "success")
        return redirect(url_for("documents.new_kit", q=request.form.get("q") or None) + "#kit")
    return kit_page(form, request.args.get("q", ""))


def kit_page(form, query: str, status: int = 200):
    found = []
    if query:
        found = [r.asset for r in search.run_search(
            current_user, search.build_request(current_user, text=query), log=False).results]
    draft = kits.draft_of(current_user)
    items = list(draft.items) if draft else []
    prospects.fill_templates([*found, *(i.asset for i in items if i.asset is not None)])
    in_kit = {i.asset_id for i in items} | {("document", i.document_id) for i in items}
    mine = [d for d in generate.documents_of(current_user, 20) if d.asset_id and ("document", d.id) not in in_kit]
    return render_template(
        "documents/kit.html", draft=draft, items=items, found=[a for a in found if a.id not in in_kit],
        problems={i.id: kits.problem_with(current_user, i) for i in items}, query=query, form=form,
        max_items=kits.MAX_ITEMS, documents=mine, collections=collections.collections_of(current_user),
        open_deals=records.open_deals_of(current_user),
        deal=records.own_open_deal(current_user, draft.opportunity_id if draft else None)), status


@bp.post("/kits/items")
@roles_required(*RATERS)
def add_to_kit():
    """Add an asset (?asset=) or one of my documents (?document=) to my draft pitch kit."""
    back = request.values.get("next", "")
    back = back if back.startswith("/") and not back.startswith("//") else url_for("documents.new_kit")
    asset = document = None
    if request.values.get("asset"):
        asset = assets.visible_asset(current_user, params.id_arg(request.values, "asset")) or abort(404)
    elif request.values.get("document"):
        document = generate.own_document(current_user, params.id_arg(request.values, "document")) or abort(404)
    else:
        abort(404)
    if not ActionForm().validate_on_submit():
        flash("The form expired. Reload the page and try again.", "error")
        return redirect(back)
    try:
        added = kits.add(current_user, asset=asset, document=document,
                         opportunity=records.chosen_open_deal(current_user, request.values.get("opportunity")))
    except (DocumentError, DealError) as exc:
        flash(str(exc), "error")
        return redirect(back)
    title = (asset or document).title
    flash(f"Added “{title}” to your pitch kit." if added else f"“{title}” is already in your pitch kit.", "success")
    return redirect(back)


@bp.post("/kits/<int:document_id>/restore")
@roles_required(*RATERS)
def restore_kit(document_id: int):
    """Start a new draft from a kit I built before."""
    kit = generate.own_document(current_user, document_id)
    if kit is None or kit.asset_id is not None:
        abort(404)
    if ActionForm().validate_on_submit():
        added = kits.restore(current_user, kit)
        flash(f"Your pitch kit holds the {added} items of “{kit.title}” again: change what you need and build it.",
              "success")
    return redirect(url_for("documents.new_kit"))


@bp.route("/assets/<int:asset_id>/bulk", methods=["GET", "POST"])
@roles_required(Role.MANAGER)
def bulk(asset_id: int):
    """Managers: a CSV of accounts in, its columns matched to the fields and confirmed, then one
    customized PDF per account out (as a ZIP), made by a job whose page shows the progress."""
    item = customizable(asset_id)
    fields = authoring.fields_of(item.template)
    upload, mapping, status, form = None, {}, 200, ActionForm()
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise DocumentError("The form expired. Reload the page and try again.")
            if request.form.get("upload"):  # the mapping, confirmed
                upload = bulk_service.stashed(current_user, request.form["upload"])
                if upload is None:
                    raise DocumentError("That CSV is no longer waiting here; upload it again.")
                mapping = {f.name: request.form.get(f"map-{f.name}", "") for f in fields}
                job = bulk_service.start(current_user, item, upload, mapping)
                flash(f"Making {len(upload.rows)} PDFs: you can leave this page, a notification tells you "
                      "when they are ready.", "success")
                return redirect(url_for("jobs.job", job_id=job.id))
            else:
                csv_file = request.files.get("accounts")
                if csv_file is None or not csv_file.filename:
                    raise DocumentError("Choose a CSV file of accounts.")
                data = csv_file.read(bulk_service.MAX_CSV_BYTES + 1)
                if len(data) > bulk_service.MAX_CSV_BYTES:
                    raise DocumentError("The CSV is larger than 2 MB; split it into smaller files.")
                upload = bulk_service.stash(current_user, data)
                mapping = bulk_service.auto_mapping(fields, upload.columns)
        except DocumentError as exc:
            flash(str(exc), "error")
            status = 400
    return render_template("documents/bulk.html", asset=item, form=form, fields=fields,
                           upload=upload, mapping=mapping, account_field=authoring.account_field(fields),
                           refused=generate.refusal(item)), status


@bp.route("/assets/<int:asset_id>/bulk/sample.csv")
@roles_required(Role.MANAGER)
def bulk_sample(asset_id: int):
    """A CSV to fill in for bulk customize: the template's columns and one example row."""
    item = customizable(asset_id)
    return Response(bulk_service.sample_csv(authoring.fields_of(item.template)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="accounts-{item.id}.csv"'})


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
