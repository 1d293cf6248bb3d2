"""The API's contract: an OpenAPI 3.1 document for /api/v1, served at /api/v1/openapi.json.

Written by hand from small schema dicts, beside the views it describes; tests/api/test_contract.py
runs Schemathesis against a live server with it, so a view that answers something else fails there.
"""
from __future__ import annotations

VERSION = "1.0.0"
MAX_PAGE = 100_000  # app.web.params.MAX_PAGE


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None) -> dict:
    """An object with exactly these properties, all present unless `required` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
WHEN = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": STRING}
COUNT = {"type": "integer", "minimum": 0}

SCHEMAS = {
    "Error": obj({"error": obj({
        "status": INTEGER,
        "code": {"type": "string", "description": "Stable and machine-readable, e.g. invalid_parameter, not_found."},
        "message": {"type": "string", "description": "For people; may change."},
        "field": {"type": ["string", "null"], "description": "The parameter at fault, if one is."},
    })}),
    "Asset": obj({
        "id": INTEGER, "title": STRING, "kind": STRING,
        "terms": {"type": "object", "additionalProperties": STRINGS, "description": "Term names by dimension."},
        "segments": {**STRINGS, "description": "Every dimension's terms (the field before dimensions)."},
        "stages": STRINGS, "status": STRING, "product": STRING, "tags": STRINGS,
        "updated_at": {"type": "string", "format": "date-time"},
    }),
    "AssetPage": obj({"total": COUNT, "page": INTEGER, "pages": COUNT,
                      "assets": {"type": "array", "items": ref("Asset")}}),
    "SearchResult": obj({
        "id": INTEGER, "title": STRING, "kind": STRING, "snippet": STRING, "score": NUMBER,
        "terms": {"type": "object", "additionalProperties": STRINGS}, "segments": STRINGS, "stages": STRINGS,
    }),
    "SearchAnswer": obj({
        "total": COUNT, "results": {"type": "array", "items": ref("SearchResult")},
        "facets": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": COUNT}},
        "suggestion": {"type": ["string", "null"], "description": "A respelling that would find results."},
        "corrected": {"type": ["string", "null"], "description": "The respelling these results are for."},
    }),
    "AssetStats": obj({
        "id": INTEGER, "uses": {"type": "object", "additionalProperties": COUNT}, "last_used_at": WHEN,
        "rating": obj({"average": {"type": ["number", "null"]}, "count": COUNT}), "open_flags": COUNT,
    }),
    "Overview": obj({
        "uses": COUNT, "active_reps": COUNT, "reps": COUNT, "searches": COUNT, "zero_result_searches": COUNT,
        "ratings": COUNT, "rating_average": {"type": ["number", "null"]}, "open_flags": COUNT,
        "ignored": {**COUNT, "description": "Live assets unused in the period, older than the grace period."},
        "new": {**COUNT, "description": "Live assets unused in the period but younger than the grace period."},
    }),
    "Ignored": obj({"assets": {"type": "array", "items": obj({
        "id": INTEGER, "title": STRING, "last_used_at": WHEN, "owner": STRING})}}),
    "Coverage": obj({
        "dimension": {"type": ["string", "null"]}, "terms": STRINGS, "stages": STRINGS,
        "cells": {"type": "array", "items": obj({"term": STRING, "stage": STRING, "assets": COUNT, "uses": COUNT})},
    }),
    "ContentGaps": obj({"queries": {"type": "array", "items": obj({
        "query": STRING, "searches": COUNT, "zero_results": COUNT, "no_click": COUNT})}}),
    "Documents": obj({"documents": {"type": "array", "items": obj({
        "id": INTEGER, "title": STRING, "account": STRING, "asset_id": {"type": ["integer", "null"]},
        "template_version": INTEGER, "pages": INTEGER, "created_at": WHEN})}}),
    "NewShare": obj({
        "asset_id": {"type": "integer", "minimum": 1}, "document_id": {"type": "integer", "minimum": 1},
        "recipient_email": STRING, "recipient_name": STRING, "account": STRING,
        "expires_at": {"type": "string", "format": "date-time"}, "allow_download": BOOLEAN,
        "opportunity": {"type": "string", "description": "The CRM id of one of your open deals."},
    }, required=[]),
    "Opportunity": obj({
        "external_id": {"type": ["string", "null"]}, "id": INTEGER, "name": STRING,
        "account": obj({"name": STRING, "external_id": {"type": ["string", "null"]},
                        "terms": {"type": "object", "additionalProperties": STRINGS}}),
        "stage": {"type": ["string", "null"]},
        "amount": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "Exact, in major units."},
        "currency": STRING, "close_date": {"type": ["string", "null"], "format": "date"},
        "owner": {"type": ["object", "null"], "properties": {"email": STRING, "name": STRING}},
        "status": {"type": "string", "enum": ["open", "won", "lost"]}, "closed_at": WHEN,
        "updated_at": {"type": "string", "format": "date-time"},
        "history": {"type": "array", "items": obj({"stage": {"type": ["string", "null"]}, "status": STRING,
                                                   "at": {"type": "string", "format": "date-time"}, "source": STRING})},
    }, required=["external_id", "id", "name", "account", "stage", "amount", "currency", "close_date", "owner",
                 "status", "closed_at", "updated_at"]),
    "OpportunityPage": obj({"total": COUNT, "page": INTEGER, "pages": COUNT,
                            "opportunities": {"type": "array", "items": ref("Opportunity")}}),
    "OpportunityIn": {
        "type": "object", "additionalProperties": False,
        "description": "Omitted fields keep their value (a new opportunity needs name and account_name or "
                       "account_id). A stage change or closing is recorded with its time.",
        "properties": {
            "name": STRING, "account_name": STRING,
            "account_id": {"type": "string", "description": "The account's CRM id."},
            "terms": {"type": "object", "additionalProperties": STRINGS,
                      "description": "The account's term names by dimension name; replaces its terms."},
            "stage": {"type": "string", "description": "A funnel stage's name."},
            "amount": {"type": ["number", "string"], "description": "In major units, e.g. 12500.50."},
            "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
            "close_date": {"type": "string", "format": "date"},
            "owner_email": {"type": "string", "description": "Reps: themselves; managers: their team."},
            "status": {"type": "string", "enum": ["open", "won", "lost"]},
            "closed_at": {"type": "string", "format": "date-time"},
        },
    },
    "Recommendations": obj({"external_id": {"type": ["string", "null"]}, "recommendations": {
        "type": "array", "items": obj({
            "asset": obj({"id": INTEGER, "title": STRING, "kind": STRING, "url": {"type": "string", "format": "uri"}}),
            "source": {"type": "string", "enum": ["play", "won", "used"]}, "reason": STRING, "internal": BOOLEAN})}}),
    "Share": obj({"token": STRING, "url": {"type": "string", "format": "uri"}}),
    "ShareActivity": obj({
        "token": STRING, "live": BOOLEAN, "opens": COUNT, "downloads": COUNT, "last_opened_at": WHEN,
        "pages": {"type": "array", "items": obj({"page": INTEGER, "seconds": NUMBER})},
        "events": {"type": "array", "items": obj({"kind": STRING, "at": WHEN, "page": {"type": ["integer", "null"]},
                                                   "seconds": {"type": ["number", "null"]}})},
    }),
}


def query(name: str, schema: dict, description: str, *, many: bool = False) -> dict:
    if many:
        return {"name": name, "in": "query", "description": description, "schema": {"type": "array", "items": schema},
                "style": "form", "explode": True}
    return {"name": name, "in": "query", "description": description, "schema": schema}


def path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number (50 per page).")
TERM = query("term", STRING, "Term ids or names; a dimension's own key works too (?industry=Retail). "
             "Several terms of one dimension widen the list, terms of two dimensions narrow it.", many=True)
SEGMENT = query("segment", STRING, "The older name of `term`.", many=True)
STAGE = query("stage", STRING, "Stage ids or names.", many=True)
KIND = query("kind", STRING, "Asset kinds (one_pager, case_study, deck, …).", many=True)
SCOPE = [query("days", {"type": "integer", "minimum": 1}, "The last N days (default 30)."),
         query("from", {"type": "string", "format": "date"}, "First day (with `to`)."),
         query("to", {"type": "string", "format": "date"}, "Last day (with `from`)."),
         query("term", {"type": "integer"}, "A term id."), query("stage", {"type": "integer"}, "A stage id."),
         query("kind", STRING, "An asset kind."),
         query("team", {"type": "integer"}, "A team id (managers: their own).")]
ID = {"type": "integer", "minimum": 1}
EXTERNAL_ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", "description": "The CRM's id."}


def answers(ok: int, schema: dict | None, *errors: int, media: str = "application/json", about: str = "") -> dict:
    """The responses of an operation: its success, then the errors it may give, each of the Error shape."""
    content = {media: {"schema": schema}} if schema is not None else {}
    result = {str(ok): {"description": about or "Success.", "content": content}}
    for status in sorted({401, 429, *errors}):
        result[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    return result


ERROR_STATUSES = {400: "The request body is not a JSON object.", 401: "No valid token or session.",
                  403: "The caller's role does not allow this.", 404: "Not found, or not visible to the caller.",
                  422: "A parameter is malformed or out of range; `field` names it.",
                  429: "Too many requests."}


def operation(summary: str, responses: dict, parameters=(), body: dict | None = None, tag: str = "library") -> dict:
    found = {"summary": summary, "tags": [tag], "parameters": list(parameters), "responses": responses}
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


PATHS = {
    "/assets": {"get": operation("Assets the caller may see, filtered.", answers(200, ref("AssetPage"), 422),
                                 [TERM, SEGMENT, STAGE, KIND, PAGE])},
    "/search": {"get": operation("Full-text search with facet counts.", answers(200, ref("SearchAnswer"), 422), [
        query("q", STRING, "The words."), TERM, STAGE, KIND, query("product", STRING, "Products.", many=True),
        query("sort", {"type": "string", "enum": ["relevance", "most_used", "top_rated", "newest"]}, "Order."),
        query("literal", {"type": "string", "enum": ["1"]}, "1: no spelling correction or synonyms."),
        query("freshness", {"type": "string", "enum": ["fresh", "needs_review", "expiring", "flagged"]},
              "Only assets in these freshness states.", many=True), PAGE])},
    "/assets/{asset_id}/stats": {"get": operation(
        "All-time uses of one asset, its rating and open flags.", answers(200, ref("AssetStats"), 404),
        [path("asset_id", ID)])},
    "/insights/overview": {"get": operation("The headline figures of the period, as on the Insights overview.",
                                            answers(200, ref("Overview"), 403), SCOPE, tag="insights")},
    "/insights/ignored": {"get": operation("Live assets with no use in the period.",
                                           answers(200, ref("Ignored"), 403), SCOPE, tag="insights")},
    "/insights/coverage": {"get": operation(
        "One dimension's terms × stages: assets and uses.", answers(200, ref("Coverage"), 403, 422),
        [*SCOPE, query("dimension", ID, "A dimension id (the first by default).")], tag="insights")},
    "/insights/content-gaps": {"get": operation("Searches that found nothing or led to no click.",
                                                answers(200, ref("ContentGaps"), 403), SCOPE, tag="insights")},
    "/assets/{asset_id}/customize": {"post": operation(
        "Field values in, the customized PDF out (kept in My documents).",
        answers(200, {"type": "string", "format": "binary"}, 400, 403, 404, 422, media="application/pdf"),
        [path("asset_id", ID)], {"type": "object", "description": "The template's fields by name, `account`, and "
                                 "`opportunity` (the CRM id of one of your open deals).",
                                 "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        tag="documents")},
    "/documents": {"get": operation("The caller's generated documents, newest first.",
                                    answers(200, ref("Documents"), 403), tag="documents")},
    "/shares": {"post": operation("Share an asset or a generated document with a prospect.",
                                  answers(201, ref("Share"), 400, 403, 404, 422, about="The link."),
                                  body=ref("NewShare"), tag="sharing")},
    "/opportunities": {"get": operation(
        "The opportunities the caller sees (a rep's own, a manager's team's).",
        answers(200, ref("OpportunityPage"), 422),
        [query("status", {"type": "string", "enum": ["open", "won", "lost"]}, "Only these."), PAGE], tag="deals")},
    "/opportunities/{external_id}": {
        "get": operation("One opportunity with its stage history.", answers(200, ref("Opportunity"), 404),
                         [path("external_id", EXTERNAL_ID)], tag="deals"),
        "put": operation("Create (201) or update (200) the opportunity with this CRM id.",
                         {**answers(200, ref("Opportunity"), 400, 403, 404, 422, about="Updated."),
                          "201": {"description": "Created.", "content": {"application/json": {
                              "schema": ref("Opportunity")}}}},
                         [path("external_id", EXTERNAL_ID)], ref("OpportunityIn"), tag="deals")},
    "/opportunities/{external_id}/recommendations": {"get": operation(
        "What to send in the deal, best first, each with its reason.", answers(200, ref("Recommendations"), 404),
        [path("external_id", EXTERNAL_ID)], tag="deals")},
    "/shares/{token}/activity": {"get": operation(
        "Opens, page views and downloads of one of the caller's links.", answers(200, ref("ShareActivity"), 403, 404),
        [path("token", STRING)], tag="sharing")},
}


def document(server_url: str) -> dict:
    """The OpenAPI document, its server being this site's /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bridge API", "version": VERSION,
                 "description": "JSON for CRM integrations. Authenticate with a personal token from your profile "
                                "page: `Authorization: Bearer brg_…`. Every error under /api/v1 has the Error shape."},
        "servers": [{"url": server_url}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "description": "A personal API token."}},
            "responses": {f"E{status}": {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
                          for status, text in ERROR_STATUSES.items()},
        },
    }
