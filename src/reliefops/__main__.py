"""The `reliefops` console command: Django's management commands behind one entry point."""

import os
import sys

# The exit status of a command whose reader went away (128 + SIGPIPE), as shells show for a
# program the signal stopped.
READER_GONE = 141


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reliefops.settings")
    from django.core.management import execute_from_command_line
    from django.db import Error as DatabaseError

    from reliefops.env import ConfigurationError

    try:
        execute_from_command_line(sys.argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The output was piped into a command that stopped reading (`reliefops stock report | head`):
        # stop quietly, without a traceback. What the command wrote to the database stays written;
        # the rest of its output goes nowhere, including what Python flushes on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(READER_GONE)
    except ConfigurationError as exc:
        # The environment is wrong: one line says which variable and why (the settings may have
        # written it already, before the traceback a server would print).
        if not exc.announced:
            sys.stderr.write(f"ConfigurationError: {exc}\n")
        sys.exit(1)
    except DatabaseError as exc:
        # Django's own commands (`migrate`, `check`, `shell`) on a database that cannot be opened:
        # one line saying which and what to do, as reliefops' own commands say it.
        from reliefops.core.cli import database_unavailable

        message = database_unavailable(exc)
        if message is None or "--traceback" in sys.argv:
            raise
        sys.stderr.write(f"CommandError: {message}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
