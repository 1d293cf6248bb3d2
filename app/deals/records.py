"""Accounts and opportunities: who sees which, and the one save every way in uses (the CSV import,
the API, the rep's own form, the demo).

Who sees an opportunity: its owner; a manager, every opportunity owned by someone of their team;
marketers and admins, all of them. Who may make one: reps for themselves, managers for their team,
admins for anyone. A stage change and a closing are written to `opportunity_stage_change` with the
moment they happened, by the same save that makes them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from app.database import transaction
from app.extensions import db
from app.models import (
    ADMINS,
    CLOSED_STATUSES,
    OPPORTUNITY_STATUSES,
    Account,
    Opportunity,
    OpportunityStageChange,
    Role,
    Stage,
    Term,
    User,
    utcnow,
)
from app.web import params

EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_AMOUNT_MINOR = 10**15  # ten trillion in major units: far above any deal, well inside BIGINT
IMPORTERS = (Role.MANAGER, Role.ADMIN)


class DealError(ValueError):
    """A user-facing reason why an account or opportunity was refused; `field` names the value at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class OpportunityData:
    """An opportunity as plain values. None leaves what is there (or the default for a new one)."""

    name: str
    account_name: str
    external_id: str | None = None
    account_external_id: str | None = None
    account_term_ids: list[int] | None = None
    stage_id: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    close_date: date | None = None
    owner_id: int | None = None
    status: str | None = None
    closed_at: datetime | None = None


# --- who sees what --------------------------------------------------------------------------------

def visible_clause(user):
    """Conditions on Opportunity for the opportunities `user` may see."""
    if user.has_role(Role.MARKETER, Role.ADMIN):
        return true()
    if user.has_role(Role.MANAGER) and user.team_id is not None:
        return or_(Opportunity.owner_id == user.id,
                   Opportunity.owner_id.in_(select(User.id).where(User.team_id == user.team_id)))
    return Opportunity.owner_id == user.id


def may_own(actor, owner: User | None) -> bool:
    """Whether `actor` may give an opportunity to `owner`: reps themselves, managers their team."""
    if owner is None or not owner.active:
        return False
    if actor.has_role(*ADMINS):
        return True
    if actor.has_role(Role.MANAGER):
        return owner.id == actor.id or (actor.team_id is not None and owner.team_id == actor.team_id)
    return owner.id == actor.id


def may_move(user, deal: Opportunity) -> bool:
    """Whether `user` may change the deal's stage or outcome: its owner, a manager who sees it, an admin."""
    return deal.owner_id == user.id or user.has_role(Role.ADMIN) or (
        user.has_role(Role.MANAGER) and own_opportunity(user, deal.id) is not None)


def may_import(user) -> bool:
    return user.has_role(*IMPORTERS)


def opportunity_options() -> tuple:
    return (joinedload(Opportunity.account).selectinload(Account.terms).joinedload(Term.dimension),
            joinedload(Opportunity.stage), joinedload(Opportunity.owner))


def own_opportunity(user, opportunity_id: int | None) -> Opportunity | None:
    """The opportunity if `user` may see it, else None (the view answers 404)."""
    if opportunity_id is None:
        return None
    return db.session.scalar(select(Opportunity).options(*opportunity_options())
                             .where(Opportunity.id == opportunity_id, visible_clause(user)))


def by_external_id(user, external_id: str) -> Opportunity | None:
    """The opportunity the CRM calls `external_id`, if `user` may see it."""
    return db.session.scalar(select(Opportunity).options(*opportunity_options())
                             .where(Opportunity.external_id == external_id, visible_clause(user)))


def hidden_from(user, external_id: str) -> bool:
    """Whether an opportunity with this CRM id exists that `user` may not see (the API answers 404)."""
    return db.session.scalar(select(Opportunity.id).where(Opportunity.external_id == external_id)) is not None \
        and by_external_id(user, external_id) is None


def opportunities(user, *, status: str | None = None, page: int = 1, per_page: int = 50) -> tuple[int, list]:
    """(total, one page) of the opportunities `user` sees, open ones by close date first."""
    query = select(Opportunity).where(visible_clause(user))
    if status is not None:
        query = query.where(Opportunity.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.options(*opportunity_options()).order_by(
        (Opportunity.status != "open"), Opportunity.close_date.is_(None), Opportunity.close_date,
        Opportunity.id).offset((page - 1) * per_page).limit(per_page))
    return total, list(rows)


def open_deals_of(user) -> list[Opportunity]:
    """The user's own open opportunities by close date: what the send forms offer."""
    return list(db.session.scalars(
        select(Opportunity).options(joinedload(Opportunity.account), joinedload(Opportunity.stage))
        .where(Opportunity.owner_id == user.id, Opportunity.status == "open")
        .order_by(Opportunity.close_date.is_(None), Opportunity.close_date, Opportunity.id)))


def own_open_deal(user, opportunity_id: int | None) -> Opportunity | None:
    """One of the user's own open opportunities, or None: the only ones an event may name."""
    if opportunity_id is None:
        return None
    return db.session.scalar(select(Opportunity).where(
        Opportunity.id == opportunity_id, Opportunity.owner_id == user.id, Opportunity.status == "open"))


def chosen_open_deal(user, value: str | None) -> Opportunity | None:
    """The deal a send form names (`value`: an id, or empty for none): one of the user's own open
    deals, else DealError. What customize, kit, share and rating events are tagged with."""
    if value is None or not str(value).strip():
        return None
    deal = own_open_deal(user, params.as_id(str(value)))
    if deal is None:
        raise DealError("Choose one of your open deals (or none).", "opportunity")
    return deal


def open_deal_by_external_id(user, external_id) -> Opportunity | None:
    """The API's `"opportunity"`: one of the user's own open deals by its CRM id (empty: none), else DealError."""
    if external_id in (None, ""):
        return None
    deal = db.session.scalar(select(Opportunity).where(
        Opportunity.external_id == str(external_id), Opportunity.owner_id == user.id, Opportunity.status == "open"))
    if deal is None:
        raise DealError("opportunity must be the CRM id of one of your open deals.", "opportunity")
    return deal


def history(opportunity: Opportunity) -> list[OpportunityStageChange]:
    return list(db.session.scalars(
        select(OpportunityStageChange).options(joinedload(OpportunityStageChange.to_stage))
        .where(OpportunityStageChange.opportunity_id == opportunity.id).order_by(OpportunityStageChange.id)))


# --- checking values ------------------------------------------------------------------------------

def clean_external_id(value: str | None, field: str = "external_id") -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not EXTERNAL_ID.fullmatch(value):
        raise DealError(f"{field} must be 1–64 letters, digits, '.', '_', ':' or '-'.", field)
    return value


def clean_currency(value: str | None) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if not CURRENCY.fullmatch(value):
        raise DealError(f"Currency {value!r} is not a three-letter code such as USD or EUR.", "currency")
    return value


def clean_status(value: str | None) -> str | None:
    value = (value or "").strip().casefold()
    if not value:
        return None
    if value not in OPPORTUNITY_STATUSES:
        raise DealError(f"Status {value!r} is not one of open, won, lost.", "status")
    return value


def check(actor, data: OpportunityData) -> Opportunity | None:
    """Refuse what `actor` may not save (DealError); returns the existing opportunity it updates, if any."""
    if not data.name.strip():
        raise DealError("An opportunity needs a name.", "name")
    if not data.account_name.strip() and not data.account_external_id:
        raise DealError("An opportunity needs an account.", "account")
    existing = None
    if data.external_id:
        existing = db.session.scalar(select(Opportunity).where(Opportunity.external_id == data.external_id))
    if existing is not None and not db.session.scalar(
            select(Opportunity.id).where(Opportunity.id == existing.id, visible_clause(actor))):
        raise DealError(f"Opportunity {data.external_id} belongs to someone you cannot manage.", "external_id")
    if existing is not None and not actor.has_role(Role.ADMIN, Role.MANAGER) and existing.owner_id != actor.id:
        raise DealError(f"Opportunity {data.external_id} is not yours.", "external_id")
    owner_id = data.owner_id if data.owner_id is not None else (existing.owner_id if existing else actor.id)
    if not may_own(actor, db.session.get(User, owner_id) if owner_id else None):
        raise DealError("You cannot give an opportunity to that person.", "owner")
    if data.amount_minor is not None and not 0 <= data.amount_minor <= MAX_AMOUNT_MINOR:
        raise DealError("The amount must be zero or more (and below ten trillion).", "amount")
    if data.stage_id is not None and db.session.get(Stage, data.stage_id) is None:
        raise DealError("Unknown stage.", "stage")
    return existing


def save(actor, data: OpportunityData, *, source: str, at: datetime | None = None) -> tuple[Opportunity, bool]:
    """Create or update (by external id) one opportunity and its account; returns (it, created)."""
    with transaction():
        return apply(actor, data, source=source, at=at)


def apply(actor, data: OpportunityData, *, source: str, at: datetime | None = None) -> tuple[Opportunity, bool]:
    """`save` inside the caller's transaction (an import writes every good row in one)."""
    existing = check(actor, data)
    at = at or utcnow()
    account = _account(data, at)
    created = existing is None
    item = existing or Opportunity(external_id=data.external_id, owner_id=actor.id, status="open",
                                   created_at=at, updated_at=at, amount_minor=0, currency="USD")
    before = (item.stage_id, item.status)
    item.name, item.account = data.name.strip()[:200], account
    for name in ("stage_id", "amount_minor", "currency", "close_date", "owner_id"):
        if getattr(data, name) is not None:
            setattr(item, name, getattr(data, name))
    if created:
        db.session.add(item)
    _transition(item, before, data.status or item.status, data.closed_at, at=at, source=source, created=created)
    return item, created


def move(actor, deal: Opportunity, *, stage_id: int | None, status: str | None, at: datetime | None = None) -> bool:
    """The deal moves on in Bridge itself (no CRM sync): to a stage, closed won or lost, or reopened;
    its history records the change as an import would, so influence reads the outcome. Its owner, a
    manager who sees it, or an admin may; returns whether anything changed."""
    if not may_move(actor, deal):
        raise DealError("Only the deal's owner, their manager or an admin can move it.")
    status = clean_status(status) or deal.status
    if stage_id is not None and db.session.get(Stage, stage_id) is None:
        raise DealError("Unknown stage.", "stage")
    with transaction():
        before = (deal.stage_id, deal.status)
        if stage_id is not None:
            deal.stage_id = stage_id
        if (deal.stage_id, status) == before:
            return False
        deal.updated_at = at or utcnow()
        _transition(deal, before, status, None, at=deal.updated_at, source="app", created=False)
    return True


def _transition(item: Opportunity, before: tuple, status: str, closed_at: datetime | None, *, at: datetime,
                source: str, created: bool) -> None:
    """Set the status (a close keeps its first date unless a new one is given; reopening clears it)
    and record a change of stage or status in the history."""
    if status in CLOSED_STATUSES:
        if item.status != status or closed_at is not None:
            item.closed_at = closed_at or (item.closed_at if item.status == status else None) or at
    else:
        item.closed_at = None
    item.status = status
    item.updated_at = at
    if created or (item.stage_id, item.status) != before:
        db.session.add(OpportunityStageChange(
            opportunity=item, from_stage_id=None if created else before[0], to_stage_id=item.stage_id,
            status=item.status, changed_at=item.closed_at if item.status in CLOSED_STATUSES and
            item.status != before[1] else at, source=source))
    db.session.flush()


def _account(data: OpportunityData, at: datetime) -> Account:
    """The account named by CRM id (else by name, ignoring case), created or updated from `data`."""
    account = None
    if data.account_external_id:
        account = db.session.scalar(select(Account).where(Account.external_id == data.account_external_id))
    if account is None and data.account_name.strip():
        query = select(Account).where(func.lower(Account.name) == data.account_name.strip().lower())
        if data.account_external_id:
            query = query.where(Account.external_id.is_(None))
        account = db.session.scalar(query.order_by(Account.id).limit(1))
    if account is None:
        account = Account(external_id=data.account_external_id, created_at=at, updated_at=at,
                          name=data.account_name.strip()[:200] or data.account_external_id)
        db.session.add(account)
    elif data.account_name.strip():
        account.name = data.account_name.strip()[:200]
    if data.account_external_id and account.external_id is None:
        account.external_id = data.account_external_id
    if data.account_term_ids is not None:
        account.terms = list(db.session.scalars(select(Term).where(Term.id.in_(data.account_term_ids))))
    return account


def accounts_with_terms() -> list[Account]:
    return list(db.session.scalars(select(Account).options(selectinload(Account.terms)).order_by(Account.name)))
