"""PDF speed: bare WeasyPrint against Bridge's customize path on the same 2-page template.

Usage: .venv/bin/python bench/pdf.py [--runs 9]

Prints the median of: WeasyPrint's import in a fresh interpreter (paid once per worker); a bare
`HTML(string).write_pdf()` of the demo ROI summary filled to two pages; Bridge's customize path
for the same template and values (`authoring.render_document`: syntax check, the worker's
render process with time and memory limits, sandboxed Jinja, the URL fetcher that refuses the
outside world), with the ratio to the bare render measured in the same run; and a pitch kit
(cover and contents rendered, 10 stored 2-page PDFs merged with pypdf).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

from flask_migrate import upgrade  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts import service as accounts  # noqa: E402
from app.documents import authoring, kits  # noqa: E402
from app.files import pdf  # noqa: E402
from app.library import assets  # noqa: E402
from app.models import DocumentTemplate  # noqa: E402

TEMPLATE = ROOT / "collateral" / "templates" / "roi-summary"


def median_s(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_cost(runs: int) -> float:
    def once():
        subprocess.run([sys.executable, "-c", "import weasyprint"], check=True)
    baseline = median_s(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), runs)
    return median_s(once, runs) - baseline


def pitch_kit(app, brochure: bytes, runs: int) -> tuple[float, int]:
    """Median time of filling a rep's draft kit with 10 stored copies of the brochure and building it
    (`kits.build_kit`), as a rep's requests would."""
    upgrade()
    marketer = accounts.create_user("m@bench.example", "Marketer", "marketer", "bench-password-1")
    rep = accounts.create_user("r@bench.example", "Rep", "rep", "bench-password-1")
    source = Path(app.config["DATA_DIR"]) / "brochure.pdf"
    chosen = []
    for n in range(10):
        source.write_bytes(brochure)
        data = assets.AssetData(title=f"Brochure {n}", kind="brochure", status="published")
        chosen.append(assets.save_asset(data, marketer, upload=(source, f"brochure-{n}.pdf")))

    def build():
        for asset in chosen:
            kits.add(rep, asset=asset)
        kits.save_details(rep, kits.Details("Acme Health", "Operations in one view"))
        return kits.build_kit(rep)

    seconds = median_s(build, runs)
    return seconds, build().page_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    fields = authoring.parse_fields(json.loads((TEMPLATE / "fields.json").read_text()))
    values = authoring.defaults(fields)
    values["value_story"] = " ".join(["Fewer manual reports, faster escalations and staffing matched to demand."] * 45)
    template = DocumentTemplate(html=(TEMPLATE / "template.html").read_text(),
                                css=(TEMPLATE / "template.css").read_text(), fields=[f.as_dict() for f in fields])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        app = create_app({"DATA_DIR": data, "FILES_DIR": data / "files",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'bridge.db'}"})
        with app.app_context():
            html = authoring.render_html(template.html, values)
            base_css = (pdf.STATIC_DIR / authoring.BASE_STYLESHEET).read_text()

            def bare():
                return HTML(string=html).write_pdf(stylesheets=[CSS(string=base_css), CSS(string=template.css)])

            pages = pdf.page_count(bare())
            bare_s = median_s(bare, args.runs)
            bridge_s = median_s(lambda: authoring.render_document(template, values), args.runs)
            assert pdf.page_count(authoring.render_document(template, values)) == pages
            kit_s, kit_pages = pitch_kit(app, bare(), args.runs)
            app.extensions["usage_log"].close()
            app.extensions["pdf_renderer"].close()
    weasy_import = import_cost(max(3, args.runs // 3))
    print(f"WeasyPrint import (fresh interpreter, once per worker): {weasy_import:.2f} s")
    print(f"{pages}-page ROI summary, median of {args.runs}:")
    print(f"  bare WeasyPrint render          {bare_s * 1000:7.0f} ms")
    print(f"  Bridge customize path           {bridge_s * 1000:7.0f} ms   ratio {bridge_s / bare_s:.2f}")
    print(f"  pitch kit: cover + contents + 10 stored {pages}-page PDFs merged = {kit_pages} pages"
          f"          {kit_s * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
