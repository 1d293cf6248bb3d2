"""The weekly review: the headline figures of a week against the week before, the insights pages'
tables and charts, and an "Actions" page, as one PDF. Empty sections say why in one line."""
from __future__ import annotations

from dataclasses import dataclass, replace

from app.files import pdf
from app.insights import actions, charts, content, deal_week, feedback, influence, people, searches, shares, use
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

# The headline figures, each with its week-over-week change: (Overview field, label).
HEADLINES = [("uses", "uses"), ("active_reps", "reps active"), ("searches", "searches"),
             ("zero_result_searches", "found nothing"), ("ratings", "ratings"), ("rating_average", "average ★"),
             ("open_flags", "open flags"), ("ignored", "ignored assets"), ("new", "new assets")]


@dataclass
class Headline:
    label: str
    value: int | float | None
    before: int | float | None

    @property
    def change(self) -> str:
        """"+9", "−3", "±0" against the week before; "—" when either week has no value."""
        if self.value is None or self.before is None:
            return "—"
        diff = round(self.value - self.before, 2)
        text = f"{abs(diff):g}"
        return f"+{text}" if diff > 0 else (f"−{text}" if diff < 0 else "±0")


@dataclass
class WeeklyReview:
    scope: Scope
    title: str
    overview: use.Overview
    previous: use.Overview  # the week before, for the changes
    usage: use.Usage
    coverage: content.Coverage
    ignored: content.Ignored
    tables: list[Table]
    charts: list[charts.Chart]
    actions: list[actions.Action]
    previous_scope: Scope
    deals: list[Table]  # deals influenced, rooms and links buyers opened, the wins (app/insights/deal_week.py)

    @property
    def headlines(self) -> list[Headline]:
        return [Headline(label, getattr(self.overview, name), getattr(self.previous, name))
                for name, label in HEADLINES]


def weekly_review(scope: Scope, title: str, results_now: searches.GapCounter | None = None) -> WeeklyReview:
    """Every figure of the insights pages for one week (or any scope), and the same week before it;
    `results_now(queries)` counts what content gaps' queries find today (the search service's counts,
    given by the caller)."""
    usage = use.usage_report(scope)
    adopted = people.adoption(scope)
    rated = feedback.ratings_report(scope)
    ignored = content.ignored(scope)
    gaps = searches.gap_board(scope, results_now, 15)
    tables = [*usage_tables(usage)[:1], *ratings_tables(rated)[1:], *gaps_tables(gaps)[:1],
              *influence_tables(influence.influence(scope)), *shares_tables(shares.shares_report(scope)),
              *adoption_tables(adopted)[:1], ignored_tables(ignored)[1]]
    span = scope.end - scope.start
    before = replace(scope, start=scope.start - span, end=scope.start)
    return WeeklyReview(scope, title, use.overview(scope, usage), use.headline(before), usage,
                        content.coverage(scope), ignored, tables,
                        [*usage_charts(usage), *ratings_charts(rated)], actions.actions(scope, results_now), before,
                        deal_week.deal_tables(scope))


def weekly_review_pdf(review: WeeklyReview) -> bytes:
    html = pdf.html_of("pdf/weekly_review.html", review=review, generated=utcnow(),
                       scope_names=scope_names(review.scope), before_first=review.previous_scope.first_day,
                       before_last=review.previous_scope.last_day, min_deals=influence.MIN_DEALS)
    return pdf.render_pdf(html, ("pdf/report.css", "heat.css"))
