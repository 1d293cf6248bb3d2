"""A small sales team for deals tests: two reps and a manager in Team East, a rep in Team West."""
from __future__ import annotations

import pytest

from app.library import taxonomy
from app.models import Opportunity
from tests.conftest import login


@pytest.fixture
def team(app, make_user):
    taxonomy.ensure_dimension("Company size", ["Mid-Market", "Enterprise"])
    return {
        "riley": make_user("rep", email="riley@example.com", name="Riley Park"),
        "jordan": make_user("rep", email="jordan@example.com", name="Jordan Lee"),
        "dana": make_user("manager", email="dana@example.com", name="Dana Brooks"),
        "taylor": make_user("rep", email="taylor@example.com", name="Taylor Kim", team="Team West"),
        "admin": make_user("admin", email="admin@example.com", team=None),
        "mara": make_user("marketer", email="mara@example.com", team="Marketing"),
    }


@pytest.fixture
def client_of(app):
    """A logged-in test client per person."""

    def make(user):
        browser = app.test_client()
        assert login(browser, user.email).status_code == 302
        return browser

    return make


def by_external_id(external_id: str) -> Opportunity | None:
    from sqlalchemy import select

    from app.extensions import db

    return db.session.scalar(select(Opportunity).where(Opportunity.external_id == external_id))


def new_deal(owner, external_id: str, *, account: str = "Acme Health", terms=("Healthcare",), stage: str = "Decision",
             status: str = "open", at=None, actor=None, amount_minor: int = 1_000_000, close_date=None):
    """An opportunity saved through the deals service, as the import and the API save them."""
    from app.deals import records
    from app.library import taxonomy

    found, _ = taxonomy.terms_by_name(list(terms))
    stages, _ = taxonomy.stages_by_name([stage])
    deal, _ = records.save(actor or owner, records.OpportunityData(
        name=f"{account} {external_id}", account_name=account, external_id=external_id,
        account_term_ids=[t.id for t in found], stage_id=stages[0].id if stages else None, amount_minor=amount_minor,
        owner_id=owner.id, status=status, close_date=close_date), source="app", at=at)
    return deal
