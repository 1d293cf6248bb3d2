"""Faults under gunicorn (issue 17.1): kill -9 a worker in the middle of a render and a conversion,
then kill -9 the master. Render children (WeasyPrint, page images, LibreOffice) never hold the
listening socket, die with their worker, and nothing the server started outlives it: gunicorn
starts again on the same port. Nothing here is timed; the bounds only stop a broken run."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from app.database import transaction
from app.extensions import db
from app.models import DocumentTemplate
from app.sharing import links
from tests.conftest import ROOT_DIR
from tests.test_serving import free_port, logged_in, server_env, wait_until_up

LOOP = "{% for i in range(99999) %}{% for j in range(99999) %}{{ i * j }}{% endfor %}{% endfor %}"
SLEEP_MARKER = "987.654"


def wait_until(predicate, limit_s: float = 60.0):
    """Poll until `predicate()` is truthy (returned) or the bound passes (None)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(0.1)
    return None


def stat_of(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None once it is gone (zombies count as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else (int(fields[1]), fields[19])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> dict[int, str]:
    """Every live process below `root`: pid → start time (so a reused pid is not mistaken for it)."""
    children: dict[int, list[int]] = {}
    started = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := stat_of(int(entry.name))):
            children.setdefault(found[0], []).append(int(entry.name))
            started[int(entry.name)] = found[1]
    result, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            result[child] = started[child]
            todo.append(child)
    return result


def alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, start in processes.items() if (found := stat_of(pid)) and found[1] == start]


def socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:"):
                found.add(target)
    except OSError:
        pass
    return found


def listening_inode(port: int) -> str:
    """The inode of the socket listening on `port` (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            return f"socket:[{fields[9]}]"
    raise AssertionError(f"nothing listens on {port}")


def background(call, *args, **kwargs) -> None:
    """A request whose answer never comes: its server is killed under it."""
    def run() -> None:
        try:
            call(*args, timeout=600, **kwargs)
        except requests.RequestException:
            pass

    threading.Thread(target=run, daemon=True).start()


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_render_children_die_with_their_worker_and_nothing_outlives_the_master(app, make_user, make_asset,
                                                                              sample_files, tmp_path):
    rep, marketer = make_user("rep"), make_user("marketer", team="Marketing")
    slow = make_asset("Slow proposal")
    with transaction():  # a template that renders for minutes: saved around the editor's trial render
        db.session.add(DocumentTemplate(asset_id=slow.id, html=LOOP,
                                        fields=[{"name": "customer", "label": "Customer", "type": "text",
                                                 "required": True}]))
    brochure = make_asset("Brochure", upload=(sample_files.pdf(pages=["One", "Two"]), "brochure.pdf"))
    token = links.create_link(rep, asset=brochure).token
    deck = sample_files.pptx(slides=["Deck that converts forever"])
    fake = tmp_path / "soffice-that-hangs"
    fake.write_text("#!/bin/sh\n"
                    'case "$*" in *--terminate_after_init*) exit 0;; esac\n'
                    f"exec sleep {SLEEP_MARKER}\n")
    fake.chmod(0o755)
    rep_email, marketer_email, slow_id = rep.email, marketer.email, slow.id
    db.session.remove()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**server_env(app, port), "BRIDGE_WORKERS": "3", "BRIDGE_RENDER_TIMEOUT_S": "600",
           "BRIDGE_OFFICE_PREVIEWS": "1", "BRIDGE_SOFFICE": str(fake), "BRIDGE_CONVERT_TIMEOUT_S": "600"}
    log = tmp_path / "gunicorn.log"
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        with log.open("a") as out:
            master = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf",
                                       "app.wsgi:app"], cwd=ROOT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(master)
        wait_until_up(base, master, log)
        return master

    try:
        master = start()
        listener = listening_inode(port)
        with requests.get(f"{base}/s/{token}/pages/1.png", timeout=60) as page:  # a page-image child starts
            assert page.status_code == 200
        rep_session, marketer_session = logged_in(base, rep_email), logged_in(base, marketer_email)
        background(rep_session.post, f"{base}/assets/{slow_id}/customize",
                   data={"csrf_token": rep_session.csrf, "customer": "Acme", "action": "create"})
        background(marketer_session.post, f"{base}/manage/new",
                   data={"csrf_token": marketer_session.csrf, "title": "Converting deck", "kind": "slide_deck",
                         "status": "published"}, files={"file": ("deck.pptx", deck.read_bytes())})

        def children() -> dict[str, list[int]]:
            tree = descendants(master.pid)
            kinds = {"render": "app.files.render_child", "pages": "pages.py --serve", "convert": "convert.py --child",
                     "office": f"sleep {SLEEP_MARKER}"}
            return {kind: [p for p in tree if marker in cmdline(p)] for kind, marker in kinds.items()}

        found = wait_until(lambda: (c := children()) and all(c.values()) and c, limit_s=120)
        assert found, f"not every kind of render child started: {children()}"
        for pid in [p for pids in found.values() for p in pids]:
            assert listener not in socket_inodes(pid), cmdline(pid)  # never the server's port

        render_worker = stat_of(found["render"][0])[0]
        render_children = {p: s for p, s in descendants(render_worker).items()}
        os.kill(render_worker, signal.SIGKILL)
        assert wait_until(lambda: not alive(render_children), limit_s=30), [cmdline(p) for p in
                                                                            alive(render_children)]
        assert requests.get(f"{base}/healthz", timeout=30).status_code == 200  # another worker serves

        everything = descendants(master.pid)
        assert any(f"sleep {SLEEP_MARKER}" in cmdline(p) for p in everything)  # the conversion is still running
        os.kill(master.pid, signal.SIGKILL)
        master.wait()
        assert wait_until(lambda: not alive(everything), limit_s=30), [cmdline(p) for p in alive(everything)]
        assert wait_until(lambda: bindable(port), limit_s=30)

        again = start()  # the same port, at once
        assert requests.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}
        again.send_signal(signal.SIGTERM)
        again.wait(60)
    finally:
        for master in started:
            tree = descendants(master.pid)
            if master.poll() is None:
                master.kill()
            for pid in alive(tree):
                os.kill(pid, signal.SIGKILL)
    server_log = log.read_text()
    assert "Connection in use" not in server_log and "Traceback" not in server_log, server_log[-3000:]
