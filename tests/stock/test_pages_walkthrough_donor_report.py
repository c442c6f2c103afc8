"""A donor report says when its figures apply: received and the other flows up to today, whatever the
grant's period, on hand and in transit as of the moment it was read; on its page, in its downloads
and in the reports' printable version. An item whose every figure is 0 has no row."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reliefops.core.roles import Role
from reliefops.partners.importers import grants_import_file
from reliefops.partners.models import Grant
from reliefops.stock import selectors
from reliefops.stock.services import CountLine, movement_reverse, stock_count
from tests.factories import GrantFactory
from tests.stock.conftest import DAY
from tests.stock.entrypoints.conftest import stocked, waybill, web_as  # noqa: F401
from tests.stock.entrypoints.test_views import text

# 14:05 in Pakistan (the project's time zone) on the server's day, 30 Nov 2026
NOW = dt.datetime(2026, 11, 30, 9, 5, 41, tzinfo=dt.UTC)
WHEN = (
    "Received, distributed, handed to partners, lost and other count every posting up to today "
    "(30 Nov 2026), whatever the grant&#x27;s period; on hand and in transit are as of 30 Nov 2026 14:05."
)


@pytest.fixture
def at_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def downloaded(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_donor_report_says_when_its_figures_apply(stocked, waybill, web_as, at_now):  # noqa: F811
    # given DFID's grant: blankets received at the warehouse and the hub, 120 of them on the road
    op_grant = stocked.dfid
    client = web_as(Role.COORDINATOR)
    # when the grant's report is opened, in the stock pages and in the reports' printable version
    stock_page = text(client.get(reverse("stock:donor-report", args=[op_grant.pk])))
    printable = text(client.get(reverse("reports:donor-report", args=[op_grant.pk])))
    # then each says up to which day its flows run and when its stock was read
    assert WHEN in stock_page
    assert WHEN in printable
    # and the XLSX says it on its About sheet, the CSV on each row (a CSV has no About sheet)
    url = reverse("stock:donor-report", args=[op_grant.pk])
    workbook = load_workbook(io.BytesIO(downloaded(client.get(url, {"format": "xlsx"}))))
    about = [row[0] for row in workbook["About"].iter_rows(values_only=True)]
    assert WHEN.replace("&#x27;", "'") in about
    rows = list(csv.reader(io.StringIO(downloaded(client.get(url, {"format": "csv"})).decode())))
    assert rows[0][-1] == "As of"
    assert rows[1][-1] == "#date+reported"
    assert {row[-1] for row in rows[2:]} == {"2026-11-30"}


def test_the_donor_reports_as_of_is_the_day_where_the_operation_is(stocked, web_as, monkeypatch):  # noqa: F811
    # given a report read at 20:30 UTC on 30 Nov, which is 01:30 on 1 Dec in Pakistan
    monkeypatch.setattr("django.utils.timezone.now", lambda: dt.datetime(2026, 11, 30, 20, 30, tzinfo=dt.UTC))
    url = reverse("stock:donor-report", args=[stocked.dfid.pk])
    client = web_as(Role.COORDINATOR)
    # when it is downloaded as CSV and XLSX
    rows = list(csv.reader(io.StringIO(downloaded(client.get(url, {"format": "csv"})).decode())))
    sheet = load_workbook(io.BytesIO(downloaded(client.get(url, {"format": "xlsx"}))))["Donor report"]
    # then As of is that day in Pakistan, written YYYY-MM-DD, and a date cell of the workbook
    assert {row[-1] for row in rows[2:]} == {"2026-12-01"}
    cells = [row[-1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert cells
    assert all(isinstance(value, dt.datetime) for value in cells)
    assert {value.date() for value in cells} == {dt.date(2026, 12, 1)}


def test_the_grants_download_carries_each_grants_amount_and_currency(stocked, web_as):  # noqa: F811
    # given DFID's grant of GBP 1,250,000.50 and ECHO's of JPY 3,000,000 (no minor units)
    stocked.dfid.currency, stocked.dfid.amount_minor = "GBP", 125_000_050
    stocked.dfid.save()
    stocked.echo.currency, stocked.echo.amount_minor = "JPY", 3_000_000
    stocked.echo.save()
    # when the donor list is downloaded as CSV
    body = downloaded(web_as(Role.COORDINATOR).get(reverse("stock:donor-list"), {"format": "csv"}))
    rows = list(csv.reader(io.StringIO(body.decode())))
    # then each grant's row gives its amount in major units and its currency, after the grant's columns
    assert rows[0][-2:] == ["Amount", "Currency"]
    assert rows[1][-2:] == ["#value", "#currency"]
    assert {row[0]: row[-2:] for row in rows[2:]} == {
        "DFID-2005-07": ["1250000.50", "GBP"],
        "ECHO-2005-01": ["3000000", "JPY"],
    }


def test_the_donor_list_says_a_report_runs_past_its_grants_period(stocked, web_as):  # noqa: F811
    body = text(web_as(Role.COORDINATOR).get(reverse("stock:donor-list")))
    assert "A report counts every posting up to today, also those after the end of its grant" in body
    assert '<th scope="col">Grant period</th>' in body


def test_an_item_counted_and_the_count_reversed_has_no_row_of_zeros(stocked, web_as):  # noqa: F811
    op = stocked
    # given 5 CGI sheets found in a count at the hub and credited to DFID, then the count reversed
    count = stock_count(
        actor=op.actor,
        site_id=op.hub.pk,
        counts=[CountLine(item_id=op.cgi.pk, counted=5, surplus_grant_id=op.dfid.pk)],
        counted_on=DAY,
    )
    movement_reverse(actor=op.actor, movement_id=count.movement.pk, reason="counted twice", reversed_on=DAY)
    # when DFID's report is read
    report = selectors.donor_report(grant_id=op.dfid.pk)
    # then CGI sheets, all 0, have no row; the blankets received keep theirs
    assert [row.item_code for row in report.rows] == ["BLANKET"]
    client = web_as(Role.COORDINATOR)
    url = reverse("stock:donor-report", args=[op.dfid.pk])
    assert "CGI-SHEET" not in text(client.get(url))
    rows = list(csv.reader(io.StringIO(downloaded(client.get(url, {"format": "csv"})).decode())))
    assert [row[0] for row in rows[2:]] == ["BLANKET"]


def test_the_donor_list_shows_each_grants_amount_in_its_currency(stocked, web_as):  # noqa: F811
    # given grants in pounds, yen (no minor units) and Kuwaiti dinars (three decimals), and one of no amount
    stocked.dfid.currency, stocked.dfid.amount_minor = "GBP", 125_000_050
    stocked.dfid.save()
    stocked.echo.currency, stocked.echo.amount_minor = "JPY", 3_000_000
    stocked.echo.save()
    GrantFactory(reference="KUWAIT-2005-01", currency="KWD", amount_minor=1_250_500)
    GrantFactory(reference="NONE-2005-01", amount_minor=0)
    # when a coordinator opens the donor list
    body = text(web_as(Role.COORDINATOR).get(reverse("stock:donor-list")))
    # then each grant's row gives its amount, with its currency's decimals, and a dash for no amount
    assert '<th scope="col" class="num">Amount</th>' in body
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in body.split("<tr>")[2:]}
    assert '<td class="num">GBP 1,250,000.50</td>' in rows["DFID-2005-07"]
    assert '<td class="num">JPY 3,000,000</td>' in rows["ECHO-2005-01"]
    assert '<td class="num">KWD 1,250.500</td>' in rows["KUWAIT-2005-01"]
    assert '<td class="num">—</td>' in rows["NONE-2005-01"]


def test_the_grants_download_uploads_again_unchanged(stocked, web_as):  # noqa: F811
    # given DFID's grant of GBP 1,250,000.50 and ECHO's of JPY 3,000,000, downloaded from Donor reports
    stocked.dfid.currency, stocked.dfid.amount_minor = "GBP", 125_000_050
    stocked.dfid.save()
    stocked.echo.currency, stocked.echo.amount_minor = "JPY", 3_000_000
    stocked.echo.save()
    body = downloaded(web_as(Role.COORDINATOR).get(reverse("stock:donor-list"), {"format": "csv"}))
    before = list(Grant.objects.order_by("pk").values())
    # when the file goes back through the grants import, as it is
    counts = grants_import_file(actor=None, data=body)
    # then every grant is read by its hashtags and found unchanged
    assert str(counts) == "0 created, 0 updated, 2 unchanged"
    assert list(Grant.objects.order_by("pk").values()) == before
    # and an amount changed in the file updates its grant
    changed = body.decode().replace("1250000.50", "1300000.00").encode()
    assert str(grants_import_file(actor=None, data=changed)) == "0 created, 1 updated, 1 unchanged"
    assert Grant.objects.get(pk=stocked.dfid.pk).amount_minor == 130_000_000
