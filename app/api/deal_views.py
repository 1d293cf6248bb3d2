"""The opportunities API for CRM sync and sidebars: upsert by the CRM's id, list, read one, and what to
send in it. Registered on the API blueprint of app/api/views.py (bearer tokens, one error shape)."""
from __future__ import annotations

import math
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.accounts import service as accounts
from app.api.views import API_PAGE_SIZE, bp, iso, json_object, utc_field
from app.deals import recommend, records
from app.deals.records import DealError, OpportunityData
from app.library import taxonomy
from app.models import EVERYONE, Opportunity, Role
from app.web import params
from app.web.access import roles_required

WRITERS = (Role.REP, Role.MANAGER, Role.ADMIN)
FIELDS = {"name", "account_name", "account_id", "terms", "stage", "amount", "currency", "close_date", "owner_email",
          "status", "closed_at"}


def opportunity_json(deal: Opportunity, *, history: bool = False) -> dict:
    found = {
        "external_id": deal.external_id, "id": deal.id, "name": deal.name,
        "account": {"name": deal.account.name, "external_id": deal.account.external_id,
                    "terms": _terms_json(deal.account.terms)},
        "stage": deal.stage.name if deal.stage else None, "amount": f"{deal.amount:.2f}", "currency": deal.currency,
        "close_date": deal.close_date.isoformat() if deal.close_date else None,
        "owner": {"email": deal.owner.email, "name": deal.owner.name} if deal.owner else None,
        "status": deal.status, "closed_at": iso(deal.closed_at), "updated_at": iso(deal.updated_at),
    }
    if history:
        found["history"] = [{"stage": c.to_stage.name if c.to_stage else None, "status": c.status,
                             "at": iso(c.changed_at), "source": c.source} for c in records.history(deal)]
    return found


def _terms_json(terms) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for term in terms:
        grouped.setdefault(term.dimension.name, []).append(term.name)
    return grouped


def visible_or_404(external_id: str) -> Opportunity:
    try:
        records.clean_external_id(external_id)
    except DealError:
        abort(404)
    return records.by_external_id(current_user, external_id) or abort(404)


@bp.get("/opportunities")
@roles_required(*EVERYONE)
def list_opportunities():
    """The opportunities the caller sees (a rep's own, a manager's team's), open ones by close date first."""
    status = request.args.get("status") or None
    if status is not None and status not in ("open", "won", "lost"):
        raise params.ParameterError("status", "status must be open, won or lost.")
    page = params.page_arg(request.args)
    total, deals = records.opportunities(current_user, status=status, page=page, per_page=API_PAGE_SIZE)
    return {"total": total, "page": page, "pages": math.ceil(total / API_PAGE_SIZE),
            "opportunities": [opportunity_json(d) for d in deals]}


@bp.get("/opportunities/<external_id>")
@roles_required(*EVERYONE)
def get_opportunity(external_id: str):
    return opportunity_json(visible_or_404(external_id), history=True)


@bp.put("/opportunities/<external_id>")
@roles_required(*WRITERS)
def put_opportunity(external_id: str):
    """Create or update the opportunity the CRM calls `external_id`: 201 when made, 200 when updated."""
    given = json_object()
    try:
        external_id = records.clean_external_id(external_id)
        existing = records.by_external_id(current_user, external_id)
        if existing is None and records.hidden_from(current_user, external_id):
            abort(404)
        data = opportunity_data(given, external_id, existing)
        deal, created = records.save(current_user, data, source="api")
    except DealError as error:
        raise params.ParameterError(error.field or "body", str(error)) from None
    except IntegrityError:  # another request made the same account or opportunity a moment before
        raise params.ParameterError("external_id", "Saved by another request at the same time; send it again.") \
            from None
    deal = records.by_external_id(current_user, external_id)
    return opportunity_json(deal, history=True), 201 if created else 200, {
        "Location": url_for("api.get_opportunity", external_id=external_id)}


def opportunity_data(given: dict, external_id: str, existing: Opportunity | None) -> OpportunityData:
    """The JSON body as OpportunityData; a wrong value raises DealError naming its field."""
    if unknown := sorted(set(given) - FIELDS):
        raise DealError(f"Unknown field(s): {', '.join(unknown)}.", unknown[0])
    text = {name: _string(given, name) for name in FIELDS - {"terms", "amount"}}
    name = text["name"] or (existing.name if existing else "")
    if not name:
        raise DealError("name is required for a new opportunity.", "name")
    account_name = text["account_name"] or (existing.account.name if existing else "")
    account_id = records.clean_external_id(text["account_id"], "account_id")
    if not account_name and not account_id:
        raise DealError("account_name (or account_id) is required for a new opportunity.", "account_name")
    stage_id = None
    if text["stage"]:
        stages, unknown = taxonomy.stages_by_name([text["stage"]])
        if unknown:
            raise DealError(f"stage {text['stage']!r} is not a funnel stage.", "stage")
        stage_id = stages[0].id
    owner_id = None
    if text["owner_email"]:
        owner = accounts.find_user(text["owner_email"])
        if owner is None:
            raise DealError("owner_email is no Bridge user.", "owner_email")
        owner_id = owner.id
    closed_at = utc_field(given, "closed_at")
    return OpportunityData(
        name=name, account_name=account_name, external_id=external_id, account_external_id=account_id,
        account_term_ids=_term_ids(given.get("terms")), stage_id=stage_id, amount_minor=_amount(given.get("amount")),
        currency=records.clean_currency(text["currency"]), close_date=_date(text["close_date"]), owner_id=owner_id,
        status=records.clean_status(text["status"]), closed_at=closed_at)


def _string(given: dict, name: str) -> str:
    value = given.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DealError(f"{name} must be a string.", name)
    if len(value) > 200:
        raise DealError(f"{name} must be at most 200 characters.", name)
    return value.strip()


def _amount(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DealError("amount must be a number.", "amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DealError("amount must be a number.", "amount") from None
    if not amount.is_finite() or not 0 <= amount * 100 <= records.MAX_AMOUNT_MINOR:
        raise DealError("amount must be zero or more (and below ten trillion).", "amount")
    return int((amount * 100).to_integral_value())


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DealError("close_date must be a date like 2026-12-31.", "close_date") from None


def _term_ids(value) -> list[int] | None:
    """{"Industry": ["Healthcare"], …} → term ids: the account's terms become these (None: kept as they are)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                                              for v in value.values()):
        raise DealError("terms must be an object of dimension names to lists of term names.", "terms")
    dimensions = {d.name.casefold(): d for d in taxonomy.dimensions()}
    ids = []
    for dimension_name, names in value.items():
        dimension = dimensions.get(str(dimension_name).casefold())
        if dimension is None:
            raise DealError(f"{dimension_name!r} is not a dimension.", "terms")
        found, unknown = taxonomy.terms_by_name(names, dimension)
        if unknown:
            raise DealError(f"{', '.join(map(repr, unknown))} is not a term of {dimension.name}.", "terms")
        ids += [t.id for t in found]
    return ids


@bp.get("/opportunities/<external_id>/recommendations")
@roles_required(*EVERYONE)
def opportunity_recommendations(external_id: str):
    """What to send in the deal, best first, each with its reason (for a CRM sidebar)."""
    deal = visible_or_404(external_id)
    return {"external_id": deal.external_id, "recommendations": [
        {"asset": {"id": r.asset.id, "title": r.asset.title, "kind": r.asset.kind,
                   "url": url_for("library.asset", asset_id=r.asset.id, _external=True)},
         "source": r.source, "reason": r.reason, "internal": r.internal}
        for r in recommend.recommend(current_user, deal)]}
