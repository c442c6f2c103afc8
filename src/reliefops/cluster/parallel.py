"""Work done in a forked child process beside this one, on the server's second core.

`in_child(function)` forks; the child calls the function, sends back what it returns (pickled,
through a pipe) and leaves at once by `os._exit`, running none of the parent's clean-up. The
parent goes on with its own work, then takes the result. The child never uses the parent's
database connections: the function is given everything it needs before the fork, and the child
forgets its copies of the connections, so that a query would open a connection of its own rather
than talk over the parent's. When anything goes wrong in the child, `result()` is None and the
caller does the work itself: the outcome is the same, only later.

`read_ahead()` takes what the child sends in a thread of the parent as it comes, so that a child
done before the parent is not held up by a full pipe while the parent works on.

`in_child(function, then=more)` lets the child go on after sending its result: it calls
`more(result)` (say, to write the rows it read into a side file) while the parent already uses
the result. `finish()` then tells whether that further work ended well.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections


def available() -> bool:
    """Whether a child helps: the platform forks, and there is a second core to run it on."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


class Child:
    """A forked child computing a result (and, with `then`, doing more work after sending it)."""

    def __init__(self, pid: int, pipe: int, *, more: bool = False) -> None:
        self.pid = pid
        self.pipe = pipe
        self.more = more
        self.status: int | None = None  # the exit status, once the child has been waited for
        self.chunks: list[bytes] = []  # what the child has sent so far
        self.complete = False  # whether the child has sent all it will send
        self.reader: threading.Thread | None = None  # see read_ahead

    def read_ahead(self) -> None:
        """Take what the child sends as it comes, in a thread of this process, while this process
        goes on with its own work: a child that has sent its result is not held up by a full pipe
        until result() is called (the thread waits in the system, not holding the interpreter)."""
        if self.reader is None and self.pipe >= 0:
            self.reader = threading.Thread(target=self._read_all, name="child-result", daemon=True)
            self.reader.start()

    def _read_all(self, deadline: float | None = None) -> None:
        """Read the pipe to its end into self.chunks; self.complete tells whether it got there
        (not when `deadline` passed first)."""
        while True:
            wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                ready, _, _ = select.select([self.pipe], [], [], wait)
                if not ready:
                    return
                chunk = os.read(self.pipe, 1 << 20)
            except (OSError, ValueError):  # the pipe was closed: the child was stopped
                return
            if not chunk:
                self.complete = True
                return
            self.chunks.append(chunk)

    def result(self, timeout: float | None = None) -> Any:
        """What the function returned in the child; None when the child failed, or had not
        finished after `timeout` seconds (it is then stopped)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.reader is not None:
            self.reader.join(timeout)
        else:
            self._read_all(deadline)
        if not self.complete:
            self.cancel()
            return None
        chunks, self.chunks = self.chunks, []
        self._close_pipe()
        if not self.more and self._wait(block=True) != 0:
            return None
        try:
            # Our own child's bytes, through our own pipe. A child that died while sending leaves
            # them cut short: they do not unpickle.
            return pickle.loads(b"".join(chunks)) if chunks else self._failed()  # noqa: S301
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError):
            return self._failed()

    def finish(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the child to end; whether it ended well (the work it
        did after sending its result, if any, included). A child still running is stopped."""
        deadline = time.monotonic() + timeout
        while self._wait(block=False) is None:
            if time.monotonic() >= deadline:
                self.cancel()
                return False
            time.sleep(0.01)
        return self.status == 0

    def cancel(self) -> None:
        """Stop the child and wait for it (the parent gave up on what it does)."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if self.reader is not None:  # it sees the end of the pipe once the child is gone
            self.reader.join()
        self._close_pipe()
        self._wait(block=True)

    def _failed(self) -> None:
        self.cancel()
        return None

    def _close_pipe(self) -> None:
        if self.pipe >= 0:
            os.close(self.pipe)
            self.pipe = -1

    def _wait(self, *, block: bool) -> int | None:
        """The child's exit status once it has ended (None while it runs, when not blocking)."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
            if pid == 0:
                return None
            self.status = status
        return self.status


def in_child(function: Callable[[], Any], then: Callable[[Any], None] | None = None) -> Child:
    """Fork a child that calls `function` and sends back what it returns; with `then`, the child
    goes on to call `then(result)` once the result is sent."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves by os._exit below
        status = 1
        try:
            os.close(read_end)
            for connection in connections.all(initialized_only=True):
                connection.connection = None  # the parent's socket or file stays the parent's alone
            value = function()
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            if then is not None:
                then(value)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return Child(pid, read_end, more=then is not None)
