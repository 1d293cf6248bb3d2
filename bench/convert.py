"""Previews: LibreOffice conversion of the demo's decks and documents, and page images, each against a
baseline measured in the same run.

Usage: .venv/bin/python bench/convert.py [--runs 3]

Conversion (`app.files.convert.to_pdf`: the bounded child, a private copy of the hardened profile,
soffice.bin) of the demo's 5 decks and 3 Word documents (built by app/ops/demo.py):
  - cold: a profile root never used (its template profile is built first) and LibreOffice's files
    dropped from the page cache where the kernel allows it, as on the first upload after a boot;
  - warm: the same files again, the template profile built and LibreOffice's files cached.
Baseline: WeasyPrint rendering the same deck's or document's words as HTML, in this process: what a
text-only "preview" would cost. Ratio = conversion / baseline.

Page images (`app.files.pages`, the bounded child) of every converted page at 1000 and 360 px,
against pypdfium2 drawing the same page in this process (the unbounded way issue 17.4 replaced);
and the 20 x 14,400 pt page at 1000 px, which the bounded child answers with a placeholder.
CPU seconds of the children are printed beside wall times: they do not depend on the machine's load.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import pypdfium2 as pdfium  # noqa: E402

from app.files import convert, pages, pdf  # noqa: E402
from app.ops import demo  # noqa: E402
from app.web.markup import render_markdown  # noqa: E402

LIBREOFFICE = Path("/usr/lib/libreoffice")


def demo_sources(folder: Path) -> list[tuple[Path, str, str]]:
    """(file, kind, its words as Markdown) for each demo deck and document."""
    import csv

    folder.mkdir(parents=True)
    found = []
    with (demo.DEMO_SOURCE / "manifest.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            suffix = Path(row["file"]).suffix.lower()
            if suffix not in (".pptx", ".docx"):
                continue
            text = (demo.DEMO_SOURCE / "sources" / f"{Path(row['file']).stem}.md").read_text(encoding="utf-8")
            target = folder / Path(row["file"]).name
            demo.BUILDERS[suffix](text, row, target)
            found.append((target, suffix[1:], f"# {row['title']}\n\n{text}"))
    return found


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drop_libreoffice_from_cache() -> bool:
    """Ask the kernel to forget LibreOffice's files (best effort: fadvise on each file)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in LIBREOFFICE.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def timed(fn) -> tuple[float, float]:
    """(wall seconds, children's CPU seconds) of one call."""
    cpu, started = children_cpu_s(), time.perf_counter()
    fn()
    return time.perf_counter() - started, children_cpu_s() - cpu


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not convert.available():
        sys.exit("LibreOffice is not installed (make setup installs it).")
    work = Path(tempfile.mkdtemp(prefix="bench-convert-"))
    try:
        run(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, runs: int) -> None:
    sources = demo_sources(work / "in")
    out = work / "out"
    out.mkdir()
    rows, cold_walls, warm_walls, warm_cpus = [], {"pptx": [], "docx": []}, {"pptx": [], "docx": []}, []
    evicted = False
    # Cold: each file once, on a new profile root, with LibreOffice evicted from the page cache.
    for n, (source, kind, _) in enumerate(sources):
        root = work / f"cold-{n}"
        root.mkdir()
        evicted = drop_libreoffice_from_cache()
        wall, _ = timed(lambda s=source, k=kind, r=root: convert.to_pdf(s, k, out / "cold.pdf", profile_root=r))
        cold_walls[kind].append(wall)
    warm_root = work / "warm"
    warm_root.mkdir()
    convert.to_pdf(sources[0][0], sources[0][1], out / "first.pdf", profile_root=warm_root)
    for source, kind, words in sources:
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = timed(lambda s=source, k=kind: convert.to_pdf(s, k, out / f"{s.stem}.pdf",
                                                                      profile_root=warm_root))
            walls.append(wall)
            cpus.append(cpu)
        html = render_markdown(words)
        baseline = median_ms(lambda h=html: pdf.render_pdf(f"<html><body>{h}</body></html>"), runs) / 1000
        page_total = len(pdfium.PdfDocument(out / f"{source.stem}.pdf"))
        rows.append((source.name, kind, page_total, statistics.median(walls), statistics.median(cpus), baseline))
        warm_walls[kind].append(statistics.median(walls))
        warm_cpus.append(statistics.median(cpus))

    print(f"Conversion, median of {runs} per file (LibreOffice {libreoffice_version()}), "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'file':42} {'pages':>5} {'warm s':>7} {'CPU s':>6} {'WeasyPrint text s':>18} {'ratio':>6}")
    for name, _kind, count, wall, cpu, baseline in rows:
        print(f"{name:42} {count:5d} {wall:7.2f} {cpu:6.2f} {baseline:18.3f} {wall / baseline:6.1f}")
    for kind, label in (("pptx", "decks"), ("docx", "documents")):
        cold = f"{statistics.median(cold_walls[kind]):.2f} s" if cold_walls[kind] else "—"
        print(f"median per {label[:-1]}: warm {statistics.median(warm_walls[kind]):.2f} s, cold {cold} "
              f"({len(cold_walls[kind])} cold runs{'' if evicted else ', page cache not dropped'})")

    renderer = pages.PageRenderer()
    try:
        page_rows = []
        for source, _, _ in sources:
            converted = out / f"{source.stem}.pdf"
            document = pdfium.PdfDocument(converted)
            for width in (1000, 360):
                def bounded(c=converted, w=width, d=document):
                    for index in range(len(d)):
                        renderer.render(c, index, w, work)

                def in_process(w=width, d=document):
                    for index in range(len(d)):
                        page = d[index]
                        page.render(scale=w / page.get_width()).to_pil().convert("RGB").save(work / "p.png", "PNG")

                count = len(document)
                page_rows.append((source.name, width, median_ms(bounded, runs) / count,
                                  median_ms(in_process, runs) / count))
            document.close()
        tall = pdf_of_tall_page(work / "tall.pdf")
        placeholder_ms = median_ms(lambda: renderer.render(tall, 0, 1000, work), runs)
    finally:
        renderer.close()
    print(f"\nPage images, median ms per page over {runs} runs")
    print(f"{'file':42} {'width':>5} {'bounded child':>14} {'in-process':>11} {'ratio':>6}")
    for name, width, bounded_ms, in_process_ms in page_rows:
        print(f"{name:42} {width:5d} {bounded_ms:14.0f} {in_process_ms:11.0f} {bounded_ms / in_process_ms:6.2f}")
    for width in (1000, 360):
        chosen = [b for _, w, b, _ in page_rows if w == width]
        print(f"median per page at {width} px: {statistics.median(chosen):.0f} ms (bounded child)")
    print(f"the 20 x 14,400 pt page at 1000 px: placeholder in {placeholder_ms:.0f} ms")


def pdf_of_tall_page(path: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=20, height=14_400)
    writer.write(path)
    return path


def libreoffice_version() -> str:
    import subprocess

    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libreoffice-core-nogui"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
