"""Summaries of the usage log, kept by its writer in the events' own transaction (`app.usage.record`), so
insights read thousands of rows instead of a million events (bench/README.md, `insights.py`):

- `event_day`: events per (UTC day, kind, user, team): adoption, active reps, uses per day;
- `search_day`: searches per (day, team, folded query, filters), with those that found nothing and
  those that found something and were not clicked: content gaps and the overview's search figures;
- `work_session`: each user's working sessions (`SESSION_GAP`) with their first search and the
  first use after it: time to find.

The log stays the truth: `rebuild()` recounts every summary from it (migration 0018,
`flask insights rebuild-summaries`, data loaded around the writer as the benchmarks do). A batch
touching a search or a session recounts that search's or session's contribution from the log (a click
may arrive after its search, an event backdated into an old session), so the order events arrive in
does not matter. On PostgreSQL, writers take one advisory lock for that recount; on SQLite the
database's own write lock serialises them.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, cast, delete, func, insert, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import EventDay, SearchDay, UsageEvent, WorkSession
from app.models.usage import SESSION_GAP, USE_KINDS

LOCK_KEY = 0x6272696467650018  # pg_advisory_xact_lock key of the summaries' writers
CHUNK = 500
QUERY_CHARS, FILTER_CHARS = 300, 300  # of a search_day key: within PostgreSQL's index row size in any script


def folded(text_: str) -> str:
    """Text with case and spacing folded: how queries (and deal accounts) are grouped."""
    return " ".join(text_.casefold().split())


def daily(start: datetime, end: datetime) -> bool:
    """Whether a range is whole UTC days, as the day summaries can answer it."""
    return start.time() == end.time() == datetime.min.time()


def lock(connection) -> None:
    """Serialise the summaries' writers on PostgreSQL (before the events are inserted, so the recount
    sees every event committed before it)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def needs_ids(rows: list[dict]) -> bool:
    """Whether `fold` must know the batch's event ids: it recounts a search (a search or click with a search id)."""
    return any(row["kind"] in ("search", "search_click") and row.get("search_id") for row in rows)


def fold(connection, rows: list[dict], ids: Iterable[int]) -> None:
    """Fold events just inserted (`rows`, whose ids are `ids`) into the summaries."""
    _upsert_event_days(connection, _event_days(rows))
    _upsert_search_days(connection, _search_deltas(connection, rows, set(ids)))
    _resession(connection, rows)


# --- event_day -----------------------------------------------------------------------------------

def _event_days(rows: Iterable[dict]) -> dict[tuple, dict]:
    found: dict[tuple, dict] = {}
    for row in rows:
        at = row["created_at"]
        key = (at.date(), row["kind"], row.get("user_id") or 0, row.get("team_id") or 0)
        if (item := found.get(key)) is None:
            found[key] = dict(zip(("day", "kind", "user_id", "team_id"), key, strict=True), events=1, last_at=at)
        else:
            item["events"] += 1
            item["last_at"] = max(item["last_at"], at)
    return found


def _insert(connection, model):
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(model)


def _upsert_event_days(connection, found: dict[tuple, dict]) -> None:
    items, table = list(found.values()), EventDay.__table__.c
    for start in range(0, len(items), CHUNK):
        statement = _insert(connection, EventDay).values(items[start:start + CHUNK])
        new = statement.excluded
        connection.execute(statement.on_conflict_do_update(
            index_elements=["day", "kind", "user_id", "team_id"],
            set_={"events": table.events + new.events,
                  "last_at": case((new.last_at > table.last_at, new.last_at), else_=table.last_at)}))


# --- search_day ----------------------------------------------------------------------------------

def _search_key(row, clicked: bool) -> tuple[tuple, tuple[int, int, int, int]]:
    """A search's row key in `search_day` and what it adds: (searches, zero results, results not
    recorded, found something but not clicked), as content gaps and the overview count them."""
    context = row["context"] or {}
    query, results, filters = context.get("query"), context.get("results"), context.get("filters")
    results = results if isinstance(results, int) else None
    key = (row["created_at"].date(), row["team_id"] or 0,
           folded(query if isinstance(query, str) else "")[:QUERY_CHARS],
           json.dumps(filters, sort_keys=True, ensure_ascii=False)[:FILTER_CHARS] if filters else "")
    return key, (1, int(not results), int(results is None), int(bool(results and results > 0 and not clicked)))


def _add(deltas: dict, key: tuple, values, sign: int = 1) -> None:
    current = deltas.get(key, (0, 0, 0, 0))
    deltas[key] = tuple(c + sign * v for c, v in zip(current, values, strict=True))


def _search_deltas(connection, rows: list[dict], batch_ids: set[int]) -> dict[tuple, tuple]:
    """What the batch changes in `search_day`: its searches, and the searches whose click it brings
    (or whose clicks came first), recounted from the log before and after the batch."""
    deltas: dict[tuple, tuple] = {}
    touched = set()
    for row in rows:
        if row["kind"] == "search" and not row.get("search_id"):
            _add(deltas, *_search_key(row, clicked=False))
        elif row["kind"] in ("search", "search_click") and row.get("search_id"):
            touched.add(row["search_id"])
    touched_list = sorted(touched)
    for start in range(0, len(touched_list), CHUNK):
        found = connection.execute(
            select(UsageEvent.id, UsageEvent.kind, UsageEvent.user_id, UsageEvent.team_id, UsageEvent.created_at,
                   UsageEvent.search_id, UsageEvent.context)
            .where(UsageEvent.search_id.in_(touched_list[start:start + CHUNK]),
                   UsageEvent.kind.in_(("search", "search_click")))).mappings().all()
        after = {(e["search_id"], e["user_id"]) for e in found if e["kind"] == "search_click" and e["user_id"]}
        before = {(e["search_id"], e["user_id"]) for e in found
                  if e["kind"] == "search_click" and e["user_id"] and e["id"] not in batch_ids}
        for event in found:
            if event["kind"] != "search":
                continue
            _add(deltas, *_search_key(event, (event["search_id"], event["user_id"]) in after))
            if event["id"] not in batch_ids:
                _add(deltas, *_search_key(event, (event["search_id"], event["user_id"]) in before), sign=-1)
    return {key: values for key, values in deltas.items() if any(values)}


def _upsert_search_days(connection, deltas: dict[tuple, tuple]) -> None:
    columns = ("day", "team_id", "query", "filters", "searches", "zero_results", "unknown_results", "no_click")
    items = [dict(zip(columns, key + values, strict=True)) for key, values in deltas.items()]
    table = SearchDay.__table__.c
    for start in range(0, len(items), CHUNK):
        statement = _insert(connection, SearchDay).values(items[start:start + CHUNK])
        new = statement.excluded
        connection.execute(statement.on_conflict_do_update(
            index_elements=["day", "team_id", "query", "filters"],
            set_={name: table[name] + new[name] for name in columns[4:]}))


# --- work_session --------------------------------------------------------------------------------

def walk(events: Iterable, wanted: set[int] | None = None, start: dict | None = None) -> Iterator[dict]:
    """Working sessions of events (user id, time, kind, asset id, team id) in order of user, time and
    id: each with its span, its first search (and that event's team) and the first use of an asset
    (of `wanted` ones, if given) after that search. The definition is SESSION_GAP's. `start`:
    a session as walked so far (the events continue it)."""
    session = dict(start) if start else None
    for user_id, at, kind, asset_id, team_id in events:
        if session is None or user_id != session["user_id"] or at - session["ended_at"] > SESSION_GAP:
            if session is not None:
                yield session
            session = {"user_id": user_id, "started_at": at, "ended_at": at, "searched_at": None, "team_id": None,
                       "found_at": None, "asset_id": None, "mixed_teams": False, "first_team": team_id}
        session["ended_at"] = at
        session["mixed_teams"] = session["mixed_teams"] or team_id != session["first_team"]
        if session["searched_at"] is None:
            if kind == "search":
                session["searched_at"], session["team_id"] = at, team_id
        elif (session["found_at"] is None and kind in USE_KINDS and asset_id is not None
              and (wanted is None or asset_id in wanted)):
            session["found_at"], session["asset_id"] = at, asset_id
    if session is not None:
        yield session


def week_of(day: date) -> date:
    """The Monday of a day's ISO week."""
    return day - timedelta(days=day.weekday())


def minutes_to_find(session: dict) -> float | None:
    """A walked session's time to find, in minutes (None: not found)."""
    found_at = session["found_at"]
    return (found_at - session["searched_at"]).total_seconds() / 60 if found_at is not None else None


def _stored(sessions: Iterable[dict]) -> Iterator[dict]:
    for s in sessions:
        row = {k: v for k, v in s.items() if k != "first_team"}
        row["first_team_id"] = s["first_team"]
        row["searched_week"] = ("{}-W{:02d}".format(*s["searched_at"].isocalendar()[:2])
                                if s["searched_at"] is not None else None)
        row["minutes"] = minutes_to_find(s)
        yield row


SESSION_COLUMNS = ("user_id", "started_at", "ended_at", "searched_at", "team_id", "found_at", "asset_id",
                   "mixed_teams", "first_team_id")


def _resession(connection, rows: list[dict]) -> None:
    """Fold the batch's events into their users' sessions. Events that come after a user's last session
    (as they do, but for backdated ones) continue it or start new ones; otherwise every session of the
    user that ends within SESSION_GAP before their first new event or starts within it after their
    last is recounted from the log."""
    by_user: dict[int, list[dict]] = {}
    for row in rows:
        if user_id := row.get("user_id"):
            by_user.setdefault(user_id, []).append(row)
    if not by_user:
        return
    spans = {user_id: (min(r["created_at"] for r in mine), max(r["created_at"] for r in mine))
             for user_id, mine in by_user.items()}
    gap, ws = SESSION_GAP, WorkSession
    near: dict[int, list] = {user_id: [] for user_id in spans}
    for session in connection.execute(select(*(ws.__table__.c[c] for c in SESSION_COLUMNS)).where(
            ws.user_id.in_(list(spans)), ws.ended_at >= min(s[0] for s in spans.values()) - gap,
            ws.started_at <= max(s[1] for s in spans.values()) + gap)).mappings():
        first, last = spans[session["user_id"]]
        if session["ended_at"] >= first - gap and session["started_at"] <= last + gap:
            near[session["user_id"]].append(session)
    stale, walked, windows = [], [], {}
    for user_id, sessions in near.items():
        first, last = spans[user_id]
        stale += [(user_id, s["started_at"]) for s in sessions]
        if len(sessions) <= 1 and all(s["ended_at"] <= first for s in sessions):  # appended: continue it
            start = {**sessions[0], "first_team": sessions[0]["first_team_id"]} if sessions else None
            mine = sorted(by_user[user_id], key=lambda r: r["created_at"])  # stable: ties in id order
            walked.append(walk([(user_id, r["created_at"], r["kind"], r.get("asset_id"), r.get("team_id"))
                                for r in mine], start=start))
        else:
            windows[user_id] = (min([first] + [s["started_at"] for s in sessions]),
                                max([last] + [s["ended_at"] for s in sessions]))
    for start in range(0, len(stale), CHUNK):
        connection.execute(delete(ws).where(tuple_(ws.user_id, ws.started_at).in_(stale[start:start + CHUNK])))
    if windows:
        events = connection.execute(
            select(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.kind, UsageEvent.asset_id,
                   UsageEvent.team_id)
            .where(UsageEvent.user_id.in_(list(windows)),
                   UsageEvent.created_at >= min(w[0] for w in windows.values()),
                   UsageEvent.created_at <= max(w[1] for w in windows.values()))
            .order_by(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.id))
        walked.append(walk(e for e in events if windows[e[0]][0] <= e[1] <= windows[e[0]][1]))
    _insert_sessions(connection, (session for sessions in walked for session in sessions))


def _insert_sessions(connection, sessions: Iterable[dict]) -> int:
    count, chunk = 0, []
    for session in _stored(sessions):
        chunk.append(session)
        if len(chunk) == CHUNK:
            connection.execute(insert(WorkSession), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        connection.execute(insert(WorkSession), chunk)
    return count + len(chunk)


def forget_asset(asset_id: int) -> int:
    """Recount the sessions that found an asset just deleted: its events keep their rows with the asset
    unset, so those sessions found a later use, or nothing. Returns how many sessions were recounted."""
    with db.engine.begin() as connection:
        lock(connection)
        found = connection.execute(select(WorkSession.user_id, WorkSession.started_at)
                                   .where(WorkSession.asset_id == asset_id)).all()
        _resession(connection, [{"user_id": user_id, "created_at": at} for user_id, at in found])
    return len(found)


# --- rebuilding from the log ---------------------------------------------------------------------

def rebuild_all() -> dict[str, int]:
    """`rebuild` in a transaction of its own (`flask insights rebuild-summaries`, the benchmarks)."""
    with db.engine.begin() as connection:
        return rebuild(connection)


def rebuild(connection) -> dict[str, int]:
    """Recount every summary from the whole log, in the caller's transaction; returns rows per table."""
    lock(connection)
    for model in (EventDay, SearchDay, WorkSession):
        connection.execute(delete(model))
    event = UsageEvent
    day = func.date(event.created_at) if connection.dialect.name == "sqlite" else cast(event.created_at, Date)
    keys = (day, event.kind, func.coalesce(event.user_id, 0), func.coalesce(event.team_id, 0))
    connection.execute(insert(EventDay).from_select(
        ["day", "kind", "user_id", "team_id", "events", "last_at"],
        select(*keys, func.count(), func.max(event.created_at)).group_by(*keys)))
    click = UsageEvent.__table__.alias("click")
    clicked = select(1).where(click.c.search_id == event.search_id, click.c.user_id == event.user_id,
                              func.coalesce(click.c.kind, "") == "search_click").exists()
    deltas: dict[tuple, tuple] = {}
    for row in connection.execute(  # streamed: the statement's option, not the caller's connection's
            select(event.created_at, event.team_id, event.context, clicked.label("clicked"))
            .where(event.kind == "search").execution_options(stream_results=True)).mappings():
        _add(deltas, *_search_key(row, bool(row["clicked"])))
    _upsert_search_days(connection, deltas)
    events = connection.execute(
        select(event.user_id, event.created_at, event.kind, event.asset_id, event.team_id)
        .where(event.user_id.isnot(None)).order_by(event.user_id, event.created_at, event.id)
        .execution_options(stream_results=True))
    sessions = _insert_sessions(connection, walk(events))
    return {"event_day": connection.execute(select(func.count()).select_from(EventDay)).scalar_one(),
            "search_day": len(deltas), "work_session": sessions}


def day_span(start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last day of a whole-day range [start, end)."""
    return start.date(), (end - timedelta(days=1)).date()
