"""A missing search index is rebuilt by one job on a real worker; searches answer from the database meanwhile."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app import search
from app.extensions import db
from app.models import Job
from app.search import index
from tests.conftest import login
from tests.jobs.conftest import start_worker


def found(client, query: str):
    """The titles the API answers, and whether the search page says search is being repaired."""
    api = client.get("/api/v1/search", query_string={"q": query})
    page = client.get("/search", query_string={"q": query})
    assert api.status_code == 200 and page.status_code == 200
    return [r["title"] for r in api.get_json()["results"]], "being repaired" in page.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"JOBS_EAGER": False, "SEARCH_BACKEND": "whoosh"}], indirect=True)
def test_a_missing_index_is_rebuilt_by_one_job_while_searches_answer(app, client, make_asset, make_user):
    make_asset("Plant downtime case study", kind="case_study", body="Kessler cut unplanned downtime.")
    make_asset("Retail store brochure", body="Automate store opening checklists.")
    search.rebuild()
    rep = make_user("rep")
    browsers = [app.test_client() for _ in range(4)]
    for browser in [client, *browsers]:
        login(browser, rep.email)
    index.backend().reset()
    shutil.rmtree(app.config["DATA_DIR"] / "search-index")

    # Four browsers at once, three searches each: every search finds the index missing, answers right
    # from the database (no 500), and all of them together queue one rebuild.
    def three_searches(browser):
        with app.app_context():
            return [found(browser, "downtime") for _ in range(3)]

    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = list(pool.map(three_searches, browsers))
    assert all(answer == (["Plant downtime case study"], True) for answers_of in answers for answer in answers_of)
    titles, repairing = found(client, "downtime")
    assert titles == ["Plant downtime case study"] and repairing
    waiting = db.session.scalars(select(Job).where(Job.kind == "search_reindex")).all()
    assert [j.state for j in waiting] == ["queued"]

    worker = start_worker(app, "--max-jobs", "1")
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output
    db.session.expire_all()
    assert db.session.get(Job, waiting[0].id).result == {"summary": "Indexed 2 assets."}
    index.backend().reset()
    titles, repairing = found(client, "downtime")
    assert titles == ["Plant downtime case study"] and not repairing
    assert search.check().clean
