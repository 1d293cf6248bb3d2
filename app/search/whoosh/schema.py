"""What the Whoosh index holds per asset: ids, the words to match, facet values, visibility."""
from __future__ import annotations

from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from app.search.backend import FACETS, Document
from app.search.whoosh.codec import PackedPositions

SCHEMA_VERSION = "9"  # written beside the index; another version is rebuilt on first use
NO_EXPIRY = 99991231
ANALYZER = StemmingAnalyzer()
SPELL_ANALYZER = StandardAnalyzer(minsize=3)
# Searched by default: one field, because every extra field multiplies Whoosh's matcher work
# (two fields took twice as long as one on broad queries). The keywords (title, tags, product,
# segment and stage names, kind) are written KEYWORD_WEIGHT times ahead of the body text,
# which weighs them like a field boost; a separator token keeps phrases from spanning the copies.
TEXT_FIELDS = {"text": 1.0}
KEYWORD_WEIGHT = 3
SEPARATOR = "xsepx"
FIELD_ALIASES = {"tag": "tags"}
FACET_FIELDS = dict(zip(FACETS, ("segment", "stage", "kind", "product_facet"), strict=True))
HIGHLIGHTED_FIELDS = ("text", "title", "tags")


def _text_field() -> TEXT:
    text = TEXT(analyzer=ANALYZER)
    text.format = PackedPositions(field_boost=text.format.field_boost)
    return text


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        fingerprint=STORED(),
        text=_text_field(),
        title=TEXT(analyzer=ANALYZER, phrase=False),  # for title: queries and suggestions
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),  # for tag: queries
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),  # unstemmed words for "Did you mean"
        segment=KEYWORD(commas=True),
        stage=KEYWORD(commas=True),
        kind=ID(),
        product_facet=ID(),
        status=ID(stored=True),
        published=STORED(),
        expires=NUMERIC(int, bits=32, stored=True),
        updated=NUMERIC(int, bits=64, stored=True),
    )


def fields_of(document: Document) -> dict:
    """A document as the index's fields (empty ones left out, as Whoosh wants)."""
    names = [*document.segment_names, *document.stage_names]
    keywords = " ".join([document.title, " ".join(document.tags), document.product, " ".join(names),
                         document.kind_label])
    body = "\n".join(filter(None, [document.description, document.body, document.file_text]))
    fields = {
        "id": str(document.id),
        "fingerprint": document.fingerprint,
        "text": f" {SEPARATOR} ".join([keywords] * KEYWORD_WEIGHT + [body]),
        "title": document.title,
        "tags": ",".join(document.tags),
        "spell": " ".join([document.title, document.description, " ".join(document.tags), document.product,
                           " ".join(names)]),
        "segment": ",".join(map(str, document.segment_ids)),
        "stage": ",".join(map(str, document.stage_ids)),
        "kind": document.kind,
        "product_facet": document.product,
        "status": document.status,
        "published": document.published,
        "expires": int(document.expires_on.strftime("%Y%m%d")) if document.expires_on else NO_EXPIRY,
        "updated": int(document.updated_at.timestamp() * 1000),
    }
    return {k: v for k, v in fields.items() if v != ""}
