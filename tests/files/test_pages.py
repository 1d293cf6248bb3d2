"""Page images: the page when it can be drawn within bounds, a placeholder when not; never a huge
worker, never a 500, whoever asks first."""
from __future__ import annotations

import io
import logging
import random
import resource
import threading

import pytest
import requests
from PIL import Image
from sqlalchemy import select
from werkzeug.serving import make_server

from app.extensions import db
from app.files import pages
from app.models import ShareLink
from tests.conftest import login, post_form

BLUE_BAR = b"0 0 1 rg 2 2 16 14396 re f"
TITLE = b"BT /F1 24 Tf 72 700 Td (Normal page) Tj ET"


def image_of(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.fixture
def renderer():
    engine = pages.PageRenderer()
    yield engine
    engine.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_page_is_drawn_at_the_asked_width_in_its_proportions(tmp_path, sample_files, renderer):
    pdf = sample_files.pdf_of_pages("two.pdf", [(612, 792), (960, 540)], [TITLE, b"1 0 0 rg 0 0 480 540 re f"])
    page = renderer.render(pdf, 1, 800, tmp_path)
    assert not page.placeholder
    image = image_of(page.png)
    assert image.size[0] == 800 and abs(image.size[1] - 450) <= 1
    assert image.convert("RGB").getpixel((100, 200)) == (255, 0, 0)  # the left half is the red box
    assert image.convert("RGB").getpixel((700, 200)) == (255, 255, 255)
    with pytest.raises(pages.PageError):
        renderer.render(pdf, 2, 800, tmp_path)
    assert renderer.page_count(pdf) == 2


def test_the_20_by_14400_pt_page_is_a_placeholder_and_the_worker_stays_small(tmp_path, sample_files, renderer,
                                                                            caplog):
    """Drawn in the worker at 1000 px wide, this page took 42 s and 5.2 GB (issue 17.4)."""
    pdf = sample_files.pdf_of_pages("tall.pdf", [(20, 14_400), (612, 792)], [BLUE_BAR, TITLE])
    before = peak_rss_mb()
    with caplog.at_level(logging.WARNING, logger="bridge.pages"):
        page = renderer.render(pdf, 0, 1000, tmp_path)
    assert page.placeholder and "over the 25 Mpx budget" in page.reason
    assert image_of(page.png).size == (1000, 2000)  # the page's proportions, capped
    assert "page 1 of tall.pdf not rendered at 1000 px" in caplog.text
    assert peak_rss_mb() - before < 100  # the bitmap would have been 2.9 GB
    assert not renderer.render(pdf, 1, 1000, tmp_path).placeholder  # the next page is drawn as usual


def test_a_page_that_draws_too_long_is_a_placeholder_and_the_next_one_renders(tmp_path, sample_files):
    rng = random.Random(7)
    slow = b"\n".join(b"%.1f %.1f m %.1f %.1f l %.1f %.1f l f" % (x, y, x + 300, y + 5, x + 5, y + 300)
                      for x, y in ((rng.uniform(0, 600), rng.uniform(0, 780)) for _ in range(60_000)))
    pdf = sample_files.pdf_of_pages("slow.pdf", [(612, 792), (612, 792)], [slow, TITLE])
    engine = pages.PageRenderer(pages.Limits(timeout_s=0.5))
    try:
        page = engine.render(pdf, 0, 1000, tmp_path)
        assert page.placeholder and "took longer than 0.5 s" in page.reason
        assert not engine.render(pdf, 1, 1000, tmp_path).placeholder  # a fresh child
    finally:
        engine.close()


def test_a_page_that_needs_more_memory_than_allowed_is_a_placeholder(tmp_path, sample_files):
    pdf = sample_files.pdf_of_pages("big.pdf", [(612, 792)], [TITLE])
    engine = pages.PageRenderer(pages.Limits(memory_mb=30))
    try:
        page = engine.render(pdf, 0, 4000, tmp_path)  # 4000 x 5176 px: 80 MB of bitmap
        assert page.placeholder and "memory" in page.reason
        assert not engine.render(pdf, 0, 500, tmp_path).placeholder  # a fresh child takes the next request
    finally:
        engine.close()


def test_what_is_not_a_page_is_refused(tmp_path, sample_files, renderer):
    pdf = sample_files.pdf_of_pages("one.pdf", [(612, 792)], [TITLE])
    for index, width in ((0, 0), (0, 5000), (-1, 100), (1, 100)):
        with pytest.raises(pages.PageError):
            renderer.render(pdf, index, width, tmp_path)
    with pytest.raises(pages.PageError, match="not a readable PDF"):
        renderer.render(sample_files.raw("no.pdf", b"%PDF-1.7 nothing"), 0, 100, tmp_path)


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()


def test_three_first_requests_for_one_page_at_once_all_get_it(app, live, make_asset, make_user, sample_files):
    """Three prospects' browsers asking for a page no one has seen: before, they raced on one .tmp
    name and 2 in 90 got a 500."""
    rounds = 10
    brochure = make_asset("Long brochure", upload=(sample_files.pdf(pages=[f"Page {n}" for n in range(rounds)]),
                                                   "long.pdf"))
    rep = app.test_client()
    login(rep, make_user("rep").email)
    post_form(rep, f"/share/new?asset={brochure.id}", {"expires": "30", "allow_download": "y"})
    token = db.session.scalar(select(ShareLink.token))
    answers: list[tuple[int, int, bytes]] = []
    lock = threading.Lock()

    def fetch(number: int) -> None:
        response = requests.get(f"{live}/s/{token}/pages/{number}.png", timeout=60)
        with lock:
            answers.append((number, response.status_code, response.content))

    for number in range(1, rounds + 1):
        threads = [threading.Thread(target=fetch, args=(number,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert sorted(status for _, status, _ in answers) == [200] * 3 * rounds
    for number in range(1, rounds + 1):
        images = {content for n, _, content in answers if n == number}
        assert len(images) == 1 and next(iter(images)).startswith(b"\x89PNG")
    assert list((app.config["DATA_DIR"] / "page-cache").glob("*.tmp")) == []


def test_a_shared_pathological_page_is_a_placeholder_for_the_prospect(app, make_asset, make_user, sample_files):
    tall = sample_files.pdf_of_pages("tall.pdf", [(20, 14_400)], [BLUE_BAR])
    asset = make_asset("Tall poster", upload=(tall, "tall.pdf"))
    rep = app.test_client()
    login(rep, make_user("rep").email)
    post_form(rep, f"/share/new?asset={asset.id}", {"expires": "30"})
    token = db.session.scalar(select(ShareLink.token))
    before = peak_rss_mb()
    with app.test_client().get(f"/s/{token}/pages/1.png") as image:
        assert image.status_code == 200 and image_of(image.data).size == (1000, 2000)
        grey = image_of(image.data).convert("RGB").getpixel((5, 5))
    assert grey == (238, 240, 243)  # the placeholder's grey, not the page's blue bar
    assert peak_rss_mb() - before < 100
