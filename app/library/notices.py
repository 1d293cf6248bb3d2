"""The library's notification producers, run by `flask notifications scan` (and before each digest run):
"review due" for asset owners and "new or updated content in my segments" for reps.

Both are idempotent: every notice carries a key naming the asset and the event (the review's due date,
the expiry date, the day of the change), and app/notifications/service.py tells nobody the same key
twice, so running a producer again (or every hour) adds nothing.

A rep's segments are the taxonomy terms they follow (chosen on their notification preferences page);
a rep who chose none follows the USED_SEGMENTS terms that appear most often on the assets they used
(viewed, downloaded, copied, customized or shared) in the last SEGMENT_DAYS days. An asset is "in" a
segment when it carries one of its terms.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.database import transaction
from app.extensions import db
from app.library.freshness import EXPIRING_SOON_DAYS, due_date
from app.models import Asset, AssetStatus, Role, Term, UsageEvent, User, asset_term, user_segment, utcnow
from app.notifications import links
from app.notifications.service import Notice, notify_many, prune
from app.usage import USE_KINDS

SEGMENT_DAYS = 90  # a rep who chose no segments follows what they used this recently…
USED_SEGMENTS = 2  # …the terms of the assets they used most, this many
NEW_CONTENT_DAYS = 7  # "new or updated" looks back this far: a weekly run misses nothing


@dataclass(frozen=True)
class ScanResult:
    review_due: int
    new_content: int
    pruned: int = 0

    def line(self) -> str:
        return (f"review due: {self.review_due} new notices; new content: {self.new_content} new notices; "
                f"{self.pruned} old rows pruned")


def scan(now: datetime | None = None) -> ScanResult:
    """Run both producers as of `now` (a frozen clock in tests), each committing its own notices, then
    forget old read notifications (app/notifications/service.prune)."""
    now = now or utcnow()
    return ScanResult(review_due=review_due(now.date()), new_content=new_content(now), pruned=prune(now))


def asset_path(asset_id: int) -> str:
    return links.path_for("library.asset", asset_id=asset_id)


def review_due(today: date) -> int:
    """Tell each active owner of a published asset that needs review (past its review date) or expires
    within EXPIRING_SOON_DAYS (or has expired) on `today`; returns how many notices were new."""
    rows = db.session.execute(
        select(Asset.id, Asset.title, Asset.owner_id, Asset.verified_at, Asset.review_interval_days,
               Asset.refresh_requested_at, Asset.expires_on)
        .join(User, User.id == Asset.owner_id)
        .where(Asset.status == AssetStatus.PUBLISHED.value, User.active.is_(True)))
    notices = []
    for asset_id, title, owner_id, verified_at, interval, refresh, expires_on in rows:
        due = due_date(verified_at, interval, refresh)
        if due < today:
            notices.append(Notice(owner_id, f"“{title}” needs review: it was due {due:%d %b %Y}.",
                                  asset_path(asset_id), "review_due", f"asset:{asset_id}:review:{due.isoformat()}"))
        if expires_on is not None and expires_on <= today + timedelta(days=EXPIRING_SOON_DAYS):
            said = "expired on" if expires_on < today else "expires on"
            notices.append(Notice(owner_id, f"“{title}” {said} {expires_on:%d %b %Y}.", asset_path(asset_id),
                                  "review_due", f"asset:{asset_id}:expires:{expires_on.isoformat()}"))
    with transaction():
        return notify_many(notices)


def segments(now: datetime, rep_ids: list[int]) -> dict[int, set[int]]:
    """Each rep's segments (term ids): those they chose, else the USED_SEGMENTS terms of the assets they
    used most in the last SEGMENT_DAYS days (every term they touched would be nearly every term)."""
    chosen: dict[int, set[int]] = defaultdict(set)
    for user_id, term_id in db.session.execute(select(user_segment.c.user_id, user_segment.c.term_id)):
        chosen[user_id].add(term_id)
    uses: dict[int, list[tuple[int, int]]] = defaultdict(list)
    query = (select(UsageEvent.user_id, asset_term.c.term_id, func.count())
             .join(asset_term, asset_term.c.asset_id == UsageEvent.asset_id)
             .where(UsageEvent.kind.in_(USE_KINDS), UsageEvent.created_at >= now - timedelta(days=SEGMENT_DAYS),
                    UsageEvent.user_id.is_not(None))
             .group_by(UsageEvent.user_id, asset_term.c.term_id))
    for user_id, term_id, count in db.session.execute(query):
        uses[user_id].append((-count, term_id))
    return {rep: chosen.get(rep) or {term for _, term in sorted(uses.get(rep, []))[:USED_SEGMENTS]}
            for rep in rep_ids}


def followed_by(user, now: datetime | None = None) -> list[str]:
    """The names of the terms `user` follows now, chosen or (none chosen) from what they used."""
    term_ids = segments(now or utcnow(), [user.id])[user.id]
    if not term_ids:
        return []
    return list(db.session.scalars(select(Term.name).where(Term.id.in_(term_ids)).order_by(Term.name)))


def new_content(now: datetime) -> int:
    """Tell each active rep about published assets created or changed in the last NEW_CONTENT_DAYS days
    that carry a term of their segments; returns how many notices were new. An asset changed on two
    days is told twice (the key holds the day of the change); within a day, once."""
    today = now.date()
    changed = db.session.execute(
        select(Asset.id, Asset.title, Asset.created_at, Asset.updated_at)
        .where(Asset.status == AssetStatus.PUBLISHED.value, Asset.updated_at >= now - timedelta(days=NEW_CONTENT_DAYS),
               Asset.updated_at <= now, (Asset.expires_on.is_(None)) | (Asset.expires_on >= today))).all()
    if not changed:
        return 0
    terms_of: dict[int, set[int]] = defaultdict(set)
    ids = [row.id for row in changed]
    for start in range(0, len(ids), 500):
        for asset_id, term_id in db.session.execute(select(asset_term.c.asset_id, asset_term.c.term_id)
                                                    .where(asset_term.c.asset_id.in_(ids[start:start + 500]))):
            terms_of[asset_id].add(term_id)
    reps = list(db.session.scalars(select(User.id).where(User.role == Role.REP.value, User.active.is_(True))))
    followed = segments(now, reps)
    notices = []
    for asset_id, title, created_at, updated_at in changed:
        what = "New" if created_at >= now - timedelta(days=NEW_CONTENT_DAYS) else "Updated"
        message, link = f"{what} in your segments: “{title}”", asset_path(asset_id)
        key = f"asset:{asset_id}:changed:{updated_at.date().isoformat()}"
        for rep in reps:
            if followed[rep] & terms_of[asset_id]:
                notices.append(Notice(rep, message, link, "new_content", key))
    with transaction():
        return notify_many(notices)
