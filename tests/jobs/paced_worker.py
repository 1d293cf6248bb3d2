"""`flask jobs work` that pauses after every step a job reports (PACE_S seconds), so a test can stop a
worker halfway through a job however fast the machine makes each PDF. Test code only: the pause is added
here, by wrapping `Run.progress`, not by a setting of the app."""
from __future__ import annotations

import os
import sys
import time

from flask.cli import main

from app.jobs import Run

PACE_S = float(os.environ.get("PACE_S", "0"))
_report = Run.progress


def paced(self, *args, **kwargs) -> None:
    _report(self, *args, **kwargs)
    time.sleep(PACE_S)


if __name__ == "__main__":
    Run.progress = paced
    sys.argv = ["flask", "jobs", "work", *sys.argv[1:]]
    main()
