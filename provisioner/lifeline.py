"""Child processes die with the server (adapter).

A SIGKILLed server runs no cleanup, so its children must notice on their own: the ticket
writer ignores SIGTERM (the server drains its queue into it first) and a worker serves on a
shared port, so either would otherwise live on as an orphan. Each child starts a thread that
checks once a second whether its parent is still the one that started it; when the parent
is gone the child is re-parented (to init or a subreaper) and exits at once.

Polling getppid() is used rather than prctl(PR_SET_PDEATHSIG): that signal follows the
parent *thread* that forked, and the process pool may start its worker from any thread.
"""

from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 1.0
ORPHAN_EXIT_CODE = 70  # EX_SOFTWARE: the parent vanished without stopping us


def exit_with_parent(parent: int, poll_seconds: float = POLL_SECONDS) -> threading.Thread:
    """In a child process: leave as soon as `parent` (the pid that started it, passed down
    by the parent itself: it may be gone before the child gets here) is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(ORPHAN_EXIT_CODE)  # no cleanup: the parent that would collect it is gone

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
