"""Who may do what: role sets and the decorator every view uses."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user, login_required

from .models import Role

EVERYONE = (Role.REP, Role.MARKETER, Role.MANAGER, Role.ADMIN)
CONTENT_WRITERS = (Role.MARKETER, Role.ADMIN)
ADMINS = (Role.ADMIN,)
RATERS = (Role.REP, Role.MANAGER)  # the people who use content with customers
INSIGHT_VIEWERS = (Role.MARKETER, Role.MANAGER, Role.ADMIN)  # managers: their own team only


def roles_required(*roles: Role) -> Callable:
    """Require a logged-in user with one of `roles`: anonymous users go to login, others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = tuple(Role(r) for r in roles)
        return wrapped

    return decorator


def sees_drafts(user) -> bool:
    """Marketers and admins see drafts, archived and expired assets; others only live ones."""
    return user.is_authenticated and user.has_role(*CONTENT_WRITERS)
