"""The API keeps its contract: Schemathesis (a real API client of the ecosystem) reads
/api/v1/openapi.json from a live server and sends generated requests, valid and invalid, with a
manager's bearer token. No answer may be a 5xx, and every answer must match the document: a
documented status, content type and body (errors included, in their one JSON shape)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.accounts import service as accounts
from app.documents import authoring
from app.sharing import links

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance"]
MAX_EXAMPLES = 8  # per operation and phase: about 300 requests, well under a minute


def test_the_openapi_document_is_served_and_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "http://localhost/api/v1"}]
    described = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    routes = {(rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              and rule.endpoint != "api.openapi_document" for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routes


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_contract(app, live, make_user, make_asset,
                                                                              sample_files, tmp_path):
    manager = make_user("manager")
    brochure = make_asset("Hospital ROI brochure", upload=(sample_files.pdf(pages=["One", "Two"]), "roi.pdf"))
    authoring.save_template(brochure, "<h1>{{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "default": "Acme"}]), make_user("marketer"))
    links.create_link(manager, asset=brochure)
    token = accounts.issue_api_token(manager, "contract test")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "run", f"{live}/api/v1/openapi.json",
         "--header", f"Authorization: Bearer {token}", "--checks", ",".join(CHECKS),
         "--max-examples", str(MAX_EXAMPLES), "--seed", "17", "--workers", "1", "--no-color",
         "--generation-database", "none", "--request-timeout", "60", "--phases", "examples,coverage,fuzzing"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert " generated, " in run.stdout and " failed" not in run.stdout.split("Test cases:")[-1], run.stdout[-3000:]
