"""Every route, for every role, with hostile values in its path and its parameters: huge, negative
and non-numeric numbers, long strings, unicode, NUL characters, repeated keys. Whatever comes back
may be a page, a redirect, a 404 or a 422, never a server error.

Each route is first called with benign values, and with none, while the app's query strings and
forms note which keys it reads; then every parameter at once gets each hostile value, and each key the route read
gets them one by one (so a parameter refused early cannot hide a later one's 500)."""
from __future__ import annotations

import io
from urllib.parse import quote

import pypdf
import pytest
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import UnicodeConverter

from app.accounts import service as accounts
from app.database import transaction
from app.deals import plays, records
from app.documents import authoring, generate
from app.files import pdf
from app.library import collections, flags, taxonomy
from app.models import Role
from app.rooms import service as rooms
from app.search import synonyms
from app.sharing import links
from tests.conftest import csrf_token, login

HUGE = "9" * 25  # the issue's ids: SQLite answered "int too large"
HOSTILE = [HUGE, "-1", "abc", "x" * 5000, "☃é\x00", "9" * 5000]  # int() refuses 4,300 digits and more
HOSTILE_IDS = [HUGE, str(2**63), str(2**31), "0", *HOSTILE[1:]]
# Parameters some view reads from the query string or form (forms add their own fields).
PARAMS = ["page", "ids", "segment", "stage", "team", "days", "document", "asset", "collection", "new", "pos",
          "seconds", "stars", "number", "from", "to", "kind", "q", "sort", "sid", "week", "format", "table",
          "status", "view", "product", "next", "back", "name", "account", "reason", "action", "expires",
          "term", "dimension", "industry", "add_asset", "add_document", "remove", "up", "down", "opportunity",
          "preset", "upload", "freshness", "cell_term", "cell_stage", "owner", "confirm", "restore", "query", "title",
          "tags", "item", "expires_on", "cta_url", "cta_label", "contact_phone", "message"]
ARRAYS = [[("page", "1"), ("page", HUGE)], [("ids", "1"), ("ids", HUGE), ("ids", "x")], [("ids[]", "1")],
          [("segment", "1"), ("segment", "Retail"), ("segment", HUGE)], [("term", "1"), ("term", HUGE), ("term", "x")]]
PATH_TEXT = ["x" * 3000, "☃", "%00", "..%2F..%2Fetc", " "]


@pytest.fixture
def world(app, make_user, make_asset, sample_files):
    """Real objects behind every id, so hostile parameters reach the code past the lookups."""
    users = {role: make_user(role.value) for role in Role}
    rep = users[Role.REP]
    brochure = make_asset("Hospital ROI brochure", upload=(sample_files.pdf(pages=["One", "Two"]), "roi.pdf"))
    authoring.save_template(brochure, "<h1>{{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "default": "Acme"}]), users[Role.MARKETER])
    document = generate.generate(rep, brochure, {"customer": "Mercy"}, "Mercy")
    link = links.create_link(rep, asset=brochure)
    kept = collections.create(rep, "Pitch", [brochure.id])
    flag = flags.raise_flag(rep, brochure, "outdated")
    accounts.issue_api_token(rep, "CRM")
    token_id = accounts.api_tokens_of(rep)[0].id
    synonym = synonyms.save("invoice, bill", users[Role.ADMIN])
    deal, _ = records.save(rep, records.OpportunityData(name="Pilot", account_name="Mercy", external_id="006X1",
                                                        stage_id=taxonomy.stages()[0].id), source="app")
    play = plays.pin(users[Role.MARKETER], taxonomy.terms()[0].id, taxonomy.stages()[0].id, brochure.id)
    room = rooms.create_room(rep, deal, rooms.RoomData("Mercy room"), [f"asset:{brochure.id}"])
    with transaction():  # the room answers the share link's token too, so /r/<token> reaches its code
        room.token = link.token
    ids = {"asset_id": brochure.id, "number": 1, "user_id": rep.id, "team_id": rep.team_id, "token_id": token_id,
           "vocabulary": "term", "term_id": 1, "action": "up", "filename": "app.css", "flag_id": flag.id,
           "document_id": document.id, "link_id": link.id, "token": link.token, "collection_id": kept.id,
           "synonym_id": synonym.id, "dimension_id": taxonomy.dimensions()[0].id, "opportunity_id": deal.id,
           "play_id": play.id, "external_id": deal.external_id, "change_id": 999, "room_id": room.id,
           "item_id": room.items[0].id, "job_id": 999}
    return {"users": users, "ids": ids}


def routes(app):
    """(endpoint, method, rule) of every route; logging out comes last, as it ends the session."""
    table = [(rule.endpoint, method, rule) for rule in app.url_map.iter_rules()
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(table, key=lambda row: row[0] == "auth.logout")


def path_variants(rule, ids) -> list[str]:
    """The route's URL with real ids, then with each path argument replaced by hostile values."""
    ids = {argument: ids[argument] for argument in rule.arguments}
    urls = [rule.build(ids)[1]]
    for argument in rule.arguments:
        numeric = not isinstance(rule._converters[argument], UnicodeConverter)
        marker = 987654321 if numeric else "zz"
        with_marker = rule.build({**ids, argument: marker})[1]
        for value in (HOSTILE_IDS if numeric else PATH_TEXT):
            urls.append(with_marker.replace(str(marker), quote(value, safe="%/"), 1))
    return urls


class ReadParameters(ImmutableMultiDict):
    """The app's query strings and forms, noting which keys were read by name. (Pages iterate over
    all of them only to copy them into links; the all-at-once variants cover that.)"""

    read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):  # noqa: A002 (werkzeug's name)
        self.read.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)


def query_variants(read: set[str]) -> list[list[tuple[str, str]]]:
    """Every parameter hostile at once, then each key the route read alone, then repeated keys."""
    keys = sorted(read - {"csrf_token"})
    variants = [[(name, value) for name in PARAMS] for value in HOSTILE]
    variants += [[(name, value)] for name in keys for value in HOSTILE]
    variants += [array for array in ARRAYS if array[0][0].rstrip("[]") in keys]
    return variants


def send(client, method: str, url: str, query: list, token: str) -> int:
    if method == "GET":
        response = client.get(url, query_string=query)
    elif url.startswith("/api/"):
        response = client.post(url, json=dict(query) or {"asset_id": HUGE}, query_string=query)
    else:
        response = client.post(url, data=MultiDict([*query, ("csrf_token", token)]))
    response.close()
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return 401
    return response.status_code


def walk(client, app, world, token: str) -> tuple[int, list[str]]:
    """Send every variant to every route; returns how many were sent and which answered 5xx.

    Parameters are tried only on routes the role may use: elsewhere the answer is decided
    (401, 403) before any parameter is read, as the path variants confirm."""
    sent, errors = 0, []
    for endpoint, method, rule in routes(app):
        if endpoint == "static":
            continue
        paths = path_variants(rule, world["ids"])
        requests = [(url, []) for url in paths]
        ReadParameters.read = set()
        if send(client, method, paths[0], [(name, "1") for name in PARAMS], token) not in (401, 403):
            send(client, method, paths[0], [], token)  # a "1" may be refused before later keys are read
            requests += [(paths[0], query) for query in query_variants(ReadParameters.read)]
        for url, query in requests:
            status = send(client, method, url, query, token)
            sent += 1
            if status >= 500:
                errors.append(f"{method} {url[:120]} {str(query)[:120]} → {status}")
    return sent, errors


@pytest.fixture
def quick_weekly_pdf(monkeypatch):
    """The weekly review's figures and HTML are built from the parameters as ever; only WeasyPrint's
    rendering of that HTML, the same whatever they were (tests/insights/test_figures.py reads
    its PDF), is replaced by a blank page. It was 40 % of this walk for a manager: 126 renders."""
    blank = io.BytesIO()
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(blank)
    monkeypatch.setattr(pdf, "render_pdf", lambda html, *args, **kwargs: blank.getvalue())


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_no_hostile_parameter_gets_a_server_error(app, world, role, quick_weekly_pdf):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is answered 500 and listed, as a server would
    app.request_class = type("ReadingRequest", (app.request_class,), {"parameter_storage_class": ReadParameters})
    client = app.test_client()
    if role is not None:
        assert login(client, world["users"][role].email).status_code == 302
    sent, errors = walk(client, app, world, csrf_token(client))
    print(f"{role}: {sent} requests")
    assert not errors, "\n".join(errors)
