"""The template editor (marketers make an asset customizable), a page of the `content` blueprint:
its URL and endpoint stay with asset management (/manage/<id>/template, `content.template`),
its work is the documents area's. Imported by the app factory before the blueprint is registered."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.documents import authoring, looks
from app.documents.forms import TemplateForm
from app.extensions import db
from app.library.manage_views import bp
from app.models import CONTENT_WRITERS, Asset
from app.web.access import roles_required


@bp.route("/<int:asset_id>/template", methods=["GET", "POST"])
@roles_required(*CONTENT_WRITERS)
def template(asset_id: int):
    """Make an asset customizable: HTML + CSS, fields as rows; preview with the examples; save."""
    item = db.get_or_404(Asset, asset_id)
    form = TemplateForm(obj=item.template) if request.method == "GET" else TemplateForm()
    if request.method == "GET":
        form.load(authoring.fields_of(item.template) if item.template else authoring.EXAMPLE_FIELDS)
    preview, status = None, 200
    if request.form.get("starter"):
        look = looks.look_of(item)
        form.html.data, form.css.data, fields = looks.starter(item, look)
        form.load(fields)
        fonts = ", ".join(look.fonts) or "the default font"
        flash(f"Started a one-pager in the look of {look.source or 'Bridge'} (accent {look.accent}, {fonts}). "
              "Nothing is saved until you press Save template.", "info")
    elif form.is_submitted() and form.rearrange(request.form.get("row_action", "")):
        pass  # a row added, moved or removed: shown again, nothing saved
    elif form.validate_on_submit():
        try:
            declared = authoring.parse_fields(form.declared())
            if form.preview.data:
                preview = authoring.preview_data_uri(form.html.data, form.css.data or "", declared)
            else:
                saved = authoring.save_template(item, form.html.data, form.css.data or "", declared, current_user)
                flash(f"Template saved as version {saved.version}. Reps can customize “{item.title}”.", "success")
                return redirect(url_for("content.template", asset_id=item.id))
        except authoring.TemplateError as exc:
            flash(str(exc), "error")
            status = 422
    elif form.is_submitted():
        status = 400
    return render_template("content/template.html", asset=item, form=form, preview=preview,
                           field_types=authoring.FIELD_TYPES), status


@bp.post("/<int:asset_id>/template/preview")
@roles_required(*CONTENT_WRITERS)
def template_preview(asset_id: int):
    """The live preview beside the editor: page 1 of the draft with its examples, as a data URI."""
    db.get_or_404(Asset, asset_id)
    form = TemplateForm()
    if not form.validate_on_submit():
        return jsonify(error="Write some HTML to preview."), 422
    try:
        declared = authoring.parse_fields(form.declared())
        return jsonify(image=authoring.preview_data_uri(form.html.data, form.css.data or "", declared))
    except authoring.TemplateError as exc:
        return jsonify(error=str(exc)), 422
