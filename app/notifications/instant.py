"""Notifications mailed at once: built while the caller's transaction is open, sent after it commits
(a rolled-back action mails nobody), over one SMTP connection per transaction.

The messages wait in the session's `info` until the commit, as the search outbox does; a mail server
that cannot be reached is logged and the in-app notification stays: the action itself succeeded.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import NOTIFICATION_KINDS
from app.notifications import links, mail

log = logging.getLogger(__name__)
PENDING = "notification_mail"


def init_app(app) -> None:
    """Send queued mails after each commit; forget them on rollback."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def queue(user_id: int, address: str, message: str, link: str, kind: str) -> None:
    """Mail `message` to `address` once the current transaction commits (nothing without SMTP)."""
    if not mail.configured():
        return
    context = {"message": message, "link": links.public(link) if link else "",
               "kind_label": NOTIFICATION_KINDS.get(kind, "Notification"),
               "preferences_url": links.preferences_url(),
               "company": current_app.config.get("COMPANY_NAME", "Bridge")}
    db.session.info.setdefault(PENDING, []).append(mail.message(
        address, message[:120], links.body("instant.txt", **context),
        html=links.body("instant.html", **context),
        headers={"List-Unsubscribe": f"<{links.unsubscribe_url(user_id, kind)}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}))


def _after_commit(session: Session) -> None:
    messages = session.info.pop(PENDING, None)
    if not messages:
        return
    try:
        mail.send(messages)
    except mail.MailError as exc:
        log.warning("notification mail not sent (%d messages): %s", len(messages), exc)


def _after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING, None)
