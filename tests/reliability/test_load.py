"""The load test in its smoke size: 50 clients for 10 seconds against gunicorn and PostgreSQL.

bench/load_test.py runs the full size (60 seconds) and prints the figures of docs/performance.md;
here it runs on a copy of the test run's scenario database and must end with no error and no lost
or doubled movement. PostgreSQL only: the server database is the one many clients share.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.reliability.conftest import ROOT, SUFFIX, WORKER, engine
from tests.scenario_template import ON_THE_SCENARIOS_WORKER

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the load test runs against PostgreSQL: run the suite with DATABASE_URL=postgresql://... "
        "(make test does so when RELIEFOPS_TEST_DATABASE_URL is set)",
    ),
    ON_THE_SCENARIOS_WORKER,
]


def test_fifty_clients_for_ten_seconds_lose_and_double_nothing(scenario_template):
    # Given the scenario on PostgreSQL
    assert engine() == "postgresql"
    name = f"bench_load_smoke_{WORKER}{SUFFIX}".lower()

    # When 50 clients record handovers and dispatch waybills through gunicorn for 10 seconds
    done = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "bench/load_test.py", "--seconds", "10", "--clients", "50", "--name", name,
         "--template", scenario_template.name, "--households", "600"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )  # fmt: skip

    # Then every request was answered without error and every accepted posting is stored once
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "errors              0" in done.stdout
    assert "lost or mismatched  0; doubled 0" in done.stdout
    assert "RESULT: no error, no lost or doubled movement" in done.stdout
