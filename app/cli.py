"""`flask` commands: first admin, collateral import, demo data, search, insights, notifications,
backup and restore, jobs."""
from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from app import rollups, search
from app.accounts import service as accounts
from app.accounts.service import AccountError
from app.extensions import db
from app.files import previews
from app.insights import weekly
from app.insights.scope import Scope, iso_week, recent_weeks
from app.jobs.commands import jobs_cli
from app.library import assets, importer, notices, routine
from app.models import Job, Role, Team, User, utcnow
from app.notifications import digests, mail
from app.ops import backup, demo, restore


def register_commands(app: Flask) -> None:
    for command in (create_user, import_collateral, seed_demo, search_cli, insights_cli, notifications_cli,
                    backup_command, restore_command, previews_command, jobs_cli):
        app.cli.add_command(command)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value,
              show_default=True)
@click.option("--team", default=None, help="Team name; created if it does not exist.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email, name, role, team, password):
    """Create a user, e.g. the first admin."""
    try:
        user = accounts.create_user(email, name, role, password, team)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email}.")


@click.command("import-collateral")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--owner", "owner_email", default=None,
              help="Email of the owning marketer (default: the first marketer or admin).")
def import_collateral(folder: Path, owner_email: str | None):
    """Load FOLDER/manifest.csv and its files; bad rows are reported, good rows still load."""
    owner = _owner(owner_email)
    with search.batched_updates():  # a few index commits, not one per row
        report = importer.import_collateral(folder, owner)
    if report.created or report.updated:
        search.refresh_notes()  # snippets leave out lines most of the new documents share
    click.echo(f"created {len(report.created)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}, errors {len(report.errors)}")
    for line, ref, message in report.errors:
        click.echo(f"  line {line} ({ref}): {message}", err=True)
    if report.errors:
        raise SystemExit(1)


def _owner(email: str | None) -> User:
    if email:
        user = accounts.find_user(email)
        if user is None:
            raise click.ClickException(f"No user {email}.")
        return user
    user = db.session.scalar(
        select(User).where(User.role.in_([Role.MARKETER.value, Role.ADMIN.value])).order_by(User.id))
    if user is None:
        raise click.ClickException("Create a marketer or admin first (flask create-user).")
    return user


@click.command("seed-demo")
@click.option("--first-run", is_flag=True, help="Do nothing if any user exists already.")
def seed_demo(first_run: bool):
    """Load the demo library, accounts (password bridge-demo) and 90 days of usage."""
    started = time.perf_counter()
    report = demo.seed_demo(current_app.config["DATA_DIR"] / "demo-collateral", first_run)
    if report is None:
        click.echo("Demo data already present; nothing to do.")
        return
    imported = report.import_report
    click.echo(f"Demo ready in {time.perf_counter() - started:.1f} s: {report.users} people, "
               f"{len(imported.created)} assets created, {len(imported.updated)} updated, "
               f"{report.events} usage events. Log in as rep@example.com / {demo.DEMO_PASSWORD}.")
    for line, ref, message in imported.errors:
        click.echo(f"  manifest line {line} ({ref}): {message}", err=True)
    if imported.errors:
        raise SystemExit(1)


search_cli = click.Group("search", help="Build, check and catch up the search index.")


@search_cli.command("reindex")
@click.option("--job", "as_job", is_flag=True, help="Queue the rebuild for a job worker (flask jobs work) and return.")
def search_reindex(as_job: bool):
    """Rebuild the index from the database into a fresh directory and swap it in."""
    if as_job:
        click.echo(f"Rebuild queued as job {search.rebuild_soon(run_eagerly=False)}; `flask jobs list` follows it.")
        return
    with click.progressbar(length=1, label="Indexing assets") as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        count = search.rebuild(progress)
    click.echo(f"Indexed {count} assets.")


@search_cli.command("check")
def search_check():
    """Read every part of the index, then compare it with the database; exit 1 and list any damage or drift."""
    search.sync()
    drift = search.check()
    for problem in drift.unreadable:
        click.echo(f"unreadable: {problem}", err=True)
    if drift.unreadable:
        click.echo("Run `flask search reindex` to rebuild the index from the database.", err=True)
    for label, ids in (("missing from index", drift.missing), ("in index but not in database", drift.extra),
                       ("stale in index", drift.stale)):
        if ids:
            click.echo(f"{len(ids)} {label}: {', '.join(map(str, ids[:50]))}", err=True)
    if not drift.clean:
        raise SystemExit(1)
    click.echo("Index and database agree; every part of the index reads.")


@search_cli.command("sync")
def search_sync():
    """Apply queued index updates (normally done right after each commit)."""
    click.echo(f"Applied {search.sync()} queued updates; {search.pending_count()} left.")


@click.group("insights")
def insights_cli():
    """Insights reports."""


@insights_cli.command("report")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W47 (default: last complete week).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--team", default=None, help="Only this team's activity.")
def insights_report(week, out_path, team):
    """Render the weekly review PDF, as downloaded from the insights page."""
    label = week or recent_weeks(1)[0]
    try:
        scope = iso_week(label)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc
    if team:
        found = db.session.scalar(select(Team).where(Team.name == team))
        if found is None:
            raise click.BadParameter(f"no team named {team!r}", param_hint="--team")
        scope = Scope(scope.start, scope.end, team_id=found.id)
    started = time.perf_counter()
    # content gaps' "results now": what a rep finds, drafts left out (the counter the app registers)
    review = weekly.weekly_review(scope, f"Weekly review {label}", current_app.extensions["gap_counter"])
    out_path.write_bytes(weekly.weekly_review_pdf(review))
    click.echo(f"Wrote {out_path} ({out_path.stat().st_size // 1024} KB) in {time.perf_counter() - started:.1f} s.")


@insights_cli.command("rebuild-summaries")
def insights_rebuild_summaries():
    """Recount the insights summaries (event_day, search_day, work_session) from the whole event log."""
    started = time.perf_counter()
    counts = rollups.rebuild_all()
    click.echo("Recounted from the log in {:.1f} s: {}.".format(
        time.perf_counter() - started, ", ".join(f"{table} {n:,} rows" for table, n in counts.items())))


@click.group("notifications")
def notifications_cli():
    """Notification producers and weekly email digests."""


@notifications_cli.command("scan")
@click.option("--inline", is_flag=True, help="Run here and now instead of queuing a job for the worker.")
def notifications_scan(inline):
    """Tell owners what needs review and reps what is new in their segments (safe to run often: daily;
    a job worker also queues it once a day)."""
    if inline:
        click.echo(notices.scan().line())
    else:
        _report_job(routine.queue_scan())


@notifications_cli.command("send-digests")
@click.option("--dry-run", is_flag=True, help="Count the digests that would go out; send and change nothing "
                                              "(the producers do not run).")
@click.option("--inline", is_flag=True, help="Run here and now instead of queuing a job for the worker.")
def notifications_send_digests(dry_run, inline):
    """Run the producers, then mail this week's digests (weekly; a second run the same week sends nothing;
    a job worker also queues it once a week)."""
    now = utcnow()
    if dry_run:
        if not mail.configured():
            click.echo("(no BRIDGE_SMTP_URL: a real run would send nothing)")
        for line in digests.send_weekly(now, dry_run=True).lines():
            click.echo(line)
    elif inline:
        try:
            for line in routine.send_digests(now):
                click.echo(line)
        except routine.MailRefused as exc:
            raise click.ClickException(str(exc)) from None
    else:
        _report_job(routine.queue_digests(now))


def _report_job(job_id: int) -> None:
    """Say what became of a queued job: its lines when it already ran (JOBS_EAGER), else where to look."""
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    if job.state == "done":
        result = job.result or {}
        for line in result.get("lines") or [result.get("summary", "")]:
            click.echo(line)
    elif job.state == "failed":
        raise click.ClickException(f"job {job.id} failed: {job.error}")
    else:
        click.echo(f"Queued job {job.id} ({job.title}); a job worker (`flask jobs work`) runs it: "
                   f"`flask jobs list` shows how it ends.")


@click.command("backup")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Archive to write (default: <data dir>/backups/bridge-<UTC time>.tar.gz).")
def backup_command(out_path):
    """Copy the database, the stored files and the settings into one archive, while the site runs."""
    if out_path is None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        out_path = current_app.config["DATA_DIR"] / "backups" / f"bridge-{stamp}.tar.gz"
    started = time.perf_counter()
    report = backup.create(out_path)
    click.echo(f"Backed up {report.total_rows} rows of {len(report.rows)} tables and {report.files} files "
               f"({report.bytes / 1e6:.1f} MB) at schema revision {report.revision} into {out_path} "
               f"in {time.perf_counter() - started:.1f} s.")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Delete what the database holds first (in the same transaction).")
def restore_command(archive, replace):
    """Load a backup made by `flask backup` into this database and file store, all or nothing; rebuild the
    search index. Every member is checked before anything changes; a refusal is one line and exit code 1."""
    try:
        report = restore.restore(archive, replace=replace)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {report.total_rows} rows and {report.files} files at schema revision {report.revision}.")
    count = search.rebuild()
    click.echo(f"Search index rebuilt: {count} assets. Restart the server so every worker uses the restored data.")


@click.command("previews")
@click.option("--all", "everything", is_flag=True, help="Make every current file's preview again.")
def previews_command(everything):
    """Make the previews (pages, page count, thumbnail) of current files that have none yet: decks and
    documents uploaded before Bridge converted them, or while LibreOffice was missing."""
    waiting = assets.versions_without_preview(everything)
    made = 0
    with click.progressbar(waiting, label=f"Previews of {len(waiting)} files") as bar:
        for version in bar:
            made += not previews.prepare(version).preview_note
    click.echo(f"{made} of {len(waiting)} files have a preview now.")
    for version in waiting:
        if version.preview_note:
            click.echo(f"  {version.original_filename} (asset {version.asset_id}): {version.preview_note}", err=True)
