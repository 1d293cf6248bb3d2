"""The Whoosh backend: what it evaluates on arrays agrees with Whoosh itself, and its codec reads alike."""
import random

import pytest

from app.library.assets import AssetData, save_asset
from app.search import index
from app.search.backend import Query
from app.search.whoosh import arrays, codec, schema
from app.search.whoosh.query import parse
from tests.conftest import post_form

WORDS = "total cost payback hospital patient store plant downtime audit renewal pricing onboarding".split()


QUERIES = ["cost", "total cost", '"total cost"', '"cost payback hospital"', "cost OR audit", "cost NOT plant",
           "onboard*", "tag:roi", "pric*", "title:hospital", '"cost total"~3', "renewal downtime pricing"]


def test_search_finds_exactly_what_whoosh_matches_after_edits_and_deletes(app, client, login_as, make_asset):
    """Bridge evaluates queries on arrays read from the index; the same documents must match
    as with Whoosh's own matcher, in an index of several segments with deleted entries."""
    rng = random.Random(7)
    assets = [make_asset(" ".join(rng.choices(WORDS, k=3)).title(), tags=rng.sample(["roi", "pricing", "audit"], 1),
                         body=" ".join(rng.choices(WORDS, k=40))) for _ in range(40)]
    for asset in assets[:8]:  # edits and deletions leave deleted entries in older segments
        save_asset(AssetData(title=asset.title + " hospital", kind="one_pager", body=" ".join(rng.choices(WORDS, k=30)),
                             tags=asset.tags, segment_ids=[s.id for s in asset.segments],
                             stage_ids=[s.id for s in asset.stages], status="published"), asset.owner, asset=asset)
    login_as("marketer")
    for asset in assets[8:11]:
        post_form(client, f"/manage/{asset.id}/delete")
    searcher = index.backend().searcher()
    assert len(searcher.leaf_searchers()) > 1 and searcher.reader().has_deletions()
    for q in QUERIES:  # one library for every query: building it is most of the test's time
        parsed, _ = parse(q, searcher.schema)
        whoosh_scores = {int(hit["id"]): hit.score for hit in searcher.search(parsed, limit=None)}
        match = index.backend().match(Query(text=q))
        assert set(match.ids) == set(whoosh_scores) and match.total == len(whoosh_scores), q
        assert whoosh_scores, f"{q!r} should find something in this library"
        if '"' not in q:  # the same BM25 too (a phrase scores as the sum of its words here)
            scores = dict(zip(match.ids, match.scores, strict=True))
            assert scores == pytest.approx(whoosh_scores, rel=1e-4, abs=1e-4), q


def test_phrase_positions_decode_the_same_for_a_block_as_for_whoosh():
    """Positions are decoded a block of postings at a time; that must give what Whoosh's own
    per-posting decoding (used by its matchers, e.g. phrases with slop) gives."""
    packed = codec.PackedPositions()
    per_posting = [[3], [0, 5, 300, 70000], [1, 2, 3, 4], [4_000_000_000]]
    values = tuple(packed.encode(positions) for positions in per_posting)
    counts, positions = arrays._block_positions(values)
    assert counts.tolist() == [1, 4, 4, 1]
    assert positions.tolist() == [p for posting in per_posting for p in posting]
    assert [packed.decode_positions(v) for v in values] == per_posting
    assert [packed.decode_frequency(v) for v in values] == [1, 4, 4, 1]


def test_whooshs_own_codec_and_bridges_write_postings_that_read_alike(tmp_path):
    """Bridge writes posting blocks its own way (`whoosh.codec.Codec`); an index written by Whoosh's
    default codec (an older Bridge, a plain `writer()`) must give the same matches and positions,
    and both what Whoosh's own matcher reads."""
    from whoosh.codec.whoosh3 import W3Codec
    rng = random.Random(3)
    docs = [{"id": str(n), "status": "published", "expires": schema.NO_EXPIRY, "updated": n,
             "text": " ".join(rng.choices(WORDS, k=rng.randint(1, 600)))} for n in range(400)]
    read = {}
    for name, written_by in (("bridge", codec.Codec()), ("whoosh", W3Codec())):
        (tmp_path / name).mkdir()
        whoosh_index = codec.storage(str(tmp_path / name)).create_index(schema.make_schema())
        writer = whoosh_index.writer(codec=written_by)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
        reader = whoosh_index.reader()
        segment = arrays.Segment(reader, arrays.LRU(1 << 24, arrays.nbytes))
        matcher = reader.postings("text", b"cost")
        truth = []
        while matcher.is_active():
            truth.append((matcher.id(), matcher.weight(), matcher.value_as("positions")))
            matcher.next()
        docnums, weights = segment.term(reader, "text", b"cost")
        keys = segment.occurrences(reader, "text", b"cost")
        assert docnums.tolist() == [d for d, _w, _p in truth] and len(truth) > 256  # several blocks
        assert weights.tolist() == [w for _d, w, _p in truth]
        assert keys.tolist() == [d << 32 | p for d, _w, positions in truth for p in positions]
        read[name] = (docnums.tolist(), keys.tolist())
        reader.close()
    assert read["bridge"] == read["whoosh"]
