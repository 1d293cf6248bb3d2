"""What mails are made of: addresses (`PUBLIC_URL`, i.e. BRIDGE_PUBLIC_URL, plus the app's own paths,
since a mail is read far from any request), the signed tokens of one-click unsubscribe links, and
bodies rendered from templates/notifications/mail/ (HTML ones autoescaped, as pages are)."""
from __future__ import annotations

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE_SALT = "bridge.notifications.unsubscribe"


def path_for(endpoint: str, **values) -> str:
    """The app-relative path of `endpoint` ("/assets/12"), inside or outside a request."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public(path: str) -> str:
    """An absolute address for an app path (an address that already is one stays as it is)."""
    if path.startswith(("http://", "https://")):
        return path
    return current_app.config["PUBLIC_URL"] + "/" + path.lstrip("/")


def preferences_url() -> str:
    return public(path_for("notifications.preferences_page"))


def unsubscribe_token(user_id: int, kind: str) -> str:
    """A token naming one user and one digest kind, signed with the app's secret key: it is the only
    credential the unsubscribe link needs, so it cannot be forged or pointed at someone else."""
    return _serializer().dumps({"u": user_id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) from a genuine token; None for a tampered or malformed one."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("k"), str):
        return None
    return data["u"], data["k"]


def unsubscribe_url(user_id: int, kind: str) -> str:
    return public(path_for("notifications.unsubscribe", token=unsubscribe_token(user_id, kind)))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def body(template: str, **context) -> str:
    """A mail body from templates/notifications/mail/ (`.html` escapes user text, `.txt` is plain)."""
    return current_app.jinja_env.get_template(f"notifications/mail/{template}").render(**context)
