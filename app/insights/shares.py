"""Assets shared with prospects: links made, opened, prospect opens and downloads."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.insights.scope import Scope, asset_filter, titles_of
from app.models import Asset, GeneratedDocument, ShareLink, UsageEvent, User

# --- shares with prospects ---------------------------------------------------------------------

@dataclass
class SharedAsset:
    id: int
    title: str
    links: int = 0          # links created in the range
    opened_links: int = 0   # of those, opened at least once by a prospect (any time)
    opens: int = 0          # prospect opens in the range, of any link
    downloads: int = 0


def shares_report(scope: Scope) -> list[SharedAsset]:
    """Per asset: links made, how many prospects opened, opens and downloads; most opened first.

    A customized document's link counts for its asset. Opens by a link's sender are never logged.
    """
    link_asset = func.coalesce(ShareLink.asset_id, GeneratedDocument.asset_id)
    links = select(ShareLink.id, link_asset.label("asset_id"), ShareLink.created_at, ShareLink.first_opened_at) \
        .outerjoin(GeneratedDocument, GeneratedDocument.id == ShareLink.document_id)
    if scope.team_id is not None:
        links = links.where(ShareLink.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    link_rows = {r.id: r for r in db.session.execute(links) if r.asset_id is not None}
    allowed = set(db.session.scalars(select(Asset.id).where(asset_filter(scope))))
    share_id = UsageEvent.context["share_id"].as_integer()
    in_range = db.session.execute(
        select(UsageEvent.kind, share_id, func.count())
        .where(UsageEvent.kind.in_(("share_open", "share_download")),
               UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end)
        .group_by(UsageEvent.kind, share_id)).all()
    report: dict[int, SharedAsset] = {}
    titles = titles_of(allowed & {r.asset_id for r in link_rows.values()})

    def item(asset_id: int) -> SharedAsset:
        return report.setdefault(asset_id, SharedAsset(asset_id, titles.get(asset_id, "")))

    for link in link_rows.values():
        if link.asset_id in allowed and scope.start <= link.created_at < scope.end:
            entry = item(link.asset_id)
            entry.links += 1
            entry.opened_links += link.first_opened_at is not None  # set by a prospect's first open
    for kind, link_id, n in in_range:
        link = link_rows.get(link_id)
        if link is None or link.asset_id not in allowed:
            continue
        entry = item(link.asset_id)
        if kind == "share_open":
            entry.opens += n
        else:
            entry.downloads += n
    return sorted(report.values(), key=lambda a: (-a.opens, -a.links, a.title))
