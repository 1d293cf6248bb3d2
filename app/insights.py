"""Insights for marketers (everything) and managers (their team): pages, CSV exports, weekly PDF."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from . import accounts, analytics, reports, taxonomy
from .access import INSIGHT_VIEWERS, roles_required
from .models import AssetKind, Role

bp = Blueprint("insights", __name__, url_prefix="/insights")

PAGES = {
    "insights.overview": "Overview",
    "insights.usage": "Top & bottom",
    "insights.ignored": "Ignored",
    "insights.coverage": "Coverage",
    "insights.adoption": "Adoption",
    "insights.ratings": "Ratings & flags",
    "insights.gaps": "Content gaps",
    "insights.influence": "Influence",
    "insights.shares": "Shares",
}


@bp.context_processor
def filter_bar():
    """What the filter bar on every insights page offers."""
    is_manager = current_user.is_authenticated and current_user.role == Role.MANAGER.value
    return {
        "here": here, "scope_label": reports.describe(scope()) if current_user.is_authenticated else "",
        "insight_pages": PAGES, "periods": analytics.PERIODS,
        "segments": taxonomy.segments(), "stages": taxonomy.stages(), "kinds": list(AssetKind),
        "teams": [] if is_manager else accounts.list_teams(), "team_locked": is_manager,
    }


def here(endpoint: str | None = None, **overrides) -> str:
    """This page (or another insights page) with the current filters, some replaced."""
    args = {k: v for k, v in request.args.items() if k not in ("format", "table")}
    return url_for(endpoint or request.endpoint, **{**args, **overrides})


def scope() -> analytics.Scope:
    return analytics.scope_from_args(current_user, request.args)


def page(template: str, tables: list[reports.Table], **context):
    """Render an insights page, or one of its tables as CSV when asked with ?format=csv."""
    if request.args.get("format") == "csv":
        wanted = request.args.get("table", tables[0].name)
        table = next((t for t in tables if t.name == wanted), None) or abort(404)
        return Response(reports.to_csv(table), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{table.name}.csv"'})
    return render_template(template, tables=tables, **context)


@bp.route("/")
@roles_required(*INSIGHT_VIEWERS)
def overview():
    board = reports.dashboard(scope())
    return page("insights/overview.html", board.tables, board=board, weeks=analytics.recent_weeks(8))


@bp.route("/usage")
@roles_required(*INSIGHT_VIEWERS)
def usage():
    result = analytics.usage_report(scope())
    return page("insights/usage.html", reports.usage_tables(result), result=result,
                charts=reports.usage_charts(result))


@bp.route("/ignored")
@roles_required(*INSIGHT_VIEWERS)
def ignored():
    result = analytics.ignored(scope())
    return page("insights/ignored.html", reports.ignored_tables(result), result=result)


@bp.route("/coverage")
@roles_required(*INSIGHT_VIEWERS)
def coverage():
    grid = analytics.coverage(scope())
    return page("insights/coverage.html", reports.coverage_tables(grid), grid=grid)


@bp.route("/adoption")
@roles_required(*INSIGHT_VIEWERS)
def adoption():
    result = analytics.adoption(scope())
    return page("insights/adoption.html", reports.adoption_tables(result), result=result)


@bp.route("/ratings")
@roles_required(*INSIGHT_VIEWERS)
def ratings():
    result = analytics.ratings_report(scope())
    return page("insights/ratings.html", reports.ratings_tables(result), result=result,
                charts=reports.ratings_charts(result))


@bp.route("/gaps")
@roles_required(*INSIGHT_VIEWERS)
def gaps():
    return page("insights/gaps.html", reports.gaps_tables(analytics.content_gaps(scope())))


@bp.route("/influence")
@roles_required(*INSIGHT_VIEWERS)
def influence():
    result = analytics.influence(scope())
    return page("insights/influence.html", reports.influence_tables(result), result=result)


@bp.route("/shares")
@roles_required(*INSIGHT_VIEWERS)
def shares():
    return page("insights/shares.html", reports.shares_tables(analytics.shares_report(scope())))


@bp.route("/report.pdf")
@roles_required(*INSIGHT_VIEWERS)
def weekly_report():
    """The weekly review as a PDF, for the week given as ?week=2026-W47 (the last full week by default)."""
    label = request.args.get("week") or analytics.recent_weeks(1)[0]
    try:
        week = analytics.iso_week(label)
    except ValueError as exc:
        abort(400, description=str(exc))
    week = replace(week, team_id=analytics.scope_from_args(current_user, request.args).team_id)
    body = reports.weekly_review_pdf(reports.weekly_review(week, f"Weekly review {label}"))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bridge-review-{label}.pdf"'})
