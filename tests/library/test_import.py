"""Onboarding a share drive: manifest import reports bad rows, loads good ones, never duplicates."""
import csv

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.library import taxonomy
from app.library.importer import import_collateral
from app.models import Asset

COLUMNS = ["file", "title", "kind", "segments", "stages", "product", "tags", "description"]


def write_manifest(folder, rows):
    with (folder / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS + ["status"])
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in COLUMNS + ["status"]})


def row(file, title, **kw):
    return {"file": file, "title": title, "kind": kw.get("kind", "one-pager"),
            "segments": kw.get("segments", "Retail"), "stages": kw.get("stages", "Decision"),
            "product": "Flow", "tags": kw.get("tags", "roi;stores"), "description": "d", "status": kw.get("status", "")}


def test_good_rows_load_and_bad_rows_are_reported(app, make_user, sample_files):
    folder = sample_files.folder
    sample_files.pdf("retail.pdf", ["Retail ROI"])
    sample_files.pptx("deck.pptx")
    (folder / "pitch.md").write_text("**Pitch** text")
    sample_files.docx("fake.pdf")
    write_manifest(folder, [
        row("retail.pdf", "Retail ROI", segments="Retail; Healthcare"),
        row("deck.pptx", "Deck", kind="Slide deck"),
        row("pitch.md", "Pitch", kind="messaging / talk track"),
        row("https://videos.example/tour", "Tour video", kind="video link"),
        row("missing.pdf", "Missing file"),
        row("retail.pdf", "Bad segment", segments="Atlantis"),
        row("fake.pdf", "Mislabeled"),
        row("deck.pptx", "Bad kind", kind="poster"),
    ])
    report = import_collateral(folder, make_user("marketer"))
    assert sorted(report.created) == sorted(["retail.pdf", "deck.pptx", "pitch.md", "https://videos.example/tour"])
    problems = {line: message for line, _, message in report.errors}
    assert "was not found" in problems[6]
    assert "unknown term(s) 'Atlantis'" in problems[7]
    assert "content is not a PDF" in problems[8]
    assert "unknown kind 'poster'" in problems[9]
    retail = db.session.scalar(select(Asset).where(Asset.title == "Retail ROI"))
    assert {t.name for t in retail.terms} == {"Retail", "Healthcare"}
    assert retail.tags == ["roi", "stores"] and "Retail ROI" in retail.current_version.text
    assert db.session.scalar(select(Asset.body).where(Asset.title == "Pitch")) == "**Pitch** text"


def test_reimport_does_not_duplicate_and_picks_up_changes(app, make_user, sample_files):
    folder = sample_files.folder
    sample_files.pdf("retail.pdf", ["First edition"])
    write_manifest(folder, [row("retail.pdf", "Retail ROI")])
    owner = make_user("marketer")
    assert import_collateral(folder, owner).created == ["retail.pdf"]
    again = import_collateral(folder, owner)
    assert again.unchanged == ["retail.pdf"] and not again.created
    sample_files.pdf("retail.pdf", ["Second edition"])
    write_manifest(folder, [row("retail.pdf", "Retail ROI (2027)")])
    changed = import_collateral(folder, owner)
    assert changed.updated == ["retail.pdf"]
    asset = db.session.scalar(select(Asset))
    assert db.session.scalar(select(func.count()).select_from(Asset)) == 1
    assert asset.title == "Retail ROI (2027)" and [v.number for v in asset.versions] == [2, 1]


def test_import_command_lists_errors_and_exits_nonzero(app, make_user, sample_files):
    folder = sample_files.folder
    sample_files.pdf("ok.pdf")
    write_manifest(folder, [row("ok.pdf", "Fine"), row("nope.pdf", "Broken")])
    make_user("marketer")
    result = app.test_cli_runner().invoke(args=["import-collateral", str(folder)])
    assert result.exit_code == 1
    assert "created 1" in result.output and "line 3 (nope.pdf)" in result.output


def test_manifest_without_required_columns_is_refused(app, make_user, sample_files):
    (sample_files.folder / "manifest.csv").write_text("file,title\nx.pdf,X\n")
    report = import_collateral(sample_files.folder, make_user("marketer"))
    assert report.errors and "missing columns" in report.errors[0][2]


def test_the_manifest_sets_each_asset_s_audience_or_leaves_it_to_the_kind(app, make_user, sample_files):
    folder = sample_files.folder
    for name in ("memo.md", "talk.md", "letter.md", "bad.md"):
        (folder / name).write_text(f"Text of {name}")
    sample_files.pdf("pricing.pdf", ["Discount bands"])
    columns = COLUMNS + ["status", "audience"]
    with (folder / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for file, kind, audience in [("pricing.pdf", "one-pager", "internal"), ("talk.md", "messaging", ""),
                                     ("letter.md", "messaging", "Customer-facing"), ("memo.md", "one-pager", ""),
                                     ("bad.md", "messaging", "secret")]:
            writer.writerow({**row(file, file.split(".")[0].title(), kind=kind), "audience": audience})
    report = import_collateral(folder, make_user("marketer"))
    audiences = dict(db.session.execute(select(Asset.title, Asset.audience)).all())
    assert audiences == {"Pricing": "internal", "Talk": "internal", "Letter": "customer", "Memo": "customer"}
    assert [(line, message.split(" (")[0]) for line, _, message in report.errors] == [(6, "unknown audience 'secret'")]


def test_a_column_per_dimension_tags_terms_of_that_dimension(app, make_user, sample_files):
    """The manifest names each dimension's terms in a column named like it ("industry",
    "Company size" or "company_size"); the older `segments` column still reads, in any dimension."""
    taxonomy.ensure_dimension("Company size", ["Mid-Market", "Enterprise"])
    folder = sample_files.folder
    for name in ("a.md", "b.md", "c.md"):
        (folder / name).write_text(f"{name} text")
    columns = ["file", "title", "kind", "industry", "Company size", "segments", "stages", "product", "tags",
               "description"]
    with (folder / "manifest.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerow(["a.md", "Mid-size hospitals", "messaging", "Healthcare", "Mid-Market", "", "Decision", "",
                         "", ""])
        writer.writerow(["b.md", "Old style", "messaging", "", "", "Retail; Enterprise", "Decision", "", "", ""])
        writer.writerow(["c.md", "Wrong column", "messaging", "Enterprise", "", "", "Decision", "", "", ""])
    report = import_collateral(folder, make_user("marketer"))
    assert sorted(report.created) == ["a.md", "b.md"]
    assert report.errors[0][0] == 4 and "unknown term(s) Industry 'Enterprise'" in report.errors[0][2]
    terms = {a.title: {t.dimension.name: t.name for t in a.terms} for a in db.session.scalars(select(Asset))}
    assert terms == {"Mid-size hospitals": {"Industry": "Healthcare", "Company size": "Mid-Market"},
                     "Old style": {"Industry": "Retail", "Company size": "Enterprise"}}


@pytest.mark.parametrize("app", [{"SEARCH_BACKEND": "whoosh"}], indirect=True)  # the outbox's batches: Whoosh's
def test_an_import_updates_the_index_in_batches_and_every_row_is_found_at_the_end(app, client, login_as, make_user,
                                                                                  make_asset, sample_files):
    from app import search

    folder = sample_files.folder
    for name in ("lathe", "spindle", "gantry"):
        sample_files.pdf(f"{name}.pdf", [f"{name.title()} retrofit guide"])
    write_manifest(folder, [row(f"{n}.pdf", f"{n.title()} retrofit guide") for n in ("lathe", "spindle", "gantry")])
    owner = make_user("marketer")
    make_asset("Press kit")  # the index exists, as it does once a library has anything in it
    login_as("rep")

    def found() -> set[str]:
        answer = client.get("/api/v1/search", query_string={"q": "retrofit"}).get_json()
        return {hit["title"] for hit in answer["results"]}

    with search.batched_updates(every_s=3600):
        report = import_collateral(folder, owner)
        assert len(report.created) == 3
        assert search.pending_count() > 0 and found() == set()  # queued in the database, not yet indexed
    assert search.pending_count() == 0
    assert found() == {"Lathe retrofit guide", "Spindle retrofit guide", "Gantry retrofit guide"}
