"""Downloads of the list pages: every table as CSV and XLSX with its header, its HXL row and every
row its filters select; formula-like text neutralised; households' personal data only with the
export right, and every export of it audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from reliefops.cluster.models import ImportBatch
from reliefops.core import exports
from reliefops.core.exports import Column, Table, csv_bytes, neutralise, xlsx_bytes
from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from reliefops.households.services import cards_issue
from reliefops.stock.services import StockLine, waybill_dispatch
from tests.cluster import conftest as cluster_conftest
from tests.factories import (
    AdminAreaFactory,
    ItemFactory,
    KitComponentFactory,
    KitFactory,
    OrganisationFactory,
    SiteFactory,
    make_user,
)
from tests.households import conftest as households_conftest
from tests.stock import conftest as stock_conftest

cluster = cluster_conftest.cluster
upload = cluster_conftest.upload

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body(response).decode("utf-8"), newline="")))


def xlsx_rows(response) -> list[list[Any]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    workbook = load_workbook(io.BytesIO(body(response)))
    return [[unescape(v) for v in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]


def unescape(value: Any) -> Any:
    """XLSX stores a carriage return as `_x000D_`; openpyxl reads it back as written."""
    return value.replace("_x000D_", "\r") if isinstance(value, str) else value


def both(client: Client, url: str, params: dict[str, str]) -> tuple[list[list[str]], list[list[Any]]]:
    """The page's CSV and XLSX for the same filters."""
    return (
        csv_rows(client.get(url, {**params, "format": "csv"})),
        xlsx_rows(client.get(url, {**params, "format": "xlsx"})),
    )


def column(rows: list[list[Any]], header: str) -> list[Any]:
    index = rows[0].index(header)
    return [row[index] for row in rows[2:]]


# --- the writer -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+92 300 1234567", "'+92 300 1234567"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Bala Kot", "Bala Kot"),
        ("", ""),
        ("a=b", "a=b"),
    ],
    ids=["equals", "plus", "minus", "at", "tab", "carriage-return", "plain", "empty", "inside"],
)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(text, written):
    assert neutralise(text) == written


TABLE = Table(
    "t",
    (
        Column("Name", "#org+name", "name"),
        Column("Count", "#output+num", "count"),
        Column("Day", "#date", "day"),
        Column("Open", "#status", "open"),
    ),
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cluster-gaps-district-hxl", "cluster-gaps-district-hxl.csv"),
        ("distribution-list-xss/../../r1.html", "distribution-list-xss-r1-html.csv"),
        ("distribution-list-wr/2006", "distribution-list-wr-2006.csv"),
        ("../", "download.csv"),
    ],
)
def test_a_download_is_named_with_letters_digits_and_dashes_only(name, expected):
    assert exports.filename(Table(name, ()), "csv") == expected


def test_csv_and_xlsx_carry_header_and_hxl_rows_and_keep_numbers_numbers():
    rows = [{"name": text, "count": -3, "day": dt.date(2005, 10, 8), "open": True} for text in HOSTILE] + [
        {"name": "NRC", "count": 12, "day": None, "open": False}
    ]
    written = list(csv.reader(io.StringIO(csv_bytes(TABLE, rows).decode(), newline="")))
    assert written[:2] == [["Name", "Count", "Day", "Open"], ["#org+name", "#output+num", "#date", "#status"]]
    assert [r[0] for r in written[2:]] == ["'" + t for t in HOSTILE] + ["NRC"]
    assert written[2][1:] == ["-3", "2005-10-08", "yes"]
    assert written[-1][1:] == ["12", "", "no"]

    sheet = load_workbook(io.BytesIO(xlsx_bytes(TABLE, rows))).worksheets[0]
    assert [c.value for c in sheet[2]] == ["#org+name", "#output+num", "#date", "#status"]
    for number, text in enumerate(HOSTILE, start=3):
        cell = sheet.cell(row=number, column=1)
        assert (unescape(cell.value), cell.data_type) == (text, "s")  # a string, never a formula
    assert sheet.cell(row=3, column=2).value == -3
    assert sheet.cell(row=3, column=2).data_type == "n"
    assert sheet.cell(row=3, column=3).value == dt.datetime(2005, 10, 8)  # noqa: DTZ001 - a spreadsheet date has no zone


def test_a_csv_is_streamed_in_chunks_not_built_at_once(monkeypatch):
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 10)
    produced = []

    def rows():
        for n in range(35):
            produced.append(n)
            yield {"name": f"row {n}", "count": n, "day": None, "open": False}

    chunks = exports.csv_chunks(TABLE, rows())
    first = next(chunks)
    assert len(produced) == 10  # the first chunk went out after ten rows were read
    assert first.count(b"\r\n") == 12
    rest = list(chunks)
    assert len(rest) == 3
    assert len(produced) == 35


# --- the reference pages ----------------------------------------------------------------------------


@pytest.fixture
def admin(kashmir):
    return client_of(make_user(Role.ADMIN))


@pytest.mark.parametrize(
    ("url_name", "params", "key", "tag", "expected"),
    [
        ("web:adminarea-list", {"level": "district"}, "P-code", "#adm+code", {"PK522", "PK504", "PK107"}),
        ("web:site-list", {"kind": "hub"}, "Code", "#loc+code", {"HUB-MAN", "HUB-BKT", "HUB-MZD"}),
        ("web:organisation-list", {"type": "donor"}, "Acronym", "#org+acronym", {"DFID"}),
        ("web:item-list", {"category": "shelter"}, "Code", "#item+code", {"SHL-TARP", "SHL-CGI"}),
        ("web:kit-list", {"q": "wint"}, "Kit code", "#item+code+kit", {"KIT-WINT"}),
    ],
    ids=["admin-areas", "sites", "organisations", "items", "kits"],
)
def test_a_reference_page_downloads_its_filtered_rows(admin, url_name, params, key, tag, expected):
    plain, sheet = both(admin, reverse(url_name), params)
    index = plain[0].index(key)
    assert plain[1][index] == tag
    assert set(column(plain, key)) == expected
    assert sheet[0] == plain[0]
    assert list(sheet[1]) == plain[1]
    assert set(column(sheet, key)) == expected


def test_a_download_holds_every_row_not_only_the_page_shown(admin):
    for n in range(60):
        ItemFactory(code=f"NFI-X{n:02d}", name=f"Extra item {n}")
    page = admin.get(reverse("web:item-list"), {"q": "NFI-X", "page": "2"})
    assert "Download CSV" in page.content.decode()
    response = admin.get(reverse("web:item-list"), {"q": "NFI-X", "page": "2", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="items.csv"'
    assert len(csv_rows(response)) == 2 + 60


def test_the_download_links_keep_the_filters_and_drop_the_page(admin):
    page = admin.get(reverse("web:adminarea-list"), {"level": "district", "page": "1"}).content.decode()
    assert 'href="/places/areas/?level=district&amp;format=csv"' in page
    assert 'href="/places/areas/?level=district&amp;format=xlsx"' in page


def test_formula_like_names_are_neutralised_in_the_files_of_a_page(admin):
    for n, text in enumerate(HOSTILE):
        OrganisationFactory(name=text, acronym=f"H{n}")
    plain, sheet = both(admin, reverse("web:organisation-list"), {"q": ""})
    names = column(plain, "Name")
    for text in HOSTILE:
        assert "'" + text in names
        assert text not in names
    assert set(HOSTILE) <= set(column(sheet, "Name"))
    grants = column(sheet, "Grants")
    assert all(isinstance(g, int) for g in grants)


def test_an_anonymous_download_goes_to_sign_in(kashmir):
    response = Client().get(reverse("web:site-list"), {"format": "csv"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- the stock pages --------------------------------------------------------------------------------


@pytest.fixture
def stock(db):
    op = stock_conftest.build_operation()
    stock_conftest.receive(op, op.warehouse, op.blanket, 500, op.dfid, "GRN-W1")
    stock_conftest.receive(op, op.hub, op.bucket, 50, op.echo, "GRN-H2")
    stock_conftest.receive(op, op.warehouse, op.cgi, 80, op.echo, "=cmd|' /C calc'!A0")
    op.waybill = waybill_dispatch(
        actor=op.actor,
        from_site_id=op.warehouse.pk,
        to_site_id=op.hub.pk,
        lines=[StockLine(item_id=op.blanket.pk, quantity=120)],
        dispatched_on=stock_conftest.DAY,
        expected_on=stock_conftest.DAY + dt.timedelta(days=2),
    ).waybill
    op.admin = client_of(make_user(Role.ADMIN))
    return op


def test_stock_on_hand_downloads_by_site_and_by_grant(stock):
    plain, sheet = both(stock.admin, reverse("stock:onhand-list"), {"site": str(stock.warehouse.pk)})
    assert plain[1] == ["#loc+name", "#item+code", "#item+name", "#output+num+onhand"]
    assert sorted(zip(column(plain, "Item code"), column(plain, "Quantity"), strict=True)) == [
        ("BLANKET", "380"),
        ("CGI-SHEET", "80"),
    ]
    assert sorted(column(sheet, "Quantity")) == [80, 380]
    by_grant = csv_rows(stock.admin.get(reverse("stock:onhand-list"), {"by_grant": "on", "format": "csv"}))
    assert "#activity+code+grant" in by_grant[1]
    assert {"DFID-2005-07", "ECHO-2005-01"} == set(column(by_grant, "Grant"))


def test_a_hub_manager_downloads_only_the_stock_of_his_hubs(stock):
    manager = client_of(make_user(Role.HUB_MANAGER, hubs=[stock.hub]))
    rows = csv_rows(manager.get(reverse("stock:onhand-list"), {"format": "csv"}))
    assert set(column(rows, "Site")) == {"Balakot hub"}


def test_waybills_movements_and_pipeline_download_with_their_filters(stock):
    plain, sheet = both(stock.admin, reverse("stock:waybill-list"), {"status": "in_transit"})
    assert column(plain, "Waybill") == [stock.waybill.number]
    # one row per waybill and item, with that item's quantity (never every item added into "Units")
    assert (column(sheet, "Item code"), column(sheet, "Quantity")) == (["BLANKET"], [120])
    assert "Units" not in sheet[0]
    assert column(sheet, "Dispatched") == [dt.datetime(2005, 10, 20)]  # noqa: DTZ001 - a spreadsheet date has no zone

    receipts = csv_rows(stock.admin.get(reverse("stock:movement-list"), {"kind": "receipt", "format": "csv"}))
    assert sorted(column(receipts, "Reference")) == ["'=cmd|' /C calc'!A0", "GRN-H2", "GRN-W1"]

    transit = csv_rows(stock.admin.get(reverse("stock:pipeline"), {"part": "transit", "format": "csv"}))
    assert transit[1][0] == "#meta+id"
    assert column(transit, "Waybill") == [stock.waybill.number]
    pledges = csv_rows(stock.admin.get(reverse("stock:pipeline"), {"part": "pledges", "format": "csv"}))
    assert pledges[0][0] == "Grant"
    assert pledges[2:] == []


def test_the_donor_report_and_the_stock_card_download(stock):
    report = csv_rows(stock.admin.get(reverse("stock:donor-report", args=[stock.dfid.pk]), {"format": "csv"}))
    blanket = dict(zip(report[0], report[2], strict=True))
    assert (blanket["Item code"], blanket["Received"], blanket["In transit"], blanket["On hand"]) == (
        "BLANKET",
        "500",
        "120",
        "380",
    )
    card = stock.admin.get(
        reverse("stock:onhand-card"),
        {"site": stock.warehouse.pk, "item": stock.blanket.code, "start": "2005-10-01", "end": "2005-10-31"},
    )
    assert "Download XLSX" in card.content.decode()
    plain, sheet = both(
        stock.admin,
        reverse("stock:onhand-card"),
        {
            "site": str(stock.warehouse.pk),
            "item": stock.blanket.code,
            "start": "2005-10-01",
            "end": "2005-10-31",
        },
    )
    # the card opens and closes with its balances, as a paper stock card does (In and Out empty)
    assert column(plain, "Balance") == ["0", "500", "380", "380"]
    assert column(sheet, "Out") == [None, 0, 120, None]
    grants = csv_rows(stock.admin.get(reverse("stock:donor-list"), {"format": "csv"}))
    assert set(column(grants, "Grant")) == {"DFID-2005-07", "ECHO-2005-01"}


# --- households: personal data only with the right, every export audited -----------------------------


@pytest.fixture
def households(db):
    op = households_conftest.build_operation()
    op.aslam = households_conftest.register(op)
    op.zaman = households_conftest.register(
        op, head_name="=Sher Zaman", document_number="13503-0000002-1", phone="", origin_village="Pashto"
    )
    return op


PERSONAL = {"head_name", "father_or_husband_name", "document_number", "phone", "origin_village"}


def test_the_registry_leaves_personal_fields_out_without_the_export_right(households):
    registrar = client_of(households.registrar)
    # the search is posted, and downloaded from the address it leads to (?s=, never the name)
    searched = registrar.post(reverse("households:registry"), {"q": "Aslam"})
    handle = parse_qs(urlsplit(searched.headers["Location"]).query)["s"][0]
    plain, sheet = both(registrar, reverse("households:registry"), {"s": handle})
    assert not PERSONAL & set(plain[0])
    assert not PERSONAL & set(sheet[0])
    assert plain[1][0] == "#household+id"
    assert column(plain, "household_id") == [str(households.aslam.pk)]
    assert "Aslam" not in str(plain) + str(sheet)
    events = AuditEvent.objects.filter(action="household.export")
    assert [e.after["personal_data"] for e in events] == [False, False]
    assert all(e.after["households"] == [households.aslam.pk] for e in events)


def test_the_registry_carries_personal_fields_for_a_user_with_the_right_and_audits_it(households):
    exporter = client_of(make_user(Role.REGISTRAR, can_export=True))
    plain, sheet = both(exporter, reverse("households:registry"), {"status": "active"})
    assert set(plain[0]) >= PERSONAL
    assert sorted(column(plain, "head_name")) == ["'=Sher Zaman", "Muhammad Aslam"]
    assert "13503-1234567-1" in column(sheet, "document_number")
    assert "=Sher Zaman" in column(sheet, "head_name")
    event = AuditEvent.objects.filter(action="household.export").latest("pk")
    assert event.after["personal_data"] is True
    assert event.after["rows"] == 2
    assert "Aslam" not in str(event.after)
    # and the same user may leave them out
    without = csv_rows(exporter.get(reverse("households:registry"), {"format": "csv", "personal": "0"}))
    assert not PERSONAL & set(without[0])


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DISTRIBUTOR, Role.HUB_MANAGER], ids=str)
def test_roles_without_personal_data_get_no_registry_file(households, role):
    response = client_of(make_user(role)).get(reverse("households:registry"), {"format": "csv"})
    assert response.status_code in {400, 403}  # 400: the page of the own points has no download
    assert not response.has_header("Content-Disposition")
    assert response["Content-Type"].startswith("text/html")
    assert not AuditEvent.objects.filter(action="household.export").exists()


def test_a_distribution_list_downloads_without_names_for_a_distributor(households):
    households_conftest.receive(households, households.bana, households.cgi, 100, "GRN-1")
    round_obj = households_conftest.winter_round(households)
    cards_issue(actor=households.registrar, round_id=round_obj.pk)
    url = reverse("households:distribution-list", args=[round_obj.pk])
    plain, sheet = both(client_of(households.distributor), url, {})
    assert "CGI-SHEET due" in plain[0]
    assert "#targeted+num+cgi_sheet" in plain[1]
    assert not {"Head", "Card", "Village"} & set(plain[0])
    assert set(column(plain, "Point code")) == {"DP-BANA"}
    assert column(sheet, "CGI-SHEET due") == [10, 10]
    events = AuditEvent.objects.filter(action="household.export", object_type="distribution_list")
    assert [e.after["personal_data"] for e in events] == [False, False]
    # an admin holds the export right: names and card tokens are in the file
    admin_rows = csv_rows(client_of(make_user(Role.ADMIN)).get(url, {"format": "csv"}))
    assert {"Head", "Card"} <= set(admin_rows[0])
    assert "Muhammad Aslam" in column(admin_rows, "Head")
    again = AuditEvent.objects.filter(action="household.export", object_type="distribution_list")
    assert again.count() == 3
    assert again.latest("pk").after["personal_data"] is True


def test_a_rounds_reconciliation_downloads_item_by_item_and_point_by_point(households):
    round_obj = households_conftest.winter_round(households)
    url = reverse("households:round-detail", args=[round_obj.pk])
    registrar = client_of(households.registrar)
    page = registrar.get(url).content.decode()
    assert "part=items" in page
    assert "part=points" in page
    items, sheet = both(registrar, url, {"part": "items"})
    assert items[1] == [
        "#item+code",
        "#item+name",
        "#targeted+num",
        "#output+num",
        "#output+num+ledger",
        "#output+num+gap",
    ]
    entitled = dict(zip(column(items, "Item code"), column(sheet, "Entitled"), strict=True))
    assert entitled == {"CGI-SHEET": 20, "BLANKET": 16}
    points = csv_rows(registrar.get(url, {"part": "points", "format": "csv"}))
    assert column(points, "Point") == ["Bana helipad"]
    assert column(points, "Households listed") == ["2"]


def test_the_rounds_download(households):
    households_conftest.winter_round(households, open_it=False)
    rows = csv_rows(client_of(households.registrar).get(reverse("households:round-list"), {"format": "csv"}))
    assert rows[1][:2] == ["#activity+code", "#activity+name"]
    assert column(rows, "Code") == ["WR-1"]


# --- the cluster pages --------------------------------------------------------------------------------


def test_cluster_rows_batches_and_needs_download(cluster, upload):
    upload([cluster_conftest.row(id="NRC-1"), cluster_conftest.row(id="NRC-2", place="-Kaghan road")])
    admin = client_of(make_user(Role.ADMIN))
    plain, sheet = both(admin, reverse("cluster:cluster-rows"), {"q": "NRC-"})
    assert plain[1][:2] == ["#meta+id", "#meta+action"]
    assert column(plain, "Row ID") == ["NRC-1", "NRC-2"]
    assert column(plain, "Place or site")[1] == "'-Kaghan road"
    assert column(sheet, "Place or site")[1] == "-Kaghan road"
    assert column(sheet, "Quantity") == [100, 100]
    batches = csv_rows(admin.get(reverse("cluster:cluster-batches"), {"format": "csv"}))
    assert column(batches, "Added") == ["2"]
    needs = csv_rows(admin.get(reverse("cluster:cluster-needs"), {"format": "csv"}))
    assert needs[1][:3] == ["#adm1+code", "#adm2+code", "#adm3+code"]


def test_a_batch_downloads_every_row_it_added(cluster, upload):
    # with the column of the partner's own that the rows keep
    columns = [*cluster_conftest.COLUMNS, ("Remarks", "", "remarks")]
    given = [cluster_conftest.row(id=f"NRC-{n}", remarks=f"note {n}" if n > 1 else "") for n in range(1, 4)]
    upload(data=cluster_conftest.four_w_csv(given, columns=columns))
    batch = ImportBatch.objects.get()
    rows = csv_rows(
        client_of(make_user(Role.ADMIN)).get(
            reverse("cluster:cluster-batch", args=[batch.pk]), {"format": "csv"}
        )
    )
    assert rows[0][0] == "Row ID"
    assert column(rows, "Row ID") == ["NRC-1", "NRC-2", "NRC-3"]
    assert column(rows, "Remarks") == ["", "note 2", "note 3"]


def _sites(k: Any, n: int) -> None:
    for i in range(n):
        SiteFactory(code=f"DP-X{n}-{i}", admin_area=k.mansehra)


def _areas(k: Any, n: int) -> None:
    for _ in range(n):
        AdminAreaFactory(parent=k.mansehra)


def _kits(k: Any, n: int) -> None:
    for _ in range(n):
        KitComponentFactory(kit=KitFactory(), item=k.blanket, quantity=2)


@pytest.mark.parametrize(
    ("url_name", "make"),
    [("web:site-list", _sites), ("web:adminarea-list", _areas), ("web:kit-list", _kits)],
    ids=["sites", "admin-areas", "kits"],
)
def test_a_download_costs_the_same_queries_for_few_or_many_rows(kashmir, url_name, make):
    admin = client_of(make_user(Role.ADMIN))
    url = reverse(url_name)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            body(admin.get(url, {"format": "csv"}))
        return len(captured)

    queries()  # the first request of a session also writes the session
    make(kashmir, 2)
    few = queries()
    make(kashmir, 20)
    assert queries() == few


def test_the_gap_page_csv_carries_its_hxl_row(cluster, upload):
    upload([cluster_conftest.row()])
    rows = csv_rows(
        client_of(make_user(Role.VIEWER)).get(
            reverse("cluster:cluster-gaps"), {"activity": "TENTS", "format": "csv"}
        )
    )
    assert rows[1][:4] == ["#adm+code+parent", "#adm+name+parent", "#adm+code", "#adm+name"]


def test_the_items_download_uploads_again_unchanged(kashmir, client_as):
    from reliefops.catalog.importers import items_import_file

    # given the catalogue's items as a CSV download, packs, weights and volumes included
    response = client_as(Role.VIEWER).get(reverse("web:item-list"), {"format": "csv"})
    data = b"".join(response.streaming_content)
    assert "bale:10" in data.decode("utf-8-sig")  # the importer's way of writing a pack
    # when it is imported again (a dry run)
    counts = items_import_file(actor=None, data=data, dry_run=True)
    # then it is read without a problem, and changes nothing
    assert counts.created == counts.updated == 0
    assert counts.unchanged > 0


def test_the_kits_download_lists_each_component_and_uploads_again_unchanged(kashmir, client_as):
    from reliefops.catalog.importers import kits_import_file
    from reliefops.catalog.models import Kit

    # given the kits as a CSV download
    viewer = client_as(Role.VIEWER)
    data = body(viewer.get(reverse("web:kit-list"), {"format": "csv"}))
    rows = csv_rows(viewer.get(reverse("web:kit-list"), {"format": "csv"}))
    # then it holds one line per component, as the kits import reads them
    assert rows[0][:3] == ["Kit code", "Kit", "Component code"]
    components = sum(kit.components.count() for kit in Kit.objects.all())
    assert len(rows) - 2 == components > Kit.objects.count()
    # and imported again (a dry run), it is read without a problem and changes nothing
    counts = kits_import_file(actor=None, data=data, dry_run=True)
    assert counts.created == counts.updated == 0
    assert counts.unchanged == Kit.objects.count()


@pytest.mark.parametrize(
    "url_name", ["web:site-list", "cluster:cluster-gaps", "cluster:cluster-rows", "stock:onhand-list"]
)
def test_a_download_in_a_format_no_page_makes_is_refused_not_answered_with_the_page(admin, url_name):
    refused = admin.get(reverse(url_name), {"format": "pdf"})
    assert refused.status_code == 400
    assert "Content-Disposition" not in refused
    assert (
        "The parameter format of the address is &#x27;pdf&#x27;, which is not a file the pages download: "
        "write csv or xlsx (or hxl, on the cluster&#x27;s pages), or leave it out for the page."
    ) in refused.content.decode()


def test_a_format_is_read_in_any_case(admin):
    download = admin.get(reverse("web:site-list"), {"format": "CSV"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")


def test_a_download_a_page_does_not_make_is_refused_and_a_format_given_twice_too(admin):
    # a posting form has no download: the form is not a CSV file
    refused = admin.get(reverse("stock:post-receipt"), {"format": "csv"})
    assert refused.status_code == 400
    assert "This page has no csv download" in refused.content.decode()
    # nor is hxl a download of a stock page
    assert admin.get(reverse("stock:onhand-list"), {"format": "hxl"}).status_code == 400
    # a format given twice is refused, whichever comes last
    for twice in ("format=pdf&format=csv", "format=csv&format=pdf"):
        answer = admin.get(f"{reverse('web:site-list')}?{twice}")
        assert answer.status_code == 400
        assert "more than once" in answer.content.decode()
