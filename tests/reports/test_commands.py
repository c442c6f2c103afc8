"""`reliefops sitrep`: Markdown or HTML, to stdout or a file, and a refused period."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("sitrep", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_sitrep_is_written_as_markdown(ledger):
    out, _ = run("--period", "2005-10-01:2005-10-31", "--format", "md")
    assert out.startswith("# IOM situation report\n")
    assert "From 1 October 2005 to 31 October 2005, IOM has distributed: 60 blankets." in out
    assert "| Balakot hub | Mansehra | 1 | 60 |" in out


def test_names_in_the_markdown_sitrep_stay_text(ledger):
    # given an item and a site whose names carry markup, a link and a line break
    from reliefops.catalog.models import Item
    from reliefops.places.models import Site

    payload = "<script>alert(1)</script>[x](javascript:alert(1))\n\n# Injected"
    Item.objects.filter(code="BLANKET").update(name=payload)
    Site.objects.filter(name="Balakot hub").update(name="<img src=x onerror=alert(1)> | hub")
    out, _ = run("--period", "2005-10-01:2005-10-31", "--format", "md")
    # then Markdown reads them as text: no tag, no link, no heading, no extra table cell
    assert not re.search(r"(?<!\\)[<\[\]]", out)  # every < [ ] of a name escaped
    assert not re.search(r"(?<!\\)\]\(javascript:", out)
    assert "\n# Injected" not in out
    assert "\\<script\\>alert(1)\\</script\\>\\[x\\](javascript:alert(1)) \\# Injected" in out
    assert "| \\<img src=x onerror=alert(1)\\> \\| hub | Mansehra | 1 | 60 | 160 | 1 |" in out


def test_the_sitrep_is_written_as_html_to_a_file(ledger, tmp_path):
    target = tmp_path / "sitrep.html"
    out, err = run("--format", "html", "--output", str(target))
    html = target.read_text(encoding="utf-8")
    assert out == ""
    assert f"wrote {target}" in err
    assert html.startswith("<!doctype html>")
    assert "In total, IOM has distributed: 100 blankets." in html
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org", "")


def test_an_empty_operation_still_has_a_sitrep():
    out, _ = run()
    assert "IOM has distributed none of its reported items since the start of the operation." in out
    assert "No contact recorded" in out


@pytest.mark.parametrize(
    ("period", "message"),
    [
        pytest.param("2005-10", "has no ':'", id="no-colon"),
        pytest.param("2005-11-31:", "is not a date", id="no-such-day"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(period, message):
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("sitrep", "--period", period, stdout=io.StringIO(), stderr=err)
    # The sitrep only reads: its refusal does not speak of writing, as an import's does.
    assert str(refused.value) == "1 problem"
    assert "input, period:" in err.getvalue()
    assert message in err.getvalue()


def test_a_bad_format_is_refused():
    with pytest.raises(CommandError):
        run("--format", "pdf")
