"""Insights for marketers (everything) and managers (their team): pages, CSV exports, weekly PDF."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import search
from app.accounts import service as accounts
from app.insights import content, feedback, finding, people, report_job, searches, use, weekly
from app.insights import influence as deal_influence
from app.insights import tables as reports
from app.insights.scope import PERIODS, Scope, iso_week, range_notice, recent_weeks, scope_from_args
from app.insights.shares import shares_report
from app.library import reviews, taxonomy
from app.models import CONTENT_WRITERS, INSIGHT_VIEWERS, AssetKind, Role
from app.usage import IGNORE_GRACE_DAYS
from app.web import params
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("insights", __name__, url_prefix="/insights")

PAGES = {
    "insights.overview": "Overview",
    "insights.usage": "Top & bottom",
    "insights.ignored": "Ignored",
    "insights.scores": "Scores",
    "insights.coverage": "Coverage",
    "insights.adoption": "Adoption",
    "insights.ratings": "Ratings & flags",
    "insights.gaps": "Content gaps",
    "insights.finding_time": "Time to find",
    "insights.influence": "Influence",
    "insights.shares": "Shares",
}


@bp.context_processor
def filter_bar():
    """What the filter bar on every insights page offers."""
    is_manager = current_user.is_authenticated and current_user.role == Role.MANAGER.value
    can_bulk = current_user.is_authenticated and current_user.has_role(*CONTENT_WRITERS)
    return {
        "can_bulk": can_bulk, "bulk_actions": reviews.ACTIONS, "bulk_owners": reviews.owners() if can_bulk else [],
        "here": here, "scope_label": reports.describe(scope()) if current_user.is_authenticated else "",
        "scope_notice": range_notice(request.args),
        "insight_pages": PAGES, "periods": PERIODS,
        "dimensions": taxonomy.dimensions(), "stages": taxonomy.stages(), "kinds": list(AssetKind),
        "teams": [] if is_manager else accounts.list_teams(), "team_locked": is_manager,
    }


def here(endpoint: str | None = None, **overrides) -> str:
    """This page (or another insights page) with the current filters, some replaced."""
    args = {k: v for k, v in request.args.items() if k not in ("format", "table")}
    return url_for(endpoint or request.endpoint, **{**args, **overrides})


def scope() -> Scope:
    return scope_from_args(current_user, request.args)


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
    return page("insights/overview.html", board.tables, board=board, weeks=recent_weeks(8))


@bp.route("/usage")
@roles_required(*INSIGHT_VIEWERS)
def usage():
    result = use.usage_report(scope())
    return page("insights/usage.html", reports.usage_tables(result), result=result,
                charts=reports.usage_charts(result))


@bp.route("/ignored")
@roles_required(*INSIGHT_VIEWERS)
def ignored():
    result = content.ignored(scope())
    return page("insights/ignored.html", reports.ignored_tables(result), result=result, grace_days=IGNORE_GRACE_DAYS)


@bp.route("/scores")
@roles_required(*INSIGHT_VIEWERS)
def scores():
    sort = request.args.get("sort", "score")
    items = content.scored(scope(), sort)
    return page("insights/scores.html", reports.score_tables(items), items=items, sort=sort,
                sorts=content.SCORE_SORTS)


@bp.route("/coverage")
@roles_required(*INSIGHT_VIEWERS)
def coverage():
    grid = content.coverage(scope(), params.id_arg(request.args, "dimension"))
    return page("insights/coverage.html", reports.coverage_tables(grid), grid=grid)


@bp.route("/coverage/cell")
@roles_required(*INSIGHT_VIEWERS)
def coverage_cell():
    """One cell of the grid: its assets and their uses, and a way to add an asset to it."""
    term_id, stage_id = params.id_arg(request.args, "cell_term"), params.id_arg(request.args, "cell_stage")
    cell = (content.cell_detail(scope(), term_id, stage_id) if term_id and stage_id else None) or abort(404)
    return page("insights/cell.html", reports.cell_tables(cell), cell=cell)


@bp.route("/adoption")
@roles_required(*INSIGHT_VIEWERS)
def adoption():
    result = people.adoption(scope())
    return page("insights/adoption.html", reports.adoption_tables(result), result=result)


@bp.route("/ratings")
@roles_required(*INSIGHT_VIEWERS)
def ratings():
    result = feedback.ratings_report(scope())
    return page("insights/ratings.html", reports.ratings_tables(result), result=result,
                charts=reports.ratings_charts(result))


def results_now(queries: list[str]) -> dict[str, int]:
    """What each query finds today (the search service), for content gaps."""
    return search.result_counts(current_user, queries)


@bp.route("/gaps")
@roles_required(*INSIGHT_VIEWERS)
def gaps():
    board = searches.gap_board(scope(), results_now)
    return page("insights/gaps.html", reports.gaps_tables(board), board=board)


@bp.post("/gaps/dismiss")
@roles_required(*CONTENT_WRITERS)
def dismiss_gap():
    """Set a gap aside (or, with restore=1, put it back); back to the gaps page with its filters."""
    back = request.form.get("next") or ""
    back = back if back.startswith("/insights/gaps") else url_for("insights.gaps")
    if not ActionForm().validate_on_submit():
        flash("The form expired; try again.", "error")
    elif request.form.get("restore") == "1":
        flash(f"“{searches.restore(request.form.get('query', ''))}” is an open gap again.", "success")
    else:
        flash(f"Dismissed “{searches.dismiss(current_user, request.form.get('query', ''))}”: "
              "it is listed under Resolved.", "success")
    return redirect(back)


@bp.route("/finding")
@roles_required(*INSIGHT_VIEWERS)
def finding_time():
    """From a rep's first search in a working session to the first use of an asset (app/insights/finding.py)."""
    result = finding.time_to_find(scope(), params.id_arg(request.args, "dimension"))
    return page("insights/finding.html", reports.finding_tables(result), result=result,
                charts=reports.finding_charts(result))


@bp.route("/influence")
@roles_required(*INSIGHT_VIEWERS)
def influence():
    """Win rates of closed deals with and without each asset sent in them (app/insights/influence.py)."""
    result = deal_influence.influence(scope())
    return page("insights/influence.html", reports.influence_tables(result), result=result)


@bp.route("/shares")
@roles_required(*INSIGHT_VIEWERS)
def shares():
    return page("insights/shares.html", reports.shares_tables(shares_report(scope())))


@bp.route("/report.pdf")
@roles_required(*INSIGHT_VIEWERS)
def weekly_report():
    """The weekly review as a PDF, for the week given as ?week=2026-W47 (the last full week by default)."""
    label = request.args.get("week") or recent_weeks(1)[0]
    try:
        week = iso_week(label)
    except ValueError as exc:
        abort(400, description=str(exc))
    week = replace(week, team_id=scope_from_args(current_user, request.args).team_id)
    body = weekly.weekly_review_pdf(weekly.weekly_review(week, f"Weekly review {label}", results_now))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="bridge-review-{label}.pdf"'})


@bp.post("/report")
@roles_required(*INSIGHT_VIEWERS)
def start_weekly_report():
    """The insights page's button: the weekly review made by a job; its page shows progress, then the file."""
    if not ActionForm().validate_on_submit():
        flash("The form expired. Reload the page and try again.", "error")
        return redirect(url_for("insights.overview"))
    label = request.form.get("week") or recent_weeks(1)[0]
    try:
        job = report_job.start(current_user, label, scope_from_args(current_user, request.form).team_id)
    except ValueError:
        flash(f"“{label}” is not a week (like {recent_weeks(1)[0]}).", "error")
        return redirect(url_for("insights.overview"))
    flash(f"The weekly review of {label} is being made; it is offered here when ready.", "success")
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.route("/report/<int:job_id>.pdf")
@roles_required(*INSIGHT_VIEWERS)
def weekly_report_file(job_id: int):
    """A weekly review a job made: only for whoever asked for it (or an admin)."""
    path, name = report_job.report_file(current_user, job_id) or abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)
