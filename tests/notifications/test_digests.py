"""Weekly digests through a real SMTP server: what arrives, for whom, once a week, and the one-click
unsubscribe that needs no login and refuses a forged token."""
from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.database import transaction
from app.extensions import db
from app.jobs import worker
from app.library import notices, routine, taxonomy
from app.models import Job, utcnow
from app.notifications import digests, preferences
from tests.factories import new_asset
from tests.mailbox import body

PUBLIC = "https://bridge.example.test"


@pytest.fixture
def world(app, make_user):
    """Ana, a rep following Retail; Mara, the marketer who owns what is new and one overdue battlecard."""
    app.config["PUBLIC_URL"] = PUBLIC
    ana = make_user("rep", email="ana@example.com", name="Ana <Admin> Lopez")
    mara = make_user("marketer", email="mara@example.com", name="Mara Quinn")
    terms, _ = taxonomy.terms_by_name(["Retail"])
    preferences.save(ana, preferences.choices_of(ana), [t.id for t in terms])
    roi = new_asset(mara, "Retail <b>ROI</b> & payback", terms=["Retail"])
    new_asset(mara, "Healthcare brochure", terms=["Healthcare"])
    card = new_asset(mara, "Acme battlecard", kind="battlecard", terms=["Retail"])
    with transaction():
        card.verified_at = utcnow() - timedelta(days=45)
    notices.scan(utcnow())
    return ana, mara, roi


def unsubscribe_path(mail) -> str:
    return urlsplit(mail["List-Unsubscribe"].strip("<>")).path


def test_reps_and_owners_get_their_weekly_digest(app, smtp, world):
    ana, mara, roi = world
    summary = digests.send_weekly(utcnow())
    assert summary.sent == 2 and summary.digests == {"new_content": 1, "review_due": 1}
    smtp.mailbox.wait(2)
    rep_mail, = smtp.mailbox.to("ana@example.com")
    assert rep_mail["Subject"] == "2 new or updated assets for your segments"
    text, html = body(rep_mail), body(rep_mail, "html")
    assert "Retail <b>ROI</b> & payback" in text and "Acme battlecard" in text
    assert "Healthcare brochure" not in text
    assert f"{PUBLIC}/assets/{roi.id}" in text and f'href="{PUBLIC}/assets/{roi.id}"' in html
    assert "Retail &lt;b&gt;ROI&lt;/b&gt; &amp; payback" in html and "<b>ROI</b>" not in html
    assert "Hello Ana &lt;Admin&gt; Lopez" in html
    assert rep_mail["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe/")
    assert rep_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"{PUBLIC}/notifications/preferences" in text
    owner_mail, = smtp.mailbox.to("mara@example.com")
    assert owner_mail["Subject"] == "1 asset of yours needs review"
    assert "“Acme battlecard” needs review" in body(owner_mail)


def test_a_second_run_the_same_week_sends_nothing(app, smtp, world):
    now = utcnow()
    assert digests.send_weekly(now).sent == 2
    notices.scan(now)
    again = digests.send_weekly(now + timedelta(minutes=5))
    assert again.sent == 0 and again.digests == {}
    assert len(smtp.mailbox.wait(2)) == 2


def test_only_new_items_go_out_the_next_week_and_empty_digests_are_skipped(app, smtp, world):
    ana, mara, _ = world
    digests.send_weekly(utcnow())
    new_asset(mara, "Retail pricing sheet", terms=["Retail"])
    notices.scan(utcnow())
    summary = digests.send_weekly(utcnow() + timedelta(days=7))
    assert summary.digests == {"new_content": 1}  # Mara has nothing new to review
    smtp.mailbox.wait(3)
    latest = smtp.mailbox.to("ana@example.com")[-1]
    assert latest["Subject"] == "1 new or updated asset for your segments"
    assert "Retail pricing sheet" in body(latest) and "Acme battlecard" not in body(latest)


def test_inactive_users_and_email_off_get_no_digest(app, smtp, world):
    ana, mara, _ = world
    with transaction():
        mara.active = False
    preferences.stop_email(ana, "new_content")
    assert digests.send_weekly(utcnow()).sent == 0


def test_dry_run_counts_and_sends_nothing(app, smtp, world):
    summary = digests.send_weekly(utcnow(), dry_run=True)
    assert summary.digests == {"new_content": 1, "review_due": 1} and summary.items == 3 and summary.sent == 0
    assert digests.send_weekly(utcnow()).sent == 2  # nothing was recorded by the dry run


def test_the_cli_dry_run_prints_counts(app, smtp, world):
    result = app.test_cli_runner().invoke(args=["notifications", "send-digests", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "digests new_content 1, review_due 1; items 3; mails sent 0" in result.output
    result = app.test_cli_runner().invoke(args=["notifications", "send-digests"])
    assert "mails sent 2" in result.output
    assert len(smtp.mailbox.wait(2)) == 2


def test_one_click_unsubscribe_needs_no_login(app, client, smtp, world):
    ana, _, _ = world
    digests.send_weekly(utcnow())
    smtp.mailbox.wait(2)
    path = unsubscribe_path(smtp.mailbox.to("ana@example.com")[0])
    page = client.get(path)
    assert page.status_code == 200 and "Stop these emails?" in page.get_data(as_text=True)
    assert preferences.choices_of(ana)["new_content"].email == "weekly"  # a GET changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail client sends it: no CSRF token
    assert done.status_code == 200 and "Unsubscribed" in done.get_data(as_text=True)
    assert preferences.choices_of(ana)["new_content"].email == "off"
    assert preferences.choices_of(ana)["new_content"].in_app is True


def test_a_tampered_token_is_404(app, client, smtp, world):
    digests.send_weekly(utcnow())
    smtp.mailbox.wait(2)
    path = unsubscribe_path(smtp.mailbox.to("ana@example.com")[0])
    token = path.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (f"/unsubscribe/{forged}", "/unsubscribe/nonsense", f"/unsubscribe/{token}x"):
        assert client.get(bad).status_code == 404
        assert client.post(bad).status_code == 404


def test_without_smtp_nothing_is_recorded(app, world):
    app.config["SMTP_URL"] = ""
    summary = digests.send_weekly(utcnow())
    assert summary.sent == 0 and "BRIDGE_SMTP_URL" in summary.error
    assert digests.send_weekly(utcnow(), dry_run=True).digests == {"new_content": 1, "review_due": 1}


def test_the_weekly_command_runs_the_producers_first(app, smtp, world):
    _, mara, _ = world
    new_asset(mara, "Retail pricing sheet", terms=["Retail"])  # no scan since: the command runs it
    result = app.test_cli_runner().invoke(args=["notifications", "send-digests"])
    assert result.exit_code == 0, result.output
    assert "new content: 1 new notices" in result.output and "mails sent 2" in result.output
    smtp.mailbox.wait(2)
    assert "Retail pricing sheet" in body(smtp.mailbox.to("ana@example.com")[0])


def test_a_long_digest_lists_the_first_items_and_counts_the_rest(app, smtp, world):
    _, mara, _ = world
    for n in range(digests.LISTED + 3):
        new_asset(mara, f"Retail sheet {n:02d}", terms=["Retail"])
    notices.scan(utcnow())
    digests.send_weekly(utcnow())
    smtp.mailbox.wait(2)
    text = body(smtp.mailbox.to("ana@example.com")[0])
    assert f"…and 5 more: {PUBLIC}/notifications?kind=new_content" in text  # 28 new + 2 earlier = 30 items
    assert text.count("Retail sheet") == digests.LISTED - 2


@pytest.mark.parametrize("app", [{"JOBS_EAGER": False, "JOBS_SCHEDULE_S": 60}], indirect=True)
def test_an_idle_worker_queues_the_weeks_digests_once_and_runs_them(app, smtp, world):
    """The schedule: each idle worker asks, the day's scan and the week's digests are queued once (a
    second worker, or the same one later that week, finds them done), and the next week's go out."""
    stop = threading.Event()
    assert worker.work(stop, poll_s=0.01, max_jobs=2) == 2
    ran = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert [(j.kind, j.state) for j in ran] == [("notification_scan", "done"), ("weekly_digests", "done")]
    assert ran[1].title == f"Weekly digests {digests.week_of(utcnow())}" and "mails sent 2" in ran[1].result["summary"]
    assert len(smtp.mailbox.wait(2)) == 2
    routine.queue_due(utcnow())  # another worker's schedule, later the same day
    assert db.session.scalar(select(func.count()).select_from(Job)) == 2
    routine.queue_due(utcnow() + timedelta(days=7))
    assert [j.title for j in db.session.scalars(select(Job).where(Job.state == "queued"))] == [
        routine.scan_title(utcnow() + timedelta(days=7)), routine.digests_title(utcnow() + timedelta(days=7))]


def test_the_cli_queues_the_digests_when_jobs_run_in_a_worker(app, smtp, world):
    app.config["JOBS_EAGER"] = False
    result = app.test_cli_runner().invoke(args=["notifications", "send-digests"])
    assert result.exit_code == 0 and "Queued job" in result.output and not smtp.mailbox.messages
    result = app.test_cli_runner().invoke(args=["notifications", "send-digests", "--inline"])
    assert result.exit_code == 0 and "mails sent 2" in result.output
