"""A large CSV 4W is read in two processes at once: the second part of the file in a forked child.
Whatever the file, the result must be the one a single process gives: the same rows, problems,
notes and dates, with the file's row numbers."""

from __future__ import annotations

import hashlib
import os

import pytest

from reliefops.cluster import parallel
from reliefops.cluster.importers import parse_activity_file
from reliefops.cluster.services import bulk
from reliefops.core.errors import InvalidInput
from tests.cluster.conftest import four_w_csv, make_children_fail, row

pytestmark = pytest.mark.skipif(not parallel.available(), reason="needs fork and a second core")


def _rows(count: int) -> list[dict[str, str]]:
    """Rows of every kind: good ones, bad ones and total rows in both parts of the file, and dates
    that read both ways (03/11/2006) until a late one shows the column writes the month first."""
    rows = []
    for n in range(count):
        values = row(id=f"R{n}", qty=str(10 + n), hh=str(5 + n), start="03/11/2006", end="04/11/2006")
        if n % 37 == 5:
            values["adm2"] = "PK999"  # unknown P-code
        if n % 53 == 7:
            values["qty"], values["hh"] = "4.5", "x"
        if n % 41 == 9:
            values["prog"] = "Oxfam International"  # an alias
        if n % 29 == 3:
            values["impl"], values["m"], values["f"] = "IRW", "12", "14"
        rows.append(values)
    rows[count // 4] = {"id": "", "prog": "Total", "qty": "999"}
    rows[count - 3] = {"id": "", "prog": "Total", "qty": "998"}
    rows[count - 2].update(start="11/29/2006", end="11/30/2006")  # only month first: both columns are
    return rows


def _read(data: bytes, settings, *, parallel_from: int) -> tuple:
    settings.CLUSTER_PARALLEL_READ_BYTES = parallel_from
    try:
        report = parse_activity_file(data, filename="4w.csv")
    except InvalidInput as exc:
        return ("refused", [str(p) for p in exc.problems])
    return (
        report.rows,
        [str(p) for p in report.problems],
        report.notes,
        report.rows_read,
        report.kept_aside,
        report.digest,
    )


@pytest.fixture
def forks(monkeypatch) -> list[str]:
    """What became of each child the reader forked: "used" (its rows were taken) or "not used"."""
    calls: list[str] = []
    real = parallel.in_child

    def counted(function, then=None):
        child = real(function, then)
        result = child.result

        def recorded(**options):
            value = result(**options)
            calls.append("used" if value is not None else "not used")
            return value

        child.result = recorded
        return child

    monkeypatch.setattr(parallel, "in_child", counted)
    return calls


def _line_ends(text: str, kind: str) -> str:
    lines = text.split("\n")
    if kind == "crlf":
        return "\r\n".join(lines)
    if kind == "mixed":  # old Mac line ends among Unix ones: each lone \r ends a row too
        return "".join(line + ("\r" if n % 3 == 0 else "\n") for n, line in enumerate(lines[:-1]))
    return text


@pytest.mark.parametrize("line_end", ["lf", "crlf", "mixed"])
def test_a_file_read_in_two_processes_reads_as_in_one(cluster, settings, forks, line_end):
    text = four_w_csv(_rows(400), above=[["Shelter cluster 4W - November 2005"]]).decode()
    data = _line_ends(text, line_end).encode()
    alone = _read(data, settings, parallel_from=len(data) + 1)
    assert forks == []
    together = _read(data, settings, parallel_from=1)
    assert forks == ["used"]
    assert together == alone
    rows, problems, notes, rows_read, _, _ = together
    assert rows_read == 398
    assert len(rows) < 398
    # The file's own row numbers, in both parts: a title, the headers and the hashtags come first.
    assert problems[0].startswith("row 9, #adm2+code: 'PK999' is not a P-code")
    assert any(p.startswith("row 379, #adm2+code: 'PK999'") for p in problems)
    assert rows[0].start_date.isoformat() == "2006-03-11"  # read month first, as the column is
    assert "left out 2 total rows (row 104, 401)" in notes


def test_a_file_whose_child_fails_is_read_by_the_parent_alone(cluster, settings, monkeypatch):
    data = four_w_csv(_rows(300))
    alone = _read(data, settings, parallel_from=len(data) + 1)
    make_children_fail(monkeypatch)
    assert _read(data, settings, parallel_from=1) == alone


def test_a_file_with_quotes_is_read_in_one_process(cluster, settings, forks):
    rows = _rows(200)
    rows[150]["place"] = 'Camp "Meera", upper'
    data = four_w_csv(rows)
    assert _read(data, settings, parallel_from=1) == _read(data, settings, parallel_from=len(data) + 1)
    assert forks == []


def test_a_formula_in_the_second_part_is_refused_as_in_one_process(cluster, settings, forks):
    rows = _rows(200)
    rows[190]["qty"] = "=1+2"
    data = four_w_csv(rows)
    refused = _read(data, settings, parallel_from=1)
    assert refused == _read(data, settings, parallel_from=len(data) + 1)
    assert refused[0] == "refused"
    assert "formula" in refused[1][0]
    assert forks == ["not used"]  # the child found it in the second part; the file was read whole


@pytest.mark.parametrize("where", [20, 191], ids=["first-part", "second-part"])
def test_an_apostrophe_before_a_formula_character_is_taken_off_as_in_one_process(
    cluster, settings, forks, where
):
    # as a reliefops CSV download writes a text that starts like a formula
    rows = _rows(200)
    rows[where]["place"] = "'-Bana camp"
    data = four_w_csv(rows)
    together = _read(data, settings, parallel_from=1)
    assert together == _read(data, settings, parallel_from=len(data) + 1)
    assert [r.location for r in together[0] if r.row_id == f"R{where}"] == ["-Bana camp"]


def test_a_cell_over_the_size_limit_in_the_second_part_is_refused_at_its_line(cluster, settings, forks):
    settings.IMPORT_MAX_CELL = 60
    rows = _rows(200)
    rows[180]["place"] = "x" * 70
    data = four_w_csv(rows)
    refused = _read(data, settings, parallel_from=1)
    assert refused == _read(data, settings, parallel_from=len(data) + 1)
    assert refused[0] == "refused"
    assert refused[1][0] == "line 183, file: not readable as CSV: field larger than field limit (60)"
    assert forks == ["not used"]


def test_a_split_size_of_zero_keeps_every_file_in_one_process(cluster, settings, forks):
    data = four_w_csv(_rows(200))
    assert _read(data, settings, parallel_from=0) == _read(data, settings, parallel_from=len(data) + 1)
    assert forks == []


def test_a_child_sends_back_what_its_function_returns():
    assert parallel.in_child(lambda: {"rows": [(1, "a", None)]}).result() == {"rows": [(1, "a", None)]}


def test_a_child_that_fails_gives_nothing():
    assert parallel.in_child(lambda: 1 / 0).result() is None


def test_a_child_that_takes_too_long_is_stopped():
    import time

    child = parallel.in_child(lambda: time.sleep(30))
    started = time.monotonic()
    assert child.result(timeout=0.5) is None
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):  # stopped and waited for: no process is left behind
        os.waitpid(child.pid, os.WNOHANG)


def test_a_child_goes_on_after_sending_its_result(tmp_path):
    # given a child that sends its result, then does more work with it
    mark = tmp_path / "mark"

    def more(value):
        with open(mark, "w") as handle:
            handle.write(str(sum(value)))

    child = parallel.in_child(lambda: [1, 2, 3], then=more)
    # then the parent has the result, and learns that the further work ended well
    assert child.result() == [1, 2, 3]
    assert child.finish(timeout=10)
    assert mark.read_text() == "6"


def test_a_child_whose_further_work_fails_still_gives_its_result():
    def more(value):
        raise OSError("the disk is full")

    child = parallel.in_child(lambda: "rows", then=more)
    assert child.result() == "rows"
    assert not child.finish(timeout=10)


def test_a_child_whose_further_work_takes_too_long_is_stopped():
    import time

    child = parallel.in_child(lambda: "rows", then=lambda value: time.sleep(30))
    assert child.result() == "rows"
    started = time.monotonic()
    assert not child.finish(timeout=0.3)
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)


def test_a_child_read_ahead_goes_on_while_the_parent_works(tmp_path):
    # given a child that sends a result far larger than a pipe holds, then marks that it went on
    import time

    mark = tmp_path / "mark"
    big = [f"{n:0100d}" for n in range(20_000)]  # about 2 MB pickled

    def more(value):
        mark.write_text(str(len(value)))

    child = parallel.in_child(lambda: big, then=more)
    # when the parent takes what the child sends in a thread, and works on meanwhile
    child.read_ahead()
    deadline = time.monotonic() + 20
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    # then the child went on to its further work before the parent asked for the result
    assert mark.read_text() == "20000"
    assert child.result() == big
    assert child.finish(timeout=10)


def test_a_child_read_ahead_that_fails_or_takes_too_long_gives_nothing():
    import time

    failing = parallel.in_child(lambda: 1 / 0)
    failing.read_ahead()
    assert failing.result() is None
    slow = parallel.in_child(lambda: time.sleep(30))
    slow.read_ahead()
    started = time.monotonic()
    assert slow.result(timeout=0.5) is None
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):  # stopped and waited for
        os.waitpid(slow.pid, os.WNOHANG)


def test_the_file_digest_is_made_beside_the_reading_in_both_ways(cluster, settings, forks):
    # the file's digest (made by a thread while the rows are read) is the SHA-256 of its bytes
    data = four_w_csv(_rows(200))
    split, whole = _read(data, settings, parallel_from=1), _read(data, settings, parallel_from=len(data) + 1)
    assert forks == ["used"]
    assert split[-1] == whole[-1] == hashlib.sha256(data).hexdigest()


def test_the_key_values_of_a_file_read_in_two_processes_are_those_of_its_rows(cluster, settings, forks):
    # given a file read in two processes (its rows' organisations, activities, places and sites)
    settings.CLUSTER_PARALLEL_READ_BYTES = 1
    rows = [row(id=f"NRC-{n}", adm3=("PK50401", "PK50402", "")[n % 3]) for n in range(60)]
    rows += [row(id=f"IRW-{n}", reporting="IRW", prog="UNHCR", impl="IRW", adm2="PK522") for n in range(60)]
    report = parse_activity_file(four_w_csv(rows), filename="4w.csv")
    assert forks == ["used"]
    # then the key values gathered by both are each column's values over all the rows, which the
    # check of the keys written looks up instead of going over the rows again
    assert report.key_values == bulk.key_values(report.rows)
    assert len(report.key_values["admin_area_id"]) == 4
    # and a file read in one process gathers none: the check goes over its rows
    settings.CLUSTER_PARALLEL_READ_BYTES = 10**9
    assert parse_activity_file(four_w_csv(rows), filename="4w.csv").key_values is None
