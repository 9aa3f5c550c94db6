"""Which processes of a session or process group are still alive, read from /proc (the crash and shutdown tests)."""

from __future__ import annotations

import time
from pathlib import Path


def live_processes(*, session: int | None = None, group: int | None = None) -> list[tuple[int, str]]:
    """(pid, command line) of every live process in ``session`` or process ``group``; zombies count as gone."""
    if (session is None) == (group is None):
        raise ValueError("give exactly one of session= or group=")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # the process ended while we looked
            continue
        # Fields after the command name, which sits in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp, sid = fields[0], int(fields[2]), int(fields[3])
        if state in ("Z", "X"):
            continue
        if (session is not None and sid == session) or (group is not None and pgrp == group):
            found.append((int(entry.name), cmdline))
    return found


def wait_until_gone(*, session: int | None = None, group: int | None = None, timeout: float = 30.0) -> list[tuple[int, str]]:
    """Poll until no process of ``session``/``group`` is alive (the kernel reaps killed children soon after); the survivors."""
    deadline = time.monotonic() + timeout
    while (left := live_processes(session=session, group=group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
