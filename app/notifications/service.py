"""A user's notifications: written by the area whose event it tells of, read in the notification centre.

`notify` (or `notify_many`, for producers telling thousands at once) honours each user's preference
for the kind (app/notifications/preferences.py): shown in the app, queued for the weekly digest,
mailed at once after the caller's transaction commits (app/notifications/instant.py), or nothing at all.
A `key` makes a notice idempotent: the same (user, kind, key) is never told twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, insert, select, update

from app.database import transaction
from app.extensions import db
from app.models import NOTIFICATION_KINDS, DigestItem, Notification, NotificationKey, User, utcnow
from app.notifications import instant, preferences

PER_PAGE = 30
# What is kept: read notifications and sent digest items this long; the producers' ledger longer
# (a key forgotten can be told again: an asset still overdue after a year reminds its owner once more).
KEEP_DAYS = 180
KEEP_KEYS_DAYS = 400


@dataclass(frozen=True)
class Notice:
    """One thing to tell one user."""

    user_id: int
    message: str
    link: str = ""
    kind: str = ""
    key: str | None = None  # e.g. "asset:12:review:2026-11-30": told once per user and kind


def notify(user_id: int, message: str, link: str = "", kind: str = "", key: str | None = None) -> None:
    """Tell a user something, in the caller's transaction, as their preference for `kind` says."""
    notify_many([Notice(user_id, message, link, kind, key)])


def notify_many(notices: Iterable[Notice]) -> int:
    """Tell many users many things in the caller's transaction, with a few queries whatever their number;
    returns how many notices were new (not already told under their key)."""
    notices = _not_yet_told(list(notices))
    users = _active_users({n.user_id for n in notices})
    notices = [n for n in notices if n.user_id in users]
    kinds = {n.kind for n in notices if n.kind in NOTIFICATION_KINDS}
    choices = preferences.choices_for({uid: role for uid, (role, _) in users.items()}, kinds)
    shown, queued, keys = [], [], []
    now = utcnow()
    for notice in notices:
        row = {"user_id": notice.user_id, "message": notice.message[:300], "link": notice.link[:300],
               "kind": notice.kind, "created_at": now}
        choice = choices[notice.user_id].get(notice.kind, preferences.Choice(in_app=True, email="off"))
        if choice.in_app:
            shown.append(row)
        if choice.email == "weekly":
            queued.append(row)
        elif choice.email == "immediate":
            instant.queue(notice.user_id, users[notice.user_id][1], notice.message, notice.link, notice.kind)
        if notice.key:
            keys.append({"user_id": notice.user_id, "kind": notice.kind, "key": notice.key[:120], "created_at": now})
    for model, rows in ((Notification, shown), (DigestItem, queued), (NotificationKey, keys)):
        if rows:  # into the table, not through the ORM: a scan writes tens of thousands of rows
            db.session.execute(insert(model.__table__), rows)
    return len(notices)


def _not_yet_told(notices: list[Notice]) -> list[Notice]:
    """`notices` without those whose key was told before (or twice in this batch)."""
    keyed = {(n.user_id, n.kind, n.key[:120]) for n in notices if n.key}
    told = set()
    by_kind: dict[str, set[str]] = {}
    for _, kind, key in keyed:
        by_kind.setdefault(kind, set()).add(key)
    for kind, keys in by_kind.items():
        keys = sorted(keys)
        for start in range(0, len(keys), preferences.CHUNK):
            told.update(tuple(row) for row in db.session.execute(
                select(NotificationKey.user_id, NotificationKey.kind, NotificationKey.key)
                .where(NotificationKey.kind == kind, NotificationKey.key.in_(keys[start:start + preferences.CHUNK]))))
    fresh, seen = [], set()
    for notice in notices:
        ident = (notice.user_id, notice.kind, notice.key[:120]) if notice.key else None
        if ident is not None and (ident in told or ident in seen):
            continue
        seen.add(ident)
        fresh.append(notice)
    return fresh


def _active_users(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Active users among `ids`: id → (role, email address)."""
    found, ordered = {}, sorted(ids)
    for start in range(0, len(ordered), preferences.CHUNK):
        found.update((uid, (role, email)) for uid, role, email in db.session.execute(
            select(User.id, User.role, User.email).where(User.id.in_(ordered[start:start + preferences.CHUNK]),
                                                         User.active.is_(True))))
    return found


# --- the notification centre ----------------------------------------------------------------------

@dataclass(frozen=True)
class Centre:
    """One page of a user's notifications (unread first, then newest) and counts per kind; `new` holds
    the ids that were unread until this page showed them."""

    items: list[Notification]
    new: frozenset[int]
    kind: str
    page: int
    has_more: bool
    counts: dict[str, tuple[int, int]]  # kind → (all, unread); "" is every kind

    @property
    def unread_elsewhere(self) -> int:
        """Unread notifications of this page's kind that this page did not show (older pages)."""
        return self.counts.get(self.kind, (0, 0))[1] - len(self.new)


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def centre(user, kind: str = "", page: int = 1) -> Centre:
    """The user's notifications of `kind` (every kind when empty), PER_PAGE per page, unread first.
    Showing them marks them read (the bell counts what you have not seen); the page still marks
    them new. Unread ones on other pages or of other kinds stay unread until shown or "mark all read"."""
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    items = list(db.session.scalars(query.order_by(case((Notification.read_at.is_(None), 0), else_=1),
                                                   Notification.created_at.desc(), Notification.id.desc())
                                    .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    unread = func.sum(case((Notification.read_at.is_(None), 1), else_=0))
    counts = {k: (n, int(u or 0)) for k, n, u in db.session.execute(
        select(Notification.kind, func.count(), unread).where(Notification.user_id == user.id)
        .group_by(Notification.kind))}
    counts[""] = (sum(n for n, _ in counts.values()), sum(u for _, u in counts.values()))
    shown = items[:PER_PAGE]
    new = frozenset(item.id for item in shown if item.read_at is None)
    if new:
        with transaction():
            db.session.execute(update(Notification).where(Notification.id.in_(new)).values(read_at=utcnow())
                               .execution_options(synchronize_session=False))
    return Centre(items=shown, new=new, kind=kind, page=page, has_more=len(items) > PER_PAGE, counts=counts)


def mark_all_read(user, kind: str = "") -> int:
    """Mark the user's unread notifications (of `kind`, or all) read; returns how many."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if kind:
        query = query.where(Notification.kind == kind)
    with transaction():
        return db.session.execute(query.values(read_at=utcnow())).rowcount



def prune(now: datetime) -> int:
    """Forget what nobody will look at again (see KEEP_DAYS); unread notifications stay. Returns rows deleted."""
    kept, keys_kept = now - timedelta(days=KEEP_DAYS), now - timedelta(days=KEEP_KEYS_DAYS)
    with transaction():
        return sum(db.session.execute(statement).rowcount for statement in (
            delete(Notification).where(Notification.read_at.is_not(None), Notification.created_at < kept),
            delete(DigestItem).where(DigestItem.created_at < kept),
            delete(NotificationKey).where(NotificationKey.created_at < keys_kept)))
