"""The Whoosh backend: what it evaluates on arrays agrees with Whoosh itself, and its codec reads alike."""
import random

import numpy as np
import pytest
from whoosh import qparser

from app.library.assets import AssetData, save_asset
from app.search import index, postings
from app.search.backend import TEXT_FIELDS, Group, Not, Phrase, Query, Word, all_of, any_of
from app.search.whoosh import arrays, codec, schema
from tests.conftest import post_form

pytestmark = pytest.mark.backends("whoosh")  # the Whoosh backend's own machinery

WORDS = "total cost payback hospital patient store plant downtime audit renewal pricing onboarding".split()

# Whoosh's syntax over Bridge's text fields, and the query Bridge's backend is given for it.
QUERIES = [
    ("cost", Word("cost")),
    ("total cost", all_of([Word("total"), Word("cost")])),
    ('"total cost"', Phrase("total cost")),
    ('"cost payback hospital"', Phrase("cost payback hospital")),
    ("cost OR audit", any_of([Word("cost"), Word("audit")])),
    ("cost NOT plant", all_of([Word("cost"), Not(Word("plant"))])),
    ("onboard*", Word("onboard", prefix=True)),
    ("tags:roi", Word("roi", field="tags")),
    ("pric*", Word("pric", prefix=True)),
    ("title:hospital", Word("hospital", field="title")),
    ('"cost total"~3', Phrase("cost total", slop=3)),
    ("renewal downtime pricing", all_of([Word("renewal"), Word("downtime"), Word("pricing")])),
    ("(renewal AND downtime) OR (renewal AND pricing) OR (downtime AND pricing)",
     Group((Word("renewal"), Word("downtime"), Word("pricing")), 2)),
]


def test_search_finds_exactly_what_whoosh_matches_after_edits_and_deletes(app, client, login_as, make_asset):
    """Bridge evaluates queries on arrays read from the index; the same documents must match
    as with Whoosh's own matcher, in an index of several segments with deleted entries."""
    rng = random.Random(7)
    assets = [make_asset(" ".join(rng.choices(WORDS, k=3)).title(), tags=rng.sample(["roi", "pricing", "audit"], 1),
                         body=" ".join(rng.choices(WORDS, k=40))) for _ in range(40)]
    for asset in assets[:8]:  # edits and deletions leave deleted entries in older segments
        save_asset(AssetData(title=asset.title + " hospital", kind="one_pager", body=" ".join(rng.choices(WORDS, k=30)),
                             tags=asset.tags, term_ids=[t.id for t in asset.terms],
                             stage_ids=[s.id for s in asset.stages], status="published"), asset.owner, asset=asset)
    login_as("marketer")
    for asset in assets[8:11]:
        post_form(client, f"/manage/{asset.id}/delete")
    searcher = index.backend().searcher()
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), searcher.schema, group=qparser.AndGroup)
    assert len(searcher.leaf_searchers()) > 1 and searcher.reader().has_deletions()
    for text, node in QUERIES:  # one library for every query: building it is most of the test's time
        whoosh_ids = {int(hit["id"]) for hit in searcher.search(parser.parse(text), limit=None)}
        match = index.backend().match(Query(match=node))
        assert set(match.ids) == whoosh_ids and match.total == len(whoosh_ids), text
        assert whoosh_ids, f"{text!r} should find something in this library"


def test_bm25f_of_one_field_is_whooshs_bm25():
    """Over one field of weight 1, BM25F is BM25 as Whoosh computes it; a second field adds to the
    frequency before saturation, not to the score."""
    docs, tf, lengths = np.array([0, 3, 7]), np.array([1.0, 4.0, 2.0], np.float32), np.array([10, 40, 25], np.float32)
    one = postings.FieldPostings(docs, tf, lengths, 20.0, 1.0)
    found, scores = postings.bm25f([one], 100)
    assert found.tolist() == [0, 3, 7]
    assert scores.tolist() == pytest.approx(postings.bm25(tf, lengths, 100, 3, 20.0).tolist(), rel=1e-6)
    title = postings.FieldPostings(np.array([3]), np.array([1.0], np.float32), np.array([5], np.float32), 5.0, 3.0)
    _, both = postings.bm25f([one, title], 100)
    assert scores[1] < both[1] < scores[1] + postings.bm25f([title], 100)[1][0]


def test_the_best_k_are_the_highest_scores_ties_in_document_order_and_none_for_k_0():
    docs, scores = np.array([2, 4, 5, 9]), np.array([1.0, 3.0, 1.0, 2.0])
    assert [d.tolist() for d in postings.best(docs, scores, 3)] == [[4, 9, 2], [3.0, 2.0, 1.0]]
    assert [d.tolist() for d in postings.best(docs, scores, 0)] == [[], []]


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
             "body": " ".join(rng.choices(WORDS, k=rng.randint(1, 600)))} for n in range(400)]
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
        matcher = reader.postings("body", b"cost")
        truth = []
        while matcher.is_active():
            truth.append((matcher.id(), matcher.weight(), matcher.value_as("positions")))
            matcher.next()
        docnums, weights = segment.term(reader, "body", b"cost")
        keys = segment.occurrences(reader, "body", b"cost")
        assert docnums.tolist() == [d for d, _w, _p in truth] and len(truth) > 256  # several blocks
        assert weights.tolist() == [w for _d, w, _p in truth]
        assert keys.tolist() == [d << 32 | p for d, _w, positions in truth for p in positions]
        read[name] = (docnums.tolist(), keys.tolist())
        reader.close()
    assert read["bridge"] == read["whoosh"]


def test_a_rebuild_in_small_commits_with_prepared_columns_answers_as_before(app, make_asset, monkeypatch):
    """A rebuild commits a segment per `build_mb` of text (memory bounded at any library size), and each
    segment's columns are written beside it, so a new process opens them instead of reading every
    document; a damaged columns file is read from the segment instead. The answers never change."""
    from app import search
    from app.search.whoosh import backend as whoosh_backend
    from app.search.whoosh import prepared

    rng = random.Random(11)
    for n in range(30):
        make_asset(" ".join(rng.choices(WORDS, k=3)).title(), kind=rng.choice(["one_pager", "case_study"]),
                   terms=[rng.choice(["Retail", "Healthcare"])], body=" ".join(rng.choices(WORDS, k=40)),
                   status="published" if n % 5 else "draft")
    questions = [Query(match=node, filters=filters) for _text, node in QUERIES[:6]
                 for filters in ({}, {"kind": frozenset({"case_study"})})]

    def answers():
        index.backend().forget()  # as a new process
        found = [index.backend().match(q) for q in questions]
        return [(sorted(m.ids), m.total, m.facets) for m in found]

    search.rebuild()
    expected = answers()
    backend = index.backend()
    monkeypatch.setattr(backend, "build_mb", 1)
    monkeypatch.setattr(whoosh_backend, "CHARS_PER_MB", 2_000)  # ~6 assets per commit
    search.rebuild()
    segments = [leaf.reader().segment().segment_id() for leaf, _ in backend.searcher().leaf_searchers()]
    folder = prepared.folder_of(backend.current_dir())
    assert len(segments) >= 4
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{s}.{ext}" for s in segments for ext in ("json", "npy"))
    with monkeypatch.context() as patched:  # a new process reads no document's stored fields
        patched.setattr(arrays, "read_columns", lambda *a: pytest.fail("read the segment instead of its columns"))
        assert answers() == expected
    (folder / f"{segments[0]}.npy").write_bytes(b"\x93NUMPY damaged")
    (folder / f"{segments[1]}.json").write_text("{")
    assert answers() == expected
    assert search.check().clean
