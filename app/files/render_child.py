"""The document render child (see `pdf.RenderProcess`): `python -I -m app.files.render_child FD PARENT MEMORY_MB`.

It talks to its worker over the socket FD only, and leaves when the worker goes: at end of file on
that socket, or, while a render is running, when its parent changes (checked every half second).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from multiprocessing.connection import Connection


def _exit_with_parent(parent: int) -> None:
    # Polling getppid, not PR_SET_PDEATHSIG: the death signal fires when the *thread* that started
    # the child ends, and a threaded server (flask run) renders from short-lived request threads.
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def main(argv: list[str]) -> None:
    fd, parent, memory_mb = (int(a) for a in argv)
    _exit_with_parent(parent)
    from app.files import pdf  # WeasyPrint: imported before the memory limit is measured

    pdf.serve(Connection(fd), memory_mb)


if __name__ == "__main__":
    main(sys.argv[1:])
