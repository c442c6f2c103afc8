"""The `reliefops` console command: Django's management commands behind one entry point."""

import os
import sys

# The exit status of a command whose reader went away (128 + SIGPIPE), as shells show for a
# program the signal stopped.
READER_GONE = 141


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reliefops.settings")
    from django.core.management import execute_from_command_line

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


if __name__ == "__main__":
    main()
