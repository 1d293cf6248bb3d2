"""What the Whoosh index holds per asset: ids, the words to match by field, facet values, visibility."""
from __future__ import annotations

from collections import Counter
from string import ascii_lowercase

from whoosh.analysis import STOP_WORDS, RegexTokenizer, StandardAnalyzer
from whoosh.analysis.filters import LowercaseFilter, StopFilter
from whoosh.analysis.morph import StemFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from app.search.backend import TEXT_FIELDS, Document
from app.search.whoosh.codec import PackedPositions

SCHEMA_VERSION = "11"  # written beside the index; another version is rebuilt on first use
NO_EXPIRY = 99991231
# Whoosh's StemmingAnalyzer, keeping one-character numbers ("SOC 2", "Tier 1") but no single letters
# (the "s" of "Lumenfold's").
ANALYZER = (RegexTokenizer() | LowercaseFilter()
            | StopFilter(stoplist=STOP_WORDS | set(ascii_lowercase), minsize=1) | StemFilter(cachesize=50000))
SPELL_ANALYZER = StandardAnalyzer(minsize=3)
# BM25F weights: a word in the title counts three times one in the body; tags, product and kind
# (keywords) and taxonomy term and stage names twice. Each field has its own length
# normalisation, so an asset tagged with every industry is less about any one of them than an
# asset tagged with only that one.
FIELD_WEIGHTS = dict(zip(TEXT_FIELDS, (3.0, 2.0, 2.0, 1.0), strict=True))
FIELD_B = dict(zip(TEXT_FIELDS, (0.75, 0.75, 0.75, 0.75), strict=True))
FACET_FIELDS = {"stage": "stage", "kind": "kind", "product": "product_facet"}
TERM_FIELD = "term"  # "<dimension id>:<term id>" per taxonomy term: one facet per dimension
# "More like this" starts from an asset's most frequent indexed words, kept with it when it is
# indexed; which of them are key (frequent here, rare elsewhere) is decided when asked, with the
# index's document frequencies of that moment.
KEY_TERM_CANDIDATES = 40


def _text_field() -> TEXT:
    text = TEXT(analyzer=ANALYZER)
    text.format = PackedPositions(field_boost=text.format.field_boost)
    return text


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        fingerprint=STORED(),
        title=_text_field(),
        keywords=_text_field(),
        taxonomy=_text_field(),
        body=_text_field(),
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),  # for tag: queries and suggestions
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),  # unstemmed words for spelling corrections
        key_terms=STORED(),  # "stem count stem count …": see KEY_TERM_CANDIDATES
        term=KEYWORD(commas=True),
        stage=KEYWORD(commas=True),
        kind=ID(),
        product_facet=ID(),
        status=ID(stored=True),
        published=STORED(),
        expires=NUMERIC(int, bits=32, stored=True),
        updated=NUMERIC(int, bits=64, stored=True),
    )


def key_term_candidates(*texts: str) -> str:
    """The KEY_TERM_CANDIDATES most frequent indexed words of the texts with their counts, as one
    string (one stored value reads faster than a list of pairs)."""
    counts = Counter(t.text for text in texts for t in ANALYZER(text) if len(t.text) > 2 and not t.text.isdigit())
    return " ".join(f"{word} {n}" for word, n in counts.most_common(KEY_TERM_CANDIDATES))


def fields_of(document: Document) -> dict:
    """A document as the index's fields (empty ones left out, as Whoosh wants)."""
    taxonomy = " \n".join([*document.term_names, *document.stage_names])
    body = "\n".join(filter(None, [document.description, document.body, document.file_text]))
    fields = {
        "id": str(document.id),
        "fingerprint": document.fingerprint,
        "title": document.title,
        "keywords": " \n".join([*document.tags, document.product, document.kind_label]),
        "taxonomy": taxonomy,
        "body": body,
        "tags": ",".join(document.tags),
        "spell": " ".join([document.title, document.description, " ".join(document.tags), document.product,
                           taxonomy]),
        "key_terms": key_term_candidates(document.title, " ".join(document.tags), body),
        "term": ",".join(f"{dimension}:{term}" for dimension, term in document.terms),
        "stage": ",".join(map(str, document.stage_ids)),
        "kind": document.kind,
        "product_facet": document.product,
        "status": document.status,
        "published": document.published,
        "expires": int(document.expires_on.strftime("%Y%m%d")) if document.expires_on else NO_EXPIRY,
        "updated": int(document.updated_at.timestamp() * 1000),
    }
    return {k: v for k, v in fields.items() if v != ""}
