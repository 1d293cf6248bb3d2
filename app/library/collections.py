"""Saved collections: a user's own named lists of assets, kept for later or made into a pitch kit."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.database import transaction
from app.extensions import db
from app.library.assets import load_cards, load_in_order
from app.models import Asset, Collection, CollectionItem, utcnow

MAX_COLLECTIONS = 100
MAX_ITEMS = 200
NAME_LENGTH = 80


class CollectionError(ValueError):
    """A user-facing reason why a collection cannot be changed."""


@dataclass
class Summary:
    collection: Collection
    items: int


def collections_of(user) -> list[Summary]:
    """The user's collections, most recently changed first, with how many assets each holds."""
    counts = (select(CollectionItem.collection_id, func.count().label("n"))
              .group_by(CollectionItem.collection_id).subquery())
    rows = db.session.execute(
        select(Collection, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.collection_id == Collection.id)
        .where(Collection.user_id == user.id)
        .order_by(Collection.updated_at.desc(), Collection.id.desc())).all()
    return [Summary(collection, n) for collection, n in rows]


def own_collection(user, collection_id: int | None) -> Collection | None:
    """The collection if it is `user`'s, else None (other users' collections do not exist for them)."""
    if not collection_id:
        return None
    collection = db.session.get(Collection, collection_id)
    return collection if collection is not None and collection.user_id == user.id else None


def assets_in(user, collection: Collection) -> list[Asset]:
    """The collection's assets that `user` may still see, in the order they were added.

    An asset archived, expired or unpublished since it was saved stays in the collection but is not
    offered: it comes back if it is published again.
    """
    return load_cards((item.asset_id for item in collection.items), user=user)


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise CollectionError("Give the collection a name.")
    if len(name) > NAME_LENGTH:
        raise CollectionError(f"Keep the name under {NAME_LENGTH} characters.")
    return name


def create(user, name: str, asset_ids: list[int] = ()) -> Collection:
    """A new collection named `name`, holding the visible assets among `asset_ids`."""
    name = clean_name(name)
    if db.session.scalar(select(Collection.id).where(Collection.user_id == user.id, Collection.name == name)):
        raise CollectionError(f"You already have a collection named “{name}”.")
    if db.session.scalar(select(func.count()).where(Collection.user_id == user.id)) >= MAX_COLLECTIONS:
        raise CollectionError(f"You have {MAX_COLLECTIONS} collections; delete one you no longer use first.")
    chosen = load_in_order(asset_ids, user=user)[:MAX_ITEMS]
    try:
        with transaction():
            collection = Collection(user_id=user.id, name=name)
            collection.items = [CollectionItem(asset_id=a.id, position=i) for i, a in enumerate(chosen)]
            db.session.add(collection)
    except IntegrityError:  # the same name saved at the same moment from another tab
        raise CollectionError(f"You already have a collection named “{name}”.") from None
    return collection


def add(user, collection: Collection, asset: Asset) -> bool:
    """Put `asset` at the end of the collection; False if it was already there."""
    if any(item.asset_id == asset.id for item in collection.items):
        return False
    if len(collection.items) >= MAX_ITEMS:
        raise CollectionError(f"A collection holds {MAX_ITEMS} assets at most.")
    with transaction():
        position = max((item.position for item in collection.items), default=-1) + 1
        collection.items.append(CollectionItem(asset_id=asset.id, position=position))
        collection.updated_at = utcnow()
    return True


def remove(collection: Collection, asset_id: int) -> bool:
    item = next((item for item in collection.items if item.asset_id == asset_id), None)
    if item is None:
        return False
    with transaction():
        collection.items.remove(item)
        collection.updated_at = utcnow()
    return True


def rename(user, collection: Collection, name: str) -> None:
    name = clean_name(name)
    clash = db.session.scalar(select(Collection.id).where(
        Collection.user_id == user.id, Collection.name == name, Collection.id != collection.id))
    if clash:
        raise CollectionError(f"You already have a collection named “{name}”.")
    with transaction():
        collection.name = name


def delete(collection: Collection) -> None:
    with transaction():
        db.session.delete(collection)
