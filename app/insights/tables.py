"""Insights as tables and charts: one Table feeds both the page and its CSV, and the weekly PDF.

Pages render `Table` rows through one macro and the CSV writes the same rows, so the two
cannot disagree.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from app.insights import charts, content, feedback, finding, influence, people, searches, shares, use
from app.insights.scope import Scope, scope_names
from app.library import score
from app.usage import IGNORE_GRACE_DAYS

EVENT_KIND_LABELS = {"view": "Views", "download": "Downloads", "copy": "Copies",
                     "customize": "Customized", "share": "Shares"}


@dataclass
class Table:
    name: str           # also the CSV file name
    caption: str
    columns: list[str]
    rows: list[list]    # plain values: str, int, float, date, datetime or None
    asset_ids: list[int] | None = None  # the asset each row is about: its first cell links there
    empty: str = "Nothing in this range."


def cell_text(value) -> str:
    """How a value reads on the page and in the CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        # A leading =, +, - or @ would make a spreadsheet evaluate user text as a formula.
        writer.writerow(["'" + t if t and t[0] in "=+-@" and not _is_number(t) else t
                         for t in map(cell_text, row)])
    return out.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def describe(scope: Scope) -> str:
    """The scope in words, e.g. "2026-10-26 – 2026-11-24 (30 days) · Retail · Team East"."""
    parts = [f"{scope.first_day.isoformat()} – {scope.last_day.isoformat()} ({scope.days} days, UTC)"]
    parts += scope_names(scope)
    return " · ".join(parts)


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "—"


# --- one builder per page ---------------------------------------------------------------------

def ignored_tables(result: content.Ignored) -> list[Table]:
    columns = ["Asset", "Kind", "Owner", "Age (days)", "Last used"]
    def rows(items):
        return [[i.title, i.kind, i.owner, i.age_days, i.last_used_at] for i in items]
    return [
        Table("ignored", "Not used in this range", columns, rows(result.not_used),
              [i.id for i in result.not_used], "Every live asset was used in this range."),
        Table("never-used", "Never used", columns, rows(result.never_used),
              [i.id for i in result.never_used], "Every live asset has been used at least once."),
        Table("new-assets", f"New: not used yet, but younger than {IGNORE_GRACE_DAYS} days (not ignored)", columns,
              rows(result.new), [i.id for i in result.new], "No unused asset is younger than "
              f"{IGNORE_GRACE_DAYS} days."),
    ]


def score_tables(items: list[content.ScoredAsset]) -> list[Table]:
    parts = list(score.LABELS)
    return [Table("content-score", "Content score of live assets",
                  ["Asset", "Kind", "Owner", "Score", *(f"{score.LABELS[p]} (of {score.WEIGHTS[p]})" for p in parts)],
                  [[i.title, i.kind, i.owner, i.score.total, *(c.points for c in i.score.components)] for i in items],
                  [i.id for i in items], "No live assets.")]


def coverage_tables(grid: content.Coverage) -> list[Table]:
    rows = [[c.term, c.stage, c.assets, c.uses, c.ignored, c.uses_per_asset,
             percent(c.ignored, c.assets)] for c in grid.cells]
    return [Table("coverage", "Cells", [grid.dimension or "Term", "Stage", "Assets", "Uses", "Ignored assets",
                                        "Uses per asset", "Share ignored"], rows)]


def cell_tables(cell: content.CellDetail) -> list[Table]:
    return [Table("coverage-cell", f"{cell.term.name} × {cell.stage.name}: live assets and their uses",
                  ["Asset", "Kind", "Owner", "Uses", *EVENT_KIND_LABELS.values(), "Last used"],
                  [[a.title, a.kind, a.owner, a.uses, *(a.by_kind.get(k, 0) for k in EVENT_KIND_LABELS), a.last_used_at]
                   for a in cell.assets], [a.id for a in cell.assets],
                  "No live asset is tagged with both: create one for this cell.")]


def usage_tables(result: use.Usage) -> list[Table]:
    columns = ["Asset", "Kind", "Uses", *EVENT_KIND_LABELS.values()]
    def rows(items):
        return [[a.title, a.kind, a.uses, *(a.by_kind.get(k, 0) for k in EVENT_KIND_LABELS)] for a in items]
    return [
        Table("top-assets", "Most used", columns, rows(result.top), [a.id for a in result.top]),
        Table("bottom-assets", "Least used live assets", columns, rows(result.bottom),
              [a.id for a in result.bottom], "No live assets."),
        Table("uses-per-day", "Uses per day", ["Day", "Uses"], [[d, n] for d, n in result.per_day]),
    ]


def usage_charts(result: use.Usage) -> list[charts.Chart]:
    return [
        charts.columns("Uses per day", [(d.strftime("%d %b"), n) for d, n in result.per_day]),
        charts.bars("Uses by asset kind", result.by_asset_kind),
        charts.bars("Uses by kind of use", [(EVENT_KIND_LABELS[k], n) for k, n in result.by_event_kind.items()]),
    ]


def adoption_tables(result: people.Adoption) -> list[Table]:
    return [
        Table("adoption-teams", "By team", ["Team", "Reps", "Active reps", "Uses", "Uses per rep"],
              [[t.name, t.reps, t.active, t.uses, t.uses_per_rep] for t in result.teams], empty="No reps."),
        Table("adoption-reps", "By rep", ["Rep", "Team", "Uses", "Searches", "Last active"],
              [[r.name, r.team, r.uses, r.searches, r.last_active_at] for r in result.reps], empty="No reps."),
        Table("never-used-portal", "Reps who never used Bridge", ["Rep", "Team"],
              [[r.name, r.team] for r in result.never], empty="Every rep has used Bridge."),
    ]


def ratings_tables(result: feedback.RatingsReport) -> list[Table]:
    return [
        Table("ratings-by-stars", "Ratings by stars", ["Stars", "Ratings"],
              [[stars, n] for stars, n in sorted(result.distribution.items(), reverse=True)]),
        Table("lowest-rated", "Lowest rated", ["Asset", "Average", "Ratings", "Latest comments"],
              [[a.title, a.average, a.count, " | ".join(a.comments[:3])] for a in result.lowest],
              [a.id for a in result.lowest], "No ratings in this range."),
        Table("open-flags", "Assets with open flags", ["Asset", "Owner", "Open flags", "Reasons"],
              [[f.title, f.owner, f.open_flags, ", ".join(f.reasons)] for f in result.flagged],
              [f.id for f in result.flagged], "No open flags."),
    ]


def ratings_charts(result: feedback.RatingsReport) -> list[charts.Chart]:
    by_stars = sorted(result.distribution.items(), reverse=True)
    return [charts.bars("Ratings by stars", [("★" * s, n) for s, n in by_stars])]


def gaps_tables(board: searches.GapBoard) -> list[Table]:
    columns = ["Query", "Searches", "Zero results", "No click", "Results now", "Filters used"]

    def rows(gaps, *extra):
        return [[g.query, g.searches, g.zero_results, g.no_click, g.results_now, ", ".join(g.filters_used),
                 *(getattr(g, e) for e in extra)] for g in gaps]
    return [Table("content-gaps", "Searches that found nothing or led nowhere", columns, rows(board.open),
                  empty="No open gap: every search in this range found something that was opened, or the "
                        "gap was answered or dismissed since."),
            Table("resolved-gaps", "Resolved: answered since or dismissed", [*columns, "Resolved"],
                  rows(board.resolved, "resolution"), empty="No gap of this range was answered or dismissed yet.")]


def points(fraction: float | None) -> str:
    """A difference of proportions in percentage points, signed: +18.2."""
    return "" if fraction is None else f"{fraction * 100:+.1f}"


def influence_tables(result: influence.InfluenceReport) -> list[Table]:
    """Every asset sent in a closed deal with its counts; rates, difference and interval above the sample."""
    rows = []
    for a in result.assets:
        difference, low, high = a.interval or (None, None, None)
        rows.append([a.title, a.deals_with, a.won_with, percent(a.won_with, a.deals_with) if a.shown else "",
                     a.deals_without, a.won_without, percent(a.won_without, a.deals_without) if a.shown else "",
                     points(difference), points(low), points(high), a.deals_opened, a.won_opened,
                     a.deals_opened - a.won_opened,
                     percent(a.won_opened, a.deals_opened) if a.deals_opened >= result.min_deals else ""])
    return [Table("influence", "Win rate of closed deals with and without each asset (same terms and stage), "
                  "and of those whose buyer opened it",
                  ["Asset", "Deals with", "Won with", "Win rate with", "Deals without", "Won without",
                   "Win rate without", "Difference (pts)", "95% low (pts)", "95% high (pts)",
                   "Buyer opened (deals)", "Won opened", "Lost opened", "Win rate opened"],
                  rows, [a.id for a in result.assets],
                  "No asset was sent (shared, customized or in a kit) or opened by a buyer in a deal closed "
                  "in this range."),
            Table("influence-cells", "By cell: closed deals of each term at each stage, and what was sent in them",
                  ["Term", "Stage", "Closed deals", "Won", "Win rate", "Sent most in won deals",
                   "Sent most in lost deals"],
                  [[c.term, c.stage, c.deals, c.won, percent(c.won, c.deals), listed(c.sent_in_won),
                    listed(c.sent_in_lost)] for c in result.cells], empty="No deal closed in this range.")]


def finding_tables(result: finding.TimeToFind) -> list[Table]:
    """Time to find per rep, team, segment and week: sessions measured, found, not found, median minutes."""
    columns = ["Sessions with a search", "Found", "Not found", "Median minutes to find"]

    def rows(groups):
        return [[g.name, g.measured, g.found, g.not_found, g.median] for g in groups]
    segment = result.dimension or "Segment"
    return [Table("time-to-find-reps", "By rep (slowest first)", ["Rep", *columns], rows(result.reps),
                  empty="No rep searched in this range."),
            Table("time-to-find-teams", "By team", ["Team", *columns], rows(result.teams),
                  empty="No rep searched in this range."),
            Table("time-to-find-segments", f"By {segment.lower()} of the asset found",
                  [segment, "Sessions that found it", "Median minutes to find"],
                  [[g.name, g.found, g.median] for g in result.segments],
                  empty=f"No search in this range led to an asset tagged with a {segment.lower()}."),
            Table("time-to-find-weeks", "By week of the search", ["Week", *columns], rows(result.weeks))]


def finding_charts(result: finding.TimeToFind) -> list[charts.Chart]:
    return [charts.columns("Median minutes to find, per week", [(w.name, w.median or 0) for w in result.weeks])]


def listed(counted: list[tuple[str, int]]) -> str:
    """[("ROI summary", 7), …] → "ROI summary (7); …"."""
    return "; ".join(f"{title} ({n})" for title, n in counted)


def shares_tables(shared: list[shares.SharedAsset]) -> list[Table]:
    return [Table("shares", "Assets shared with prospects, most opened first",
                  ["Asset", "Links made", "Links opened", "Open rate", "Prospect opens", "Downloads"],
                  [[a.title, a.links, a.opened_links, percent(a.opened_links, a.links), a.opens, a.downloads]
                   for a in shared], [a.id for a in shared], "No links shared or opened in this range.")]


# --- the overview page -------------------------------------------------------------------------

@dataclass
class Dashboard:
    overview: use.Overview
    usage: use.Usage
    tables: list[Table]
    charts: list[charts.Chart]


def dashboard(scope: Scope) -> Dashboard:
    """Headline figures, uses per day and the most used assets."""
    usage = use.usage_report(scope, bottom=False)
    return Dashboard(use.overview(scope, usage), usage, usage_tables(usage)[:1],
                     usage_charts(usage)[:1])
