"""What may reach a prospect as it is: shares, pitch kits and deal rooms ask here before an asset
goes out (an internal asset never does; a template with nothing of its own goes out customized)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Asset, DocumentTemplate


def refusal_for_prospects(asset: Asset, action: str) -> str | None:
    """Why `asset` may not reach a prospect (`action` says how: "shared with a prospect"), or None."""
    if asset.is_internal:
        return f"“{asset.title}” is internal only: it cannot be {action}."
    return None


def refusal_to_send(asset: Asset, action: str) -> str | None:
    """Why `asset` may not reach a prospect as it is, or None: it is internal, or it is a template with
    nothing of its own to send (`Asset.goes_out_customized`: the PDF a rep makes from it goes instead)."""
    if reason := refusal_for_prospects(asset, action):
        return reason
    if asset.goes_out_customized:
        return (f"“{asset.title}” is a template: customize it for the customer first; the PDF you make "
                f"(My documents) is what can be {action}.")
    return None


def fill_templates(found: Iterable[Asset]) -> None:
    """Fill whether each asset is customizable (its `template`, or None) with one query, for lists
    that say which assets go out only customized (`Asset.goes_out_customized`)."""
    todo = {a.id: a for a in found if "template" not in a.__dict__}
    if not todo:
        return
    templates = {t.asset_id: t for t in db.session.scalars(
        select(DocumentTemplate).where(DocumentTemplate.asset_id.in_(list(todo))))}
    for asset_id, asset in todo.items():
        set_committed_value(asset, "template", templates.get(asset_id))
