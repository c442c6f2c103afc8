"""`reliefops sitrep`: Markdown or HTML, to stdout or a file, and a refused period."""

from __future__ import annotations

import datetime as dt
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
    # the truck of 5 November was not yet on its way to the hub on 31 October
    assert "| hub | district | points and camps served | waybills on the way on 31 October 2005 |" in out
    assert "| Balakot hub | Mansehra | 1 | 0 |" in out


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
    assert "| \\<img src=x onerror=alert(1)\\> \\| hub | Mansehra | 1 | 0 |" in out
    assert "| item | \\<img src=x onerror=alert(1)\\> \\| hub | Islamabad warehouse |" in out


def test_the_sitrep_gives_each_hubs_figures_item_by_item_never_added_across_items(ledger):
    # given 20 CGI sheets handed out at the Balakot hub beside its 100 blankets (it and its point)
    from reliefops.stock.services import StockLine, stock_distribute
    from tests.stock.conftest import receive

    receive(ledger, ledger.hub, ledger.cgi, 50, ledger.dfid, "GRN-C1")
    stock_distribute(
        actor=ledger.actor,
        site_id=ledger.hub.pk,
        lines=[StockLine(item_id=ledger.cgi.pk, quantity=20)],
        distributed_on=dt.date(2005, 11, 10),
    )
    # when the sitrep is written
    out, _ = run("--format", "md")
    hubs = out.split("## Hubs", 1)[1].split("## Gaps", 1)[0]
    # then the hubs' table holds no quantity that adds blankets and sheets together (120, 190)
    assert "| hub | district | points and camps served | waybills on the way |" in hubs
    assert "| Balakot hub | Mansehra | 1 | 1 |" in hubs
    # and what each hub handed over, and holds, is given item by item
    assert (
        "Handed over by each hub and the distribution points it supplies, since the start of the "
        "operation:\n\n| item | Balakot hub | Islamabad warehouse |\n|---|---|---|\n"
        "| Blanket | 100 | 0 |\n| CGI sheet | 20 | 0 |\n"
    ) in hubs
    assert (
        "On hand today at each hub itself (its points hold their own stock):\n\n"
        "| item | Balakot hub | Islamabad warehouse |\n|---|---|---|\n"
        "| Blanket | 160 | 470 |\n| CGI sheet | 30 | 0 |\n"
    ) in hubs
    assert not re.search(r"\b(120|190)\b", hubs)
    # and the HTML file (and so the page, from the same template) says the same
    html, _ = run("--format", "html")
    assert (
        '<tr data-item="CGI-SHEET"><th scope="row">CGI sheet</th>'
        '<td class="num">20</td><td class="num">0</td></tr>'
    ) in html
    assert "Handed over by each hub and the distribution points it supplies, since the start" in html


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
        pytest.param("2005-11-31:", "2005-11-31 is no day of the calendar", id="no-such-day"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(period, message):
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("sitrep", "--period", period, stdout=io.StringIO(), stderr=err)
    # The sitrep only reads: its refusal does not speak of writing, as an import's does.
    assert str(refused.value) == "1 problem"
    assert err.getvalue().startswith("period:")
    assert message in err.getvalue()


def test_a_bad_format_is_refused():
    with pytest.raises(CommandError):
        run("--format", "pdf")


def test_a_period_starting_after_today_is_refused_by_the_command():
    from django.utils import timezone

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sitrep", "--period", f"{tomorrow}:", stdout=io.StringIO(), stderr=err)
    assert f"the period starts ({tomorrow}) after today" in err.getvalue()
