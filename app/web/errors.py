"""Error pages in the site's style, JSON errors for the API, and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.database import is_reachable

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "Your role does not give access to this page.",
    404: "There is nothing here. It may have been moved, archived or deleted.",
    405: "That action is not allowed here.",
    410: "This link is no longer available.",
    413: "That upload is larger than Bridge accepts.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. The team has been told.",
}


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    code = error.code or 500
    if code == 413:
        message = f"That upload is larger than the {current_app.config['MAX_UPLOAD_MB']} MB limit."
    elif isinstance(error, CSRFError):
        message = "The form expired or was sent from elsewhere. Reload the page and try again."
    elif error.description != type(error).description:
        message = error.description  # a view said exactly what was wrong
    else:
        message = MESSAGES.get(code, error.description)
    if request.path.startswith("/api/"):
        return jsonify(error=message, status=code), code
    return render_template("errors/error.html", code=code, message=message), code


@bp.app_errorhandler(500)
def server_error(error):
    if request.path.startswith("/api/"):
        return jsonify(error=MESSAGES[500], status=500), 500
    return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500


@bp.route("/healthz")
def healthz():
    """200 with {"status": "ok"} when the database answers, 503 otherwise."""
    if is_reachable():
        return jsonify(status="ok")
    return jsonify(status="unavailable", reason="database unreachable"), 503
