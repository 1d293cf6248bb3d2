"""JSON API for CRM integrations: session cookie or `Authorization: Bearer` personal token."""
from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from . import assets, discovery
from .access import EVERYONE, roles_required
from .extensions import csrf
from .models import Asset

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookie-authenticated writes exist here yet; bearer calls carry no CSRF token

API_PAGE_SIZE = 50


def asset_json(asset: Asset) -> dict:
    return {
        "id": asset.id,
        "title": asset.title,
        "kind": asset.kind,
        "segments": [s.name for s in asset.segments],
        "stages": [s.name for s in asset.stages],
        "status": asset.status,
        "product": asset.product,
        "tags": list(asset.tags),
        "updated_at": asset.updated_at.isoformat() + "Z",
    }


@bp.get("/assets")
@roles_required(*EVERYONE)
def list_assets():
    """Assets the caller may see, filtered by segment, stage and kind names."""
    facets = assets.facets_by_name(
        segments=request.args.getlist("segment"), stages=request.args.getlist("stage"),
        kinds=request.args.getlist("kind"),
    )
    page = assets.browse(current_user, page=request.args.get("page", 1, type=int),
                         per_page=API_PAGE_SIZE, **facets)
    return {"total": page.total, "page": page.page, "pages": page.pages,
            "assets": [asset_json(a) for a in page.items]}


@bp.get("/search")
@roles_required(*EVERYONE)
def search():
    """Full-text search with facet counts, as on the search page."""
    result = discovery.run_search(current_user, discovery.request_from_args(
        current_user, request.args, per_page=API_PAGE_SIZE))
    return {
        "total": result.page.total,
        "results": [{"id": r.asset.id, "title": r.asset.title, "kind": r.asset.kind,
                     "snippet": str(r.snippet), "score": r.score,
                     "segments": [s.name for s in r.asset.segments],
                     "stages": [s.name for s in r.asset.stages]} for r in result.results],
        "facets": {facet: {o.label: o.count for o in options} for facet, options in result.facets.items()},
        "suggestion": result.suggestion,
    }
