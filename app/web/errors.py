"""Error pages in the site's style, JSON errors for the API, and the health check.

Under /api/ every error is JSON of one shape, whatever raised it (a view, Flask-Login, routing,
an unhandled exception): {"error": {"status", "code", "message", "field"}}, `field` naming the
parameter at fault or null (the Error schema of app/api/openapi.py).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, make_response, request, send_from_directory
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.database import is_reachable
from app.extensions import db
from app.web.params import ParameterError

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Authentication required.",
    403: "Your role does not give access to this page.",
    404: "There is nothing here. It may have been moved, archived or deleted.",
    405: "That action is not allowed here.",
    410: "This link is no longer available.",
    413: "That upload is larger than Bridge accepts.",
    422: "A value in the request is not one Bridge accepts.",
    429: "Too many requests. Wait a moment and try again.",
    500: "Something went wrong on our side. The team has been told.",
}
# Stable, machine-readable names for API clients (the message is for people and may change).
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 410: "gone", 413: "too_large", 415: "unsupported_media_type",
    422: "invalid_parameter", 429: "too_many_requests", 500: "server_error", 503: "unavailable",
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str | None = None, field: str | None = None) -> Response:
    """The API's error answer: one JSON shape for every status."""
    body = {"status": status, "code": CODES.get(status, "error"), "message": message or MESSAGES.get(status, ""),
            "field": field}
    response = jsonify(error=body)
    response.status_code = status
    return response


def error_answer(status: int, message: str, field: str | None = None) -> Response:
    """JSON under /api/, else the error page."""
    if is_api_request():
        return api_error(status, message, field)
    return make_response(error_page(status, message), status)


def error_page(status: int, message: str) -> str:
    """The error page, with the app-wide template context only: a blueprint's context (the insights
    filter bar) may read the very parameter that was refused."""
    context = {"code": status, "message": message}
    for processor in current_app.template_context_processors[None]:
        context.update(processor())
    return current_app.jinja_env.get_template("errors/error.html").render(context)


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
    answer = error_answer(code, message)
    for name, value in error.get_headers():
        if name != "Content-Type":  # Allow on a 405, WWW-Authenticate, Retry-After
            answer.headers[name] = value
    return answer


@bp.app_errorhandler(ParameterError)
def parameter_error(error: ParameterError):
    """A malformed or out-of-range number in the query string or form: 422 naming it."""
    return error_answer(422, str(error), error.field)


@bp.app_errorhandler(500)
def server_error(error):
    db.session.rollback()  # the page reads the database too (the user, notifications)
    try:
        return error_answer(500, MESSAGES[500])
    except Exception:
        current_app.logger.exception("the error page failed too")
        return Response(MESSAGES[500], 500, mimetype="text/plain")


@bp.route("/favicon.ico")
def favicon():
    """The icon for clients that ask for /favicon.ico instead of reading the page's <link rel=icon>."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.route("/healthz")
def healthz():
    """200 with {"status": "ok"} when the database answers, 503 otherwise."""
    if is_reachable():
        return jsonify(status="ok")
    return jsonify(status="unavailable", reason="database unreachable"), 503
