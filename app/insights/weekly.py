"""The weekly review: every figure of the insights pages for one week, as one PDF."""
from __future__ import annotations

from dataclasses import dataclass

from app.files import pdf
from app.insights import charts, content, feedback, people, searches, shares, use
from app.insights.scope import Scope, scope_names
from app.insights.tables import (
    Table,
    adoption_tables,
    gaps_tables,
    ignored_tables,
    influence_tables,
    ratings_charts,
    ratings_tables,
    shares_tables,
    usage_charts,
    usage_tables,
)
from app.models import utcnow


@dataclass
class WeeklyReview:
    scope: Scope
    title: str
    overview: use.Overview
    usage: use.Usage
    coverage: content.Coverage
    ignored: content.Ignored
    tables: list[Table]
    charts: list[charts.Chart]


def weekly_review(scope: Scope, title: str, results_now: searches.GapCounter | None = None) -> WeeklyReview:
    """Every figure of the insights pages for one week (or any scope); `results_now(queries)` counts
    what content gaps' queries find today (the search service's counts, given by the caller)."""
    usage = use.usage_report(scope)
    adopted = people.adoption(scope)
    rated = feedback.ratings_report(scope)
    ignored = content.ignored(scope)
    gaps = searches.gap_board(scope, results_now, 15)
    tables = [*usage_tables(usage)[:1], *ratings_tables(rated)[1:], *gaps_tables(gaps)[:1],
              *influence_tables(feedback.influence(scope)), *shares_tables(shares.shares_report(scope)),
              *adoption_tables(adopted)[:1], ignored_tables(ignored)[1]]
    return WeeklyReview(scope, title, use.overview(scope, usage), usage,
                        content.coverage(scope), ignored, tables,
                        [*usage_charts(usage), *ratings_charts(rated)])


def weekly_review_pdf(review: WeeklyReview) -> bytes:
    html = pdf.html_of("pdf/weekly_review.html", review=review, generated=utcnow(),
                           scope_names=scope_names(review.scope))
    return pdf.render_pdf(html, ("pdf/report.css",))
