"""The walk-through of the previews: an update's changes name organisations, activities, areas and
sites as the pages do (never by database id), under readable field names on the web and the
command line (machine-readable keys in the API); a row at a union council is stored there and the
preview says so."""

from __future__ import annotations

import io
import json
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from reliefops.cluster import selectors
from reliefops.cluster.models import ActivityRow
from reliefops.core.roles import Role
from reliefops.places.models import AdminLevel
from tests.cluster.conftest import four_w_csv, row
from tests.factories import AdminAreaFactory, SiteFactory, make_user
from tests.jobs_worker import run_jobs

BEFORE = row(id="NRC-X01", funder="NRC", f="200", m="180")
AFTER = row(id="NRC-X01", funder="UNHCR", recipient="IOM", f="", m="180", activity="Blankets distributed")


def test_the_web_preview_of_an_update_names_organisations_and_fields_readably(cluster, upload):
    upload([BEFORE])
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    uploaded = client.post(
        reverse("cluster:cluster-upload"), {"file": SimpleUploadedFile("nrc.csv", four_w_csv([AFTER]))}
    )
    run_jobs()
    page = client.get(uploaded["Location"]).content.decode()
    assert "funding organisation: NRC → UNHCR" in page
    assert "handed to partner: — → IOM" in page
    assert "activity: TENTS → BLANKETS" in page
    assert "women reached: 200 → —" in page
    assert "funding_org" not in page
    assert f"{cluster.nrc.pk} →" not in page


def test_the_command_line_preview_names_them_readably(cluster, upload, tmp_path):
    upload([BEFORE])
    path = tmp_path / "nrc.csv"
    path.write_bytes(four_w_csv([AFTER]))
    out = io.StringIO()
    call_command("cluster", "import", str(path), "--preview", stdout=out, stderr=io.StringIO())
    assert (
        "  row 3: update NRC-X01  funding organisation: NRC -> UNHCR; handed to partner: - -> IOM; "
        "activity: TENTS -> BLANKETS; women reached: 200 -> -"
    ) in out.getvalue()


def test_the_api_keeps_the_field_keys_and_gives_the_values_by_name(cluster, upload):
    from reliefops.core.services import token_create

    upload([BEFORE])
    user = make_user(Role.COORDINATOR)
    _, plain = token_create(actor=None, username=user.get_username(), name="test")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    body = {"filename": "4w.csv", "content": four_w_csv([AFTER]).decode(), "preview": True}
    answer = client.post("/api/cluster/uploads", json.dumps(body), content_type="application/json")
    assert answer.status_code == 200, answer.content
    [change] = answer.json()["changes"]
    assert change["fields"] == [
        ["funding_org", "NRC", "UNHCR"],
        ["recipient_org", "", "IOM"],
        ["activity", "TENTS", "BLANKETS"],
        ["people_female", "200", ""],
    ]


def test_a_changed_place_and_site_are_named_by_p_code_and_site_name(cluster, upload):
    site = SiteFactory(code="ALLAI-DP", name="Allai distribution point", admin_area=cluster.allai)
    upload([row(id="NRC-1", adm3="PK50402")])
    result = upload([row(id="NRC-1", adm3="PK50401", place="Allai distribution point")], preview=True)
    [change] = result.changes
    assert change.fields == (
        ("admin_area", "PK50402 (Batagram)", "PK50401 (Allai)"),
        ("site", "", f"{site.name} ({site.code})"),
        ("location", "", "Allai distribution point"),
    )


def test_a_union_council_p_code_stores_the_row_at_the_union_council_and_the_preview_says_so(cluster, upload):
    # given a union council of Allai in the gazetteer
    council = AdminAreaFactory(
        pcode="PK50401-UC01", name="Banna", level=AdminLevel.UNION_COUNCIL, parent=cluster.allai
    )
    file_row = row(id="NRC-U1", adm2="PK504", adm3="PK50401-UC01", hh="40")
    # the preview names the union council, not its tehsil
    preview = upload([file_row], preview=True)
    assert preview.changes[0].values.startswith("TENTS at PK50401-UC01,")
    # the row is stored at the union council, within its tehsil and district
    upload([file_row])
    stored = ActivityRow.objects.get(row_id="NRC-U1")
    assert (stored.admin_area_id, stored.adm2, stored.adm3) == (council.pk, "PK504", "PK50401")
    # and the gap analysis counts it in its tehsil and its district
    by_tehsil = selectors.gap_by_area(selectors.selection(level="tehsil", activity="TENTS"))
    assert [(r.pcode, r.reached, r.whole_area) for r in by_tehsil.rows] == [("PK50401", 40, False)]
    by_district = selectors.gap_by_area(selectors.selection(level="district", activity="TENTS"))
    assert [(r.pcode, r.reached) for r in by_district.rows] == [("PK504", 40)]


def test_readable_values_need_no_query_per_row(cluster, upload, django_assert_max_num_queries):
    upload([row(id=f"NRC-{n}", funder="NRC") for n in range(50)])
    changed = [row(id=f"NRC-{n}", funder="UNHCR", activity="Blankets distributed") for n in range(50)]
    with django_assert_max_num_queries(40):
        result = upload(changed, preview=True)
    assert result.updated == 50
    assert all(re.search("NRC", c.fields[0][1]) for c in result.changes)


def test_a_refused_web_preview_lists_the_problems_with_the_way_back_to_the_upload_page(cluster):
    # given a coordinator who uploads a file with an activity the cluster does not know
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    uploaded = client.post(
        reverse("cluster:cluster-upload"),
        {"file": SimpleUploadedFile("nrc.csv", four_w_csv([row(activity="Tent distributions")]))},
    )
    run_jobs()
    page = client.get(uploaded["Location"]).content.decode()
    # then the job's page says nothing was written, names the row's problem, and links back to the
    # upload page, as a preview that went through does
    assert "Nothing was written." in page
    assert "&#x27;Tent distributions&#x27; is not an activity of the cluster" in page
    assert re.search(rf'<a href="{reverse("cluster:cluster-upload")}">Upload another file</a>', page)
