"""JSON API for CRM integrations: session cookie or `Authorization: Bearer` personal token."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, request, send_file, url_for
from flask_login import current_user

from app.api import openapi
from app.deals import records
from app.documents import authoring, generate
from app.extensions import csrf
from app.files import storage
from app.files.pdf import RenderError
from app.insights import content, searches, use
from app.insights.scope import scope_from_args
from app.library import assets
from app.models import EVERYONE, INSIGHT_VIEWERS, RATERS, Asset
from app.search import request_from_args, run_search
from app.sharing import links
from app.web import params
from app.web.access import roles_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer calls carry no CSRF token. The writes (customize, shares) only accept application/json,
# which a cross-site form cannot send, so a session cookie alone cannot be abused.
csrf.exempt(bp)

API_PAGE_SIZE = 50


@bp.get("/openapi.json")
def openapi_document():
    """The API's OpenAPI 3.1 document (public: it describes the API and holds no data)."""
    return openapi.document(request.host_url.rstrip("/") + bp.url_prefix)


def terms_json(asset: Asset) -> dict[str, list[str]]:
    """The asset's terms by dimension name, dimensions in their order."""
    return {dimension.name: [t.name for t in terms] for dimension, terms in asset.terms_by_dimension()}


def asset_json(asset: Asset) -> dict:
    return {
        "id": asset.id,
        "title": asset.title,
        "kind": asset.kind,
        "terms": terms_json(asset),
        "segments": [t.name for t in asset.terms],  # every dimension's terms: the field before dimensions
        "stages": [s.name for s in asset.stages],
        "status": asset.status,
        "product": asset.product,
        "tags": list(asset.tags),
        "updated_at": asset.updated_at.isoformat() + "Z",
    }


@bp.get("/assets")
@roles_required(*EVERYONE)
def list_assets():
    """Assets the caller may see, filtered by terms (?term=, or per dimension: ?industry=Retail), stage and
    kind names; several terms of one dimension widen the list, terms of two dimensions narrow it."""
    facets = assets.facets_by_name(terms=request.args, stages=request.args.getlist("stage"),
                                   kinds=request.args.getlist("kind"))
    page = assets.browse(current_user, page=params.page_arg(request.args),
                         per_page=API_PAGE_SIZE, **facets)
    return {"total": page.total, "page": page.page, "pages": page.pages,
            "assets": [asset_json(a) for a in page.items]}


@bp.get("/search")
@roles_required(*EVERYONE)
def search():
    """Full-text search with facet counts, as on the search page."""
    result = run_search(current_user, request_from_args(
        current_user, request.args, per_page=API_PAGE_SIZE))
    return {
        "total": result.page.total,
        "results": [{"id": r.asset.id, "title": r.asset.title, "kind": r.asset.kind,
                     "snippet": str(r.snippet), "score": r.score,
                     "terms": terms_json(r.asset), "segments": [t.name for t in r.asset.terms],
                     "stages": [s.name for s in r.asset.stages]}
                    for r in result.results],
        "facets": {group.name: {o.label: o.count for o in group.options} for group in result.facets},
        "suggestion": result.suggestion,
        "corrected": result.corrected,
    }


def iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment else None


@bp.get("/assets/<int:asset_id>/stats")
@roles_required(*EVERYONE)
def asset_stats(asset_id: int):
    """All-time uses of one asset by kind of event, its rating summary and open flags."""
    stats = use.asset_stats((assets.visible_asset(current_user, asset_id) or abort(404)).id)
    return {"id": asset_id, "uses": stats.uses, "last_used_at": iso(stats.last_used_at),
            "rating": {"average": stats.rating_average, "count": stats.rating_count},
            "open_flags": stats.open_flags}


@bp.get("/insights/overview")
@roles_required(*INSIGHT_VIEWERS)
def insights_overview():
    """The headline figures of the period (the same recounts as the Insights overview and the weekly PDF)."""
    figures = use.headline(scope_from_args(current_user, request.args))
    return {"uses": figures.uses, "active_reps": figures.active_reps, "reps": figures.reps,
            "searches": figures.searches, "zero_result_searches": figures.zero_result_searches,
            "ratings": figures.ratings, "rating_average": figures.rating_average, "open_flags": figures.open_flags,
            "ignored": figures.ignored, "new": figures.new}


@bp.get("/insights/ignored")
@roles_required(*INSIGHT_VIEWERS)
def insights_ignored():
    """Live assets with no use in the last `days` days (default 30); never-used ones have no date."""
    result = content.ignored(scope_from_args(current_user, request.args))
    return {"assets": [{"id": a.id, "title": a.title, "last_used_at": iso(a.last_used_at), "owner": a.owner}
                       for a in [*result.not_used, *result.never_used]]}


@bp.get("/insights/coverage")
@roles_required(*INSIGHT_VIEWERS)
def insights_coverage():
    """The coverage grid of one dimension (?dimension=ID; the first by default) crossed with stages."""
    grid = content.coverage(scope_from_args(current_user, request.args), params.id_arg(request.args, "dimension"))
    return {"dimension": grid.dimension, "terms": grid.terms, "stages": grid.stages,
            "cells": [{"term": c.term, "stage": c.stage, "assets": c.assets, "uses": c.uses} for c in grid.cells]}


@bp.get("/insights/content-gaps")
@roles_required(*INSIGHT_VIEWERS)
def insights_content_gaps():
    gaps = searches.content_gaps(scope_from_args(current_user, request.args))
    return {"queries": [{"query": g.query, "searches": g.searches, "zero_results": g.zero_results,
                         "no_click": g.no_click} for g in gaps]}


def json_object() -> dict:
    given = request.get_json(silent=True)
    if not isinstance(given, dict):
        abort(400, description="Send a JSON object with Content-Type: application/json.")
    return given


def id_field(given: dict, name: str) -> int | None:
    value = given.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise params.ParameterError(name, f"{name} must be a whole number.")
    return params.parse_int(str(value), name, minimum=1)


def bool_field(given: dict, name: str, default: bool) -> bool:
    """A JSON true or false; anything else ("false", 0, null) is refused rather than guessed."""
    value = given.get(name, default)
    if not isinstance(value, bool):
        raise params.ParameterError(name, f"{name} must be true or false (a JSON boolean).")
    return value


def opportunity_field(given: dict):
    """`"opportunity"`: the CRM id of one of the caller's open deals, which the logged event names."""
    value = given.get("opportunity")
    if value is not None and not isinstance(value, str):
        raise params.ParameterError("opportunity", "opportunity must be a string: a deal's CRM id.")
    try:
        return records.open_deal_by_external_id(current_user, value)
    except records.DealError as error:
        raise params.ParameterError("opportunity", str(error)) from None


def utc_field(given: dict, name: str) -> datetime | None:
    """An ISO 8601 date-time as naive UTC (the database's convention); a date alone means its midnight UTC."""
    value = given.get(name)
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise params.ParameterError(name, f"{name} must be an ISO 8601 date-time, e.g. 2026-12-31T17:00:00Z.") from None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


@bp.post("/assets/<int:asset_id>/customize")
@roles_required(*RATERS)
def customize(asset_id: int):
    """JSON field values (plus "account") in, the customized PDF out; kept in My documents."""
    item = assets.visible_asset(current_user, asset_id) or abort(404)
    if item.template is None:
        abort(404)
    given = json_object()
    fields = authoring.fields_of(item.template)
    customer = authoring.account_field(fields)
    if customer is not None and customer.name not in given and "account" in given:
        given = {**given, customer.name: given["account"]}  # "account" names the customer field too
    deal = opportunity_field(given)
    try:
        values = generate.clean_values(fields, {k: v for k, v in given.items() if k != "opportunity"},
                                       kept=generate.prefilled(fields, current_user))
        document = generate.generate(current_user, item, values, str(given.get("account", "")), opportunity=deal)
    except (generate.DocumentError, authoring.TemplateError, RenderError) as exc:
        abort(422, description=str(exc))
    return send_file(storage.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.title}.pdf".replace("/", "-"))


@bp.get("/documents")
@roles_required(*RATERS)
def documents():
    """The caller's generated documents, newest first."""
    return {"documents": [{"id": d.id, "title": d.title, "account": d.account, "asset_id": d.asset_id,
                           "template_version": d.template_version, "pages": d.page_count,
                           "created_at": iso(d.created_at)} for d in generate.documents_of(current_user)]}


@bp.post("/shares")
@roles_required(*RATERS)
def create_share():
    """{"asset_id"|"document_id", "recipient_email", "recipient_name", "account", "expires_at", "allow_download"}."""
    given = json_object()
    asset_id, document_id = id_field(given, "asset_id"), id_field(given, "document_id")
    asset = (assets.visible_asset(current_user, asset_id) or abort(404)) if asset_id else None
    document = (generate.own_document(current_user, document_id) or abort(404)) if document_id else None
    deal = opportunity_field(given)
    try:
        link = links.create_link(
            current_user, asset=asset, document=document, recipient_name=str(given.get("recipient_name", "")),
            recipient_email=str(given.get("recipient_email", "")), account=str(given.get("account", "")),
            expires_at=utc_field(given, "expires_at"), allow_download=bool_field(given, "allow_download", True),
            opportunity=deal)
    except links.ShareError as error:
        abort(422, description=str(error))
    return {"token": link.token, "url": url_for("share.view", token=link.token, _external=True)}, 201


@bp.get("/shares/<token>/activity")
@roles_required(*RATERS)
def share_activity(token: str):
    """Opens, page views and downloads of one of the caller's links."""
    link = links.own_link_by_token(current_user, token) or abort(404)
    seen = links.activity([link])[link.id]
    return {"token": link.token, "live": links.is_live(link), "opens": seen.opens, "downloads": seen.downloads,
            "last_opened_at": iso(seen.last_opened_at),
            "pages": [{"page": p, "seconds": round(s, 1)} for p, s in sorted(seen.pages.items())],
            "events": [{"kind": e.kind, "at": iso(e.created_at), "page": e.context.get("page"),
                        "seconds": e.context.get("seconds")} for e in seen.events]}
