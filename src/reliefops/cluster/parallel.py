"""Work done in a forked child process beside this one, on the server's second core.

`in_child(function)` forks; the child calls the function, sends back what it returns (pickled,
through a pipe) and leaves at once by `os._exit`, running none of the parent's clean-up. The
parent goes on with its own work, then takes the result. The child never uses the database: the
function is given everything it needs before the fork, and the child forgets its copies of the
database connections, so that a query would open a connection of its own rather than talk over
the parent's. When anything goes wrong in the child, `result()` is None and the caller does the
work itself: the outcome is the same, only later.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any

from django.db import connections


def available() -> bool:
    """Whether a child helps: the platform forks, and there is a second core to run it on."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


class Child:
    """A forked child computing a result."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe

    def result(self, timeout: float | None = None) -> Any:
        """What the function returned in the child; None when the child failed, or had not
        finished after `timeout` seconds (it is then stopped)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks = []
        while True:
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([self.pipe], [], [], wait)
            if not ready:
                self.cancel()
                return None
            chunk = os.read(self.pipe, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self.pipe)
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not chunks:
            return None
        return pickle.loads(b"".join(chunks))  # noqa: S301 - our own child's bytes, through our own pipe

    def cancel(self) -> None:
        """Stop the child and wait for it (the parent gave up on its result)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.close(self.pipe)
        os.waitpid(self.pid, 0)


def in_child(function: Callable[[], Any]) -> Child:
    """Fork a child that calls `function` and sends back what it returns."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves by os._exit below
        status = 1
        try:
            os.close(read_end)
            for connection in connections.all(initialized_only=True):
                connection.connection = None  # the parent's socket or file stays the parent's alone
            data = pickle.dumps(function(), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return Child(pid, read_end)
