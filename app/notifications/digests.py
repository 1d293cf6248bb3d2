"""Weekly email digests: the notifications a user asked to get once a week ("new for your segments",
"review due"), one mail per user and kind, with a one-click unsubscribe (RFC 8058).

`send_weekly(now)` is the whole job (`flask notifications send-digests` only calls it, and so may a job
queue). It is safe to run any number of times: each (user, kind, ISO week) is mailed at most once
(`DigestSent`), and an item once mailed is marked. It records a batch as sent, commits, then mails the
batch; when the mail server refuses, that batch's record is undone so the next run sends it again.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, select, update

from app.database import transaction
from app.extensions import db
from app.models import DigestItem, DigestSent, User
from app.notifications import links, mail, preferences

BATCH = 200  # mails per SMTP connection and per recorded batch
LISTED = 25  # items listed in one mail; the rest are counted, with a link to the notification centre
MAX_AGE_DAYS = 14  # items older than this (a user who had turned the digest off) are not sent
SUBJECTS = {
    "new_content": ("{n} new or updated asset for your segments", "{n} new or updated assets for your segments"),
    "review_due": ("{n} asset of yours needs review", "{n} assets of yours need review"),
}
INTROS = {
    "new_content": "New or updated this week in the segments you follow:",
    "review_due": "These assets you own need review or are about to expire:",
}


@dataclass
class Digest:
    """One mail to build: a user's waiting items of one kind."""

    user_id: int
    name: str
    email: str
    kind: str
    items: list[tuple[int, str, str]]  # (item id, message, link)

    @property
    def subject(self) -> str:
        one, many = SUBJECTS[self.kind]
        return (one if len(self.items) == 1 else many).format(n=len(self.items))


@dataclass
class Summary:
    """What a run did (or, dry, would do): digests per kind, items in them, mails the server accepted."""

    week: str
    digests: dict[str, int] = field(default_factory=dict)
    items: int = 0
    sent: int = 0
    error: str = ""

    def lines(self) -> list[str]:
        per_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(self.digests.items())) or "none"
        text = [f"week {self.week}: digests {per_kind}; items {self.items}; mails sent {self.sent}"]
        return text + ([f"error: {self.error}"] if self.error else [])


def week_of(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def pending(now: datetime) -> list[Digest]:
    """Digests due this week: active users whose preference for the kind is the weekly digest, with at
    least one waiting item, not yet sent a digest of that kind this ISO week."""
    week, since = week_of(now), now - timedelta(days=MAX_AGE_DAYS)
    item, user = DigestItem.__table__.c, User.__table__.c  # Core: tens of thousands of plain rows
    rows = db.session.connection().execute(
        select(item.id, item.user_id, item.kind, item.message, item.link, user.name, user.email, user.role)
        .join_from(DigestItem.__table__, User.__table__, user.id == item.user_id)
        .where(item.sent_at.is_(None), item.kind.in_(preferences.DIGEST_KINDS), item.created_at >= since,
               user.active.is_(True))
        .order_by(item.user_id, item.kind, item.created_at, item.id))
    digests: dict[tuple[int, str], Digest] = {}
    roles: dict[int, str] = {}
    for item_id, user_id, kind, message, link, name, email, role in rows:
        roles[user_id] = role
        digest = digests.get((user_id, kind))
        if digest is None:
            digest = digests[(user_id, kind)] = Digest(user_id, name, email, kind, [])
        digest.items.append((item_id, message, link))
    sent = set(tuple(row) for row in db.session.execute(
        select(DigestSent.user_id, DigestSent.kind).where(DigestSent.week == week)))
    choices = preferences.choices_for(roles, preferences.DIGEST_KINDS)
    return [d for (uid, kind), d in digests.items()
            if (uid, kind) not in sent and choices[uid][kind].email == "weekly"]


def build(digest: Digest):
    """The mail for `digest`: plain text and HTML (user text escaped), links from PUBLIC_URL, and the
    List-Unsubscribe headers that let a mail client unsubscribe in one click."""
    unsubscribe = links.unsubscribe_url(digest.user_id, digest.kind)
    context = {"digest": digest, "intro": INTROS[digest.kind], "unsubscribe_url": unsubscribe,
               "items": [(message, links.public(link) if link else "") for _, message, link in digest.items[:LISTED]],
               "more": max(0, len(digest.items) - LISTED),
               "centre_url": links.public(links.path_for("notifications.index", kind=digest.kind)),
               "preferences_url": links.preferences_url(),
               "company": current_app.config.get("COMPANY_NAME", "Bridge")}
    return mail.message(digest.email, digest.subject,
                        links.body("digest.txt", **context),
                        html=links.body("digest.html", **context),
                        headers={"List-Unsubscribe": f"<{unsubscribe}>",
                                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def send_weekly(now: datetime, *, dry_run: bool = False) -> Summary:
    """Build and send this week's digests (`dry_run`: count them, send and record nothing)."""
    summary = Summary(week=week_of(now))
    digests = pending(now)
    for digest in digests:
        summary.digests[digest.kind] = summary.digests.get(digest.kind, 0) + 1
        summary.items += len(digest.items)
    if dry_run:
        return summary
    if not mail.configured():
        summary.error = "no SMTP server configured (BRIDGE_SMTP_URL): nothing sent"
        return summary
    for start in range(0, len(digests), BATCH):
        batch = digests[start:start + BATCH]
        messages = [build(d) for d in batch]
        _record(batch, now, summary.week)
        try:
            summary.sent += mail.send(messages)
        except mail.MailError as exc:
            _unrecord(batch, summary.week)
            summary.error = str(exc)
            break
    return summary


def _record(batch: list[Digest], now: datetime, week: str) -> None:
    with transaction():
        db.session.execute(insert(DigestSent), [{"user_id": d.user_id, "kind": d.kind, "week": week,
                                                 "items": len(d.items), "sent_at": now} for d in batch])
        ids = [item_id for d in batch for item_id, _, _ in d.items]
        for start in range(0, len(ids), preferences.CHUNK):
            db.session.execute(update(DigestItem).where(DigestItem.id.in_(ids[start:start + preferences.CHUNK]))
                               .values(sent_at=now))


def _unrecord(batch: list[Digest], week: str) -> None:
    by_kind = defaultdict(list)
    for digest in batch:
        by_kind[digest.kind].append(digest.user_id)
    with transaction():
        for kind, user_ids in by_kind.items():
            db.session.execute(delete(DigestSent).where(DigestSent.week == week, DigestSent.kind == kind,
                                                        DigestSent.user_id.in_(user_ids)))
        ids = [item_id for d in batch for item_id, _, _ in d.items]
        for start in range(0, len(ids), preferences.CHUNK):
            db.session.execute(update(DigestItem).where(DigestItem.id.in_(ids[start:start + preferences.CHUNK]))
                               .values(sent_at=None))
