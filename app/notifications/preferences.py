"""Who wants to hear about what, and how: per user and kind, in the app (on/off) and by email (off, at
once, or in a weekly digest), with defaults by role for a user who never chose.

Defaults: everyone sees every kind in the app and gets no email, except that reps get "new content in
my segments" as a weekly digest and content owners (marketers, admins) get "review due" weekly.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from app.database import transaction, upsert
from app.extensions import db
from app.models import EMAIL_CHOICES, NOTIFICATION_KINDS, NotificationPreference, Role, Term, User, user_segment, utcnow
from app.notifications import links

KINDS = tuple(NOTIFICATION_KINDS)
# Which emails make sense per kind: a digest for what can wait, at once for what someone is waiting for.
# notify() mails "at once" itself for every kind; an area that sends its own alert mail for a kind
# instead asks `email_choice` first and must not also leave it to notify() (one mail per event).
EMAIL_OPTIONS = {
    "flag_resolved": ("off", "immediate"),
    "review_due": ("off", "immediate", "weekly"),
    "new_content": ("off", "weekly"),
    "share_open": ("off", "immediate"),
    "room_visit": ("off", "immediate"),
    "job_done": ("off", "immediate"),
    "job_failed": ("off", "immediate"),
}
DIGEST_KINDS = tuple(kind for kind, options in EMAIL_OPTIONS.items() if "weekly" in options)
OWNERS = (Role.MARKETER.value, Role.ADMIN.value)
CHUNK = 500  # ids per IN (...) list


class PreferenceError(ValueError):
    """A user-facing reason why preferences were not saved."""


@dataclass(frozen=True)
class Choice:
    """What one user wants for one kind."""

    in_app: bool
    email: str  # a key of EMAIL_CHOICES

    @property
    def email_label(self) -> str:
        return EMAIL_CHOICES[self.email]


def default(role: str, kind: str) -> Choice:
    """The choice a user of `role` has for `kind` until they make their own."""
    weekly = (kind == "new_content" and role == Role.REP.value) or (kind == "review_due" and role in OWNERS)
    if kind == "room_visit":  # a buyer in the deal room now is worth a mail now (issue 20)
        return Choice(in_app=True, email="immediate")
    return Choice(in_app=True, email="weekly" if weekly else "off")


def choices_of(user: User) -> dict[str, Choice]:
    """Every kind's choice for `user`: theirs where they made one, the default elsewhere."""
    return choices_for({user.id: user.role}, KINDS)[user.id]


def choices_for(roles: dict[int, str], kinds: Iterable[str]) -> dict[int, dict[str, Choice]]:
    """Choices of many users (id → role) for `kinds`, in one query per CHUNK users."""
    kinds = tuple(kinds)
    found = {uid: {kind: default(role, kind) for kind in kinds} for uid, role in roles.items()}
    ids = list(roles)
    for start in range(0, len(ids), CHUNK):
        rows = db.session.execute(select(NotificationPreference.user_id, NotificationPreference.kind,
                                         NotificationPreference.in_app, NotificationPreference.email)
                                  .where(NotificationPreference.user_id.in_(ids[start:start + CHUNK]),
                                         NotificationPreference.kind.in_(kinds)))
        for uid, kind, in_app, email in rows:
            found[uid][kind] = Choice(in_app=bool(in_app), email=email if email in EMAIL_OPTIONS[kind] else "off")
    return found


def email_choice(user_id: int, kind: str) -> str:
    """How `user_id` wants `kind` by email ("off", "immediate", "weekly"): for areas that send their own mail."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return "off"
    return choices_for({user.id: user.role}, (kind,))[user.id][kind].email


def save(user: User, choices: dict[str, Choice], segment_ids: Iterable[int] | None = None) -> None:
    """Store `user`'s choices (every kind given) and, when given, the taxonomy terms they follow."""
    for kind, choice in choices.items():
        if kind not in EMAIL_OPTIONS or choice.email not in EMAIL_OPTIONS[kind]:
            raise PreferenceError(f"Choose one of the offered emails for “{NOTIFICATION_KINDS.get(kind, kind)}”.")
    wanted = sorted(set(segment_ids or ()))
    known = set(db.session.scalars(select(Term.id).where(Term.id.in_(wanted)))) if wanted else set()
    if len(known) != len(wanted):
        raise PreferenceError("One of the segments no longer exists: reload the page and choose again.")
    with transaction():
        for kind, choice in choices.items():
            db.session.execute(upsert(NotificationPreference, {"user_id": user.id, "kind": kind,
                                                               "in_app": choice.in_app, "email": choice.email,
                                                               "updated_at": utcnow()},
                                      keys=("user_id", "kind")))
        if segment_ids is not None:
            db.session.execute(delete(user_segment).where(user_segment.c.user_id == user.id))
            if wanted:
                db.session.execute(insert(user_segment), [{"user_id": user.id, "term_id": t} for t in wanted])


def stop_email(user: User, kind: str) -> None:
    """Turn `kind`'s email off for `user` (the unsubscribe link), keeping their in-app choice."""
    current = choices_of(user)[kind]
    save(user, {kind: Choice(in_app=current.in_app, email="off")})


def from_unsubscribe_token(token: str) -> tuple[User, str] | None:
    """The user and kind a genuine unsubscribe token names (None when tampered, or the user is gone)."""
    found = links.read_unsubscribe_token(token)
    if found is None or found[1] not in EMAIL_OPTIONS:
        return None
    user = db.session.get(User, found[0])
    return (user, found[1]) if user is not None else None


def segment_ids_of(user: User) -> list[int]:
    """The taxonomy terms `user` chose to follow (empty: they follow what they used; app/library/notices.py)."""
    return list(db.session.scalars(select(user_segment.c.term_id).where(user_segment.c.user_id == user.id)))
