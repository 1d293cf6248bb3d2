"""Who may do what: role sets and the decorator every view uses."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models import Role


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
