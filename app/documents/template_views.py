"""The template editor (marketers make an asset customizable), a page of the `content` blueprint:
its URL and endpoint stay with asset management (/manage/<id>/template, `content.template`),
its work is the documents area's. Imported by the app factory before the blueprint is registered."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.documents import authoring
from app.documents.forms import TemplateForm
from app.extensions import db
from app.library.manage_views import bp
from app.models import CONTENT_WRITERS, Asset
from app.web.access import roles_required


@bp.route("/<int:asset_id>/template", methods=["GET", "POST"])
@roles_required(*CONTENT_WRITERS)
def template(asset_id: int):
    """Make an asset customizable: HTML + CSS with declared fields; preview with the defaults."""
    item = db.get_or_404(Asset, asset_id)
    form = TemplateForm(obj=item.template) if request.method == "GET" else TemplateForm()
    if request.method == "GET":
        form.fields_json.data = authoring.fields_json(item.template)
    preview, status = None, 200
    if form.validate_on_submit():
        try:
            declared = authoring.parse_fields_json(form.fields_json.data)
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
