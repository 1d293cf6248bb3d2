"""Pitch kits: a rep's chosen assets and own customized documents behind a cover (the company's name
and logo), an optional letter and a table of contents, in one PDF for the customer.

A kit is drafted on the server (`KitDraft`, one per rep): what the rep adds stays through searches,
pages and sessions until the kit is built. Each part goes in as its pages: a PDF page for page, a
deck or Word document as its converted pages (app/files/previews.py), a customized document as it
was made. An asset without pages (messaging, a video, a picture, a file that could not be
converted) gets one page of its own. Nothing in a kit points back into Bridge: its addresses need
a login the customer does not have. Internal assets are refused when added and again when built.
Only the cover, the contents and those single pages are rendered, in the worker's limited render
process; stored PDFs are merged page for page with pypdf. A kit is built by a job (a part of
30,000 pages takes 20 s): the draft is checked when the rep asks, the parts asked for are built,
and only they leave the draft (what the rep adds meanwhile waits for the next kit).
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import jobs, usage
from app.database import transaction
from app.deals import records
from app.documents.generate import DocumentError, made_by_job
from app.extensions import db
from app.files import pdf, storage
from app.library import assets, prospects
from app.models import Asset, GeneratedDocument, Job, KitDraft, KitDraftItem, utcnow
from app.web import branding
from app.web.markup import render_markdown

MAX_ITEMS = 30
KIT_STYLESHEET = "pdf/kit.css"
ACTION = "put in a pitch kit for a customer"


@dataclass
class Part:
    title: str
    pdf: bytes
    pages: int
    asset: Asset | None = None
    summary: bool = False  # one page made for an asset that has no pages of its own


@dataclass
class Details:
    """What the rep types on the kit page: kept with the draft."""

    account: str = ""
    title: str = ""
    intro: str = ""
    opportunity_id: int | None = None  # one of the rep's open deals (checked by deals.records)


# -- the draft ---------------------------------------------------------------------------------

def draft_of(user, *, create: bool = False) -> KitDraft | None:
    """The user's draft kit with its parts and what they show (one query per kind of row)."""
    items = selectinload(KitDraft.items)
    draft = db.session.scalar(select(KitDraft).where(KitDraft.user_id == user.id).options(
        items.selectinload(KitDraftItem.asset),
        items.selectinload(KitDraftItem.document).selectinload(GeneratedDocument.asset)))
    if draft is None and create:
        try:
            with transaction():
                draft = KitDraft(user_id=user.id)
                db.session.add(draft)
        except IntegrityError:  # made at the same moment in another tab
            draft = db.session.scalar(select(KitDraft).where(KitDraft.user_id == user.id))
    return draft


def item_count(user) -> int:
    """How many parts the user's draft kit holds (the counter in the top bar)."""
    return db.session.scalar(select(func.count()).select_from(KitDraftItem).join(KitDraft)
                             .where(KitDraft.user_id == user.id)) or 0


def problem_with(user, item: KitDraftItem) -> str | None:
    """Why a part cannot go in the kit as it stands (archived, internal), or None."""
    if item.asset is not None:
        if assets.visible_asset(user, item.asset_id) is None:
            return "No longer in the library (archived, expired or unpublished)."
        return prospects.refusal_to_send(item.asset, ACTION)
    if item.document is not None and item.document.asset is not None:
        return prospects.refusal_for_prospects(item.document.asset, ACTION)
    return None


def add(user, *, asset: Asset | None = None, document: GeneratedDocument | None = None, opportunity=None) -> bool:
    """Put an asset the user may see, or one of their own customized documents, at the end of their
    draft kit (for the deal `opportunity`, one of the user's open deals, when given); False if it was
    there already."""
    if asset is not None and (reason := prospects.refusal_to_send(asset, ACTION)):
        raise DocumentError(reason)
    if document is not None and (document.user_id != user.id or document.asset_id is None):
        raise DocumentError("Only your own customized documents can go in a kit.")
    if document is not None and (reason := prospects.refusal_for_prospects(document.asset, ACTION)):
        raise DocumentError(reason)
    draft = draft_of(user, create=True)
    if opportunity is not None and draft.opportunity_id != opportunity.id:
        with transaction():
            draft.opportunity_id = opportunity.id
    if any((asset is not None and i.asset_id == asset.id) or (document is not None and i.document_id == document.id)
           for i in draft.items):
        return False
    if len(draft.items) >= MAX_ITEMS:
        raise DocumentError(f"A kit holds at most {MAX_ITEMS} items.")
    try:
        with transaction():
            position = max((i.position for i in draft.items), default=-1) + 1
            draft.items.append(KitDraftItem(asset_id=asset.id if asset else None,
                                            document_id=document.id if document else None, position=position))
            draft.updated_at = utcnow()
    except IntegrityError:  # the same item added at the same moment from another tab
        return False
    return True


def add_all(user, chosen: list[Asset]) -> int:
    """Add several assets (a saved collection); the internal and customizable ones are left out.
    Returns how many went in."""
    added = 0
    prospects.fill_templates(chosen)
    for asset in chosen:
        if prospects.refusal_to_send(asset, ACTION) is None and add(user, asset=asset):
            added += 1
    return added


def remove(user, item_id: int) -> bool:
    draft = draft_of(user)
    item = next((i for i in draft.items if i.id == item_id), None) if draft else None
    if item is None:
        return False
    with transaction():
        draft.items.remove(item)
    return True


def move(user, item_id: int, offset: int) -> bool:
    """Move a part one place up (-1) or down (+1)."""
    draft = draft_of(user)
    items = list(draft.items) if draft else []
    index = next((n for n, i in enumerate(items) if i.id == item_id), None)
    if index is None or not 0 <= index + offset < len(items):
        return False
    other = items[index + offset]
    with transaction():
        items[index].position, other.position = other.position, items[index].position
    db.session.expire(draft, ["items"])
    return True


def save_details(user, details: Details) -> None:
    """Keep what the rep typed (customer, cover title, letter) with the draft."""
    draft = draft_of(user, create=True)
    with transaction():
        draft.account, draft.title = details.account.strip()[:120], details.title.strip()[:200]
        draft.intro = details.intro.strip()[:4000]
        draft.opportunity_id = details.opportunity_id


def clear(user) -> None:
    draft = draft_of(user)
    if draft is not None:
        with transaction():
            draft.items.clear()
            draft.account = draft.title = draft.intro = ""
            draft.opportunity_id = None


def restore(user, kit: GeneratedDocument) -> int:
    """Start a new draft from a kit the user built before: its parts, customer, title and letter."""
    clear(user)
    draft = draft_of(user, create=True)
    with transaction():
        draft.account, draft.title, draft.intro = kit.account, kit.values.get("title", ""), kit.values.get("intro", "")
    added = 0
    for kind, item_id in kit.values.get("items") or [["asset", i] for i in kit.values.get("kit", [])]:
        try:
            if kind == "asset" and (asset := assets.visible_asset(user, item_id)) is not None:
                added += add(user, asset=asset)
            elif kind == "document" and (document := db.session.get(GeneratedDocument, item_id)) is not None:
                added += add(user, document=document)
        except DocumentError:
            continue  # became internal since: left out, as the rep will see
    return added


def edit_draft(user, details: Details | None, action: str, target: int | None,
               collection=None) -> str | Job:
    """One press of a button on the kit page: what the rep typed is kept (`details`, when the kit's
    own form sent it), then `action` is done on the part or document `target`. Returns what to
    tell the rep, or the job building the kit."""
    if details is not None:
        save_details(user, details)
    if action == "build":
        return start_build(user)
    if action == "remove":
        return "Removed from the kit." if target and remove(user, target) else ""
    if action in ("up", "down"):
        move(user, target or 0, -1 if action == "up" else 1)
        return ""
    if action == "add_asset":
        asset = assets.visible_asset(user, target)
        if asset is None:
            raise DocumentError("That asset is no longer in the library.")
        return f"Added “{asset.title}”." if add(user, asset=asset) else ""
    if action == "add_document":
        document = db.session.get(GeneratedDocument, target) if target else None
        if document is None or document.user_id != user.id:
            raise DocumentError("That document is not one of yours.")
        return f"Added “{document.title}”." if add(user, document=document) else ""
    if action == "add_collection" and collection is not None:
        chosen = assets.load_in_order((i.asset_id for i in collection.items), user=user)
        added = add_all(user, chosen)
        left_out = len(chosen) - added
        return f"Added {added} from “{collection.name}”" + (
            f"; {left_out} internal, templates to customize first, or already there." if left_out else ".")
    if action == "clear":
        clear(user)
        return "The kit is empty again."
    if action == "save":
        return "Saved. Your pitch kit waits here until you build it, across searches and sessions."
    return ""


# -- building ----------------------------------------------------------------------------------

def _render(template: str, **context) -> bytes:
    return pdf.render_bounded(pdf.html_of(template, **context), (KIT_STYLESHEET,))


def _readable(data: bytes) -> int | None:
    """Pages of a stored PDF, or None when pypdf cannot merge it."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        return len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError):
        return None


def _asset_part(asset: Asset, user) -> Part:
    version = asset.current_version
    note = ""
    if version is not None and version.pages_name:
        data = storage.path_of(version.pages_name).read_bytes()
        if (pages := _readable(data)) is not None:
            return Part(asset.title, data, pages, asset)
        note = f"This file could not be included; {user.name} can send it to you separately."
    elif version is not None and version.file_type not in ("png", "jpg"):
        note = f"A preview of this file could not be made; {user.name} can send you the original."
    return _summary(asset, user, note)


def _summary(asset: Asset, user, note: str) -> Part:
    version = asset.current_version
    image = excerpt = None
    if version is not None and version.file_type in ("png", "jpg"):
        raw = storage.path_of(version.stored_name).read_bytes()
        image = f"data:{version.mime_type};base64,{base64.b64encode(raw).decode()}"
    elif version is not None and not asset.body:
        excerpt = re.sub(r"\n{3,}", "\n\n", version.text[:1500]).strip()
    data = _render("pdf/kit_summary.html", asset=asset, note=note, image=image, excerpt=excerpt,
                   body=render_markdown(asset.body) if asset.body else "")
    return Part(asset.title, data, len(PdfReader(io.BytesIO(data)).pages), asset, summary=True)


def _document_part(document: GeneratedDocument) -> Part:
    data = storage.path_of(document.stored_name).read_bytes()
    return Part(document.title, data, _readable(data) or document.page_count)


def paragraphs(letter: str) -> list[str]:
    """A letter's paragraphs: blank lines part them; single line breaks stay inside (the cover's CSS
    keeps them)."""
    text = letter.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [p.strip("\n") for p in re.split(r"\n[ \t]*\n", text) if p.strip()] if text else []


KIT_JOB = "pitch_kit"


def start_build(user) -> Job:
    """Check the draft now (the rep fixes it on the page), then build the kit in a job."""
    draft, items, _deal, account = checked_draft(user)
    return jobs.enqueue(KIT_JOB, user, f"Pitch kit for {account}", {"items": [i.id for i in items]},
                        total=len(items))


@jobs.task(KIT_JOB)
def run_kit(run: jobs.Run) -> dict:
    """The job `start_build` queued; a kit an earlier attempt kept is found again, not built twice."""
    key = run.key("kit")
    document = made_by_job(key)
    if document is None:
        if run.user is None:
            raise jobs.JobError("The rep who asked for this kit is gone.")
        try:
            document = build_kit(run.user, run.payload["items"], run, key)
        except DocumentError as exc:
            raise jobs.JobError(str(exc)) from None
    return {"summary": f"“{document.title}”: {document.page_count} pages.", "document": document.id}


def checked_draft(user, only: list[int] | None = None) -> tuple[KitDraft, list[KitDraftItem], object, str]:
    """The draft, its items (those of `only`, when given), its deal and account; DocumentError when
    it cannot be built."""
    draft = draft_of(user)
    items = [i for i in draft.items if only is None or i.id in only] if draft else []
    deal = records.own_open_deal(user, draft.opportunity_id) if draft else None
    account = (draft.account.strip() or (deal.account.name if deal else "")) if draft else ""
    if not account:
        raise DocumentError("Say which account this pitch kit is for.")
    if not items:
        raise DocumentError("Add at least one asset or document to the kit.")
    for item in items:
        if reason := problem_with(user, item):
            title = item.asset.title if item.asset else item.document.title
            named = reason if reason.startswith("“") else f"“{title}”: {reason}"
            raise DocumentError(f"{named} Remove it from the kit first.")
    return draft, items, deal, account


def build_kit(user, only: list[int] | None = None, run: jobs.Run | None = None,
              job_key: str | None = None) -> GeneratedDocument:
    """The user's draft kit (its items of `only`) as one stored PDF: cover, letter, contents, then each
    part; logged as a customizing of each library asset in it. Those items leave the draft once the
    kit is kept (the account, title and letter too when nothing else is left)."""
    draft, items, deal, account = checked_draft(user, only)
    parts = []
    for item in items:
        parts.append(_asset_part(item.asset, user) if item.asset is not None else _document_part(item.document))
        if run is not None:
            run.progress(len(parts), len(items), parts[-1].title)
    brand = branding.current()
    title, intro = draft.title, draft.intro
    front_pages = 3 if intro else 2  # cover, the letter, the contents: a page each, unless longer
    for _ in range(2):
        starts = [front_pages + 1 + sum(p.pages for p in parts[:n]) for n in range(len(parts))]
        cover = _render("pdf/kit_cover.html", title=title or f"Prepared for {account}", account=account,
                        paragraphs=paragraphs(intro), user=user, parts=parts, starts=starts, brand=brand)
        rendered = len(PdfReader(io.BytesIO(cover)).pages)
        if rendered == front_pages:
            break
        front_pages = rendered  # a long letter or contents: number the pages again
    writer = PdfWriter()
    writer.append(io.BytesIO(cover), import_outline=False)
    writer.add_outline_item(title="Contents", page_number=front_pages - 1)
    for part, start in zip(parts, starts, strict=True):
        writer.append(io.BytesIO(part.pdf), import_outline=False)
        writer.add_outline_item(title=part.title, page_number=start - 1)
    out = io.BytesIO()
    writer.write(out)
    body = out.getvalue()
    stored = storage.store_bytes(body, "pdf")
    chosen = [i.asset for i in items if i.asset is not None]
    try:
        with transaction():
            document = GeneratedDocument(
                user_id=user.id, asset_id=None, template_version=0, account=account[:120],
                title=f"Pitch kit — {title or account}"[:240],
                values={"kit": [a.id for a in chosen], "documents": [i.document_id for i in items if i.document_id],
                        "items": [["asset", i.asset_id] if i.asset_id else ["document", i.document_id] for i in items],
                        "title": title, "intro": intro,
                        "summarised": [p.asset.id for p in parts if p.summary and p.asset is not None]},
                stored_name=stored, page_count=len(writer.pages), size_bytes=len(body), job_key=job_key)
            db.session.add(document)
            for item in items:
                draft.items.remove(item)
            if not draft.items:
                draft.account = draft.title = draft.intro = ""
                draft.opportunity_id = None
    except BaseException:
        storage.discard(stored)
        raise
    for asset in chosen:
        usage.log_event("customize", user=user, asset=asset, account=document.account, document_id=document.id,
                        kit=True, opportunity=deal)
    return document
