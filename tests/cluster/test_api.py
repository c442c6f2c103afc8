"""The cluster API: upload with preview then commit, problems as 422, rows and batches scoped to a
partner's organisation, revert, gaps, matrix, totals, needs, periods."""

from __future__ import annotations

import base64
import json

import pytest

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.core.roles import Role
from tests.cluster.conftest import four_w_csv, four_w_xlsx, paired_rows, row, table


@pytest.fixture
def token_client(db):
    from django.test import Client

    from reliefops.core.services import token_create
    from tests.factories import make_user

    def make(role: Role, **scope):
        user = make_user(role, **scope)
        _, plain = token_create(actor=None, username=user.get_username(), name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    return make


def post(client, path, body):
    return client.post(f"/api/cluster{path}", json.dumps(body), content_type="application/json")


def csv_body(rows, **extra):
    return {"filename": "4w.csv", "content": four_w_csv(rows).decode(), **extra}


def test_upload_previews_then_commits_then_changes_nothing(cluster, token_client):
    client = token_client(Role.COORDINATOR)
    body = csv_body([row(id="NRC-1"), row(id="NRC-2")])
    preview = post(client, "/uploads", {**body, "preview": True})
    assert preview.status_code == 200
    assert (
        preview.json()["summary"] == "Preview: 2 added, 0 updated, 0 withdrawn, 0 unchanged. "
        "Nothing is written until the upload is committed."
    )
    assert not ActivityRow.objects.exists()
    first = preview.json()["changes"][0]
    assert (first["change"], first["row_id"]) == ("add", "NRC-1")
    assert (preview.json()["changes_total"], preview.json()["changes_truncated"]) == (2, False)
    assert (
        first["values"] == "TENTS at PK504, completed, 2005-11-01 to 2005-11-20, quantity 100, 100 households"
    )
    committed = post(client, "/uploads", body)
    assert committed.status_code == 201
    assert committed.json()["batch_id"] == ImportBatch.objects.get().pk
    again = post(client, "/uploads", body)
    assert (again.status_code, again.json()["changed"], again.json()["previous_batch_id"]) == (
        200,
        False,
        committed.json()["batch_id"],
    )


def test_a_workbook_uploads_as_base64(cluster, token_client):
    data = four_w_xlsx({"4W": table([row(id="NRC-1")])})
    body = {"filename": "nrc.xlsx", "content_base64": base64.b64encode(data).decode()}
    response = post(token_client(Role.COORDINATOR), "/uploads", body)
    assert response.status_code == 201
    assert response.json()["sheet"] == "4W"


def test_a_refused_upload_answers_422_with_every_problem(cluster, token_client):
    response = post(
        token_client(Role.COORDINATOR), "/uploads", csv_body([row(adm2="PK5O4"), row(id="X", qty="-1")])
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "row": 3,
            "field": "#adm2+code",
            "reason": "'PK5O4' is not a P-code; did you mean PK504 (Batagram)?",
        },
        {
            "row": 4,
            "field": "#output+num",
            "reason": "-1 is negative; write 0 or more, or leave the cell empty",
        },
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"filename": "a.csv"},
        {"filename": "a.csv", "content": "x", "content_base64": "eA=="},
        {"filename": "a.csv", "content_base64": "%%%"},
    ],
)
def test_an_upload_needs_its_content_once(cluster, token_client, body):
    assert post(token_client(Role.COORDINATOR), "/uploads", body).status_code == 422


@pytest.mark.parametrize("path", ["/uploads", "/needs"])
@pytest.mark.parametrize(
    "body", [{"filename": "a.csv"}, {"filename": "a.csv", "content": "x", "content_base64": "eA=="}]
)
def test_a_file_sent_twice_or_not_at_all_is_refused_in_plain_words(cluster, token_client, path, body):
    refused = post(token_client(Role.COORDINATOR), path, body)
    assert refused.status_code == 422
    assert [p["reason"] for p in refused.json()["problems"]] == [
        "send the file as `content_base64` or as `content`, one of the two"
    ]


def test_a_partner_reporter_uploads_and_sees_only_its_own_rows(cluster, token_client, upload):
    upload([row(id="IRW-1", prog="IRW")])
    client = token_client(Role.PARTNER_REPORTER, organisation=cluster.nrc)
    mine = post(client, "/uploads", csv_body([row(id="NRC-1", prog="UNHCR", impl="NRC")]))
    assert mine.status_code == 201
    theirs = post(client, "/uploads", csv_body([row(id="IRW-2", prog="IRW")]))
    assert theirs.status_code == 422
    assert "NRC neither programmes, implements nor funds" in theirs.json()["problems"][0]["reason"]
    other = post(client, "/uploads", {**csv_body([row()]), "reporting_organisation": "IRW"})
    assert other.status_code == 403
    rows = client.get("/api/cluster/rows").json()
    assert [r["row_id"] for r in rows["items"]] == ["NRC-1"]
    assert rows["items"][0]["reporting_organisation"] == "NRC"
    # a filter on another organisation's rows is refused as the rows page refuses it; its own passes
    refused = client.get("/api/cluster/rows?organisation=IRW")
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "row": None,
            "field": "organisation",
            "reason": "'IRW' is not an organisation whose rows you may see",
        }
    ]
    assert client.get("/api/cluster/rows?organisation=nrc").json()["count"] == 1
    batches = client.get("/api/cluster/batches").json()
    assert batches["count"] == 1
    irw_batch = ImportBatch.objects.get(organisation=cluster.irw).pk
    assert client.get(f"/api/cluster/batches/{irw_batch}").status_code == 403
    assert (
        post(client, f"/api/cluster/batches/{irw_batch}/revert".removeprefix("/api/cluster"), {}).status_code
        == 403
    )


def test_rows_filter_and_say_how_each_counts(cluster, token_client, upload):
    upload(
        [
            row(id="NRC-1", adm2="", adm3="PK50401"),
            row(id="IOM-1", prog="IOM", recipient="NRC", hh=""),
            row(id="NRC-2", adm2="PK107", status="planned"),
        ]
    )
    client = token_client(Role.COORDINATOR)
    counted = {r["row_id"]: r["counted"] for r in client.get("/api/cluster/rows").json()["items"]}
    assert counted == {"IOM-1": "pipeline", "NRC-1": "reached", "NRC-2": "targeted"}
    within = client.get("/api/cluster/rows", {"within": "PK504"}).json()
    assert sorted(r["row_id"] for r in within["items"]) == ["IOM-1", "NRC-1"]
    assert client.get("/api/cluster/rows", {"organisation": "IOM"}).json()["count"] == 1


def test_revert_through_the_api_and_a_conflict_is_409(cluster, token_client, upload):
    first = upload([row(id="NRC-1")])
    second = upload([row(id="NRC-1", qty="7")])
    client = token_client(Role.COORDINATOR)
    conflict = post(client, f"/batches/{first.batch_id}/revert", {})
    assert conflict.status_code == 409
    assert "changed its rows since" in conflict.json()["detail"]
    reverted = post(client, f"/batches/{second.batch_id}/revert", {})
    assert reverted.json() == {"batch_id": second.batch_id, "removed": 1, "restored": 1}


def test_an_upload_counts_only_its_own_rows_set_aside(cluster, token_client):
    # given UNHCR's row set aside, counted in IRW's own row
    client = token_client(Role.COORDINATOR)
    first = post(client, "/uploads", csv_body(paired_rows())).json()
    assert first["set_aside"] == 1
    assert "the double-counting rule" in first["notes"][-1]
    # when UNHCR uploads a row of other work, then none of its rows is set aside, and no note says so
    second = post(client, "/uploads", csv_body([row(id="UNHCR-9", prog="UNHCR")])).json()
    assert (second["added"], second["set_aside"]) == (1, 0)
    assert not any("double-counting" in note for note in second["notes"])


@pytest.mark.parametrize("field", ["content", "content_base64"])
def test_a_problem_of_the_whole_file_is_named_by_the_body_field_that_carried_it(cluster, token_client, field):
    client = token_client(Role.COORDINATOR)
    refused = post(client, "/uploads", {"filename": "4w.csv", field: "", "preview": True})
    assert refused.status_code == 422, refused.content
    assert [p["field"] for p in refused.json()["problems"]] == [field]


@pytest.mark.parametrize("given", ["id", "id-as-text", "acronym"])
def test_the_reporting_organisation_is_named_by_its_id_or_its_name(cluster, token_client, given):
    client = token_client(Role.COORDINATOR)
    named = {"id": cluster.nrc.pk, "id-as-text": str(cluster.nrc.pk), "acronym": "NRC"}[given]
    body = csv_body([row(id="NRC-1", reporting="")], reporting_organisation=named)
    answer = post(client, "/uploads", {**body, "preview": True})
    assert answer.status_code == 200, answer.content
    assert answer.json()["added"] == 1


def test_an_upload_whose_every_row_names_another_organisation_than_the_one_chosen_is_refused(
    cluster, token_client
):
    client = token_client(Role.COORDINATOR)
    body = csv_body([row(id="NRC-1", reporting="NRC")], reporting_organisation="IRW")
    refused = post(client, "/uploads", {**body, "preview": True})
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["problems"]] == ["#org+reporting"]
    assert (
        "none is a row of IRW, the organisation chosen for the upload"
        in refused.json()["problems"][0]["reason"]
    )
    # the organisation the rows name, or none, is taken
    for chosen in ("NRC", None):
        answer = post(client, "/uploads", {**body, "reporting_organisation": chosen, "preview": True})
        assert (answer.status_code, answer.json()["added"]) == (200, 1)
        assert not any("chosen for the upload" in note for note in answer.json()["notes"])


@pytest.mark.parametrize("path", ["/rows", "/gaps", "/matrix"])
@pytest.mark.parametrize("period", ["2005-11", "2005-11-01", "2005-11-20"])
def test_every_aggregate_and_the_rows_take_a_month_the_same_way(cluster, token_client, upload, path, period):
    # given rows of November and of December 2005
    upload([row(id="NRC-1"), row(id="NRC-2", start="2005-12-01", end="2005-12-10")])
    client = token_client(Role.COORDINATOR)
    # then a month, or a day of it, is taken by every filter alike
    answer = client.get(f"/api/cluster{path}", {"period_from": period, "period_to": period})
    assert answer.status_code == 200, answer.json()
    if path == "/rows":
        assert [r["row_id"] for r in answer.json()["items"]] == ["NRC-1"]


@pytest.mark.parametrize("path", ["/rows", "/gaps"])
@pytest.mark.parametrize("period", ["2005-13", "2005-02-30", "Nov 2005", "20051101"])
def test_a_month_that_is_not_one_is_refused_naming_its_filter(cluster, token_client, path, period):
    answer = token_client(Role.COORDINATOR).get(f"/api/cluster{path}", {"period_to": period})
    assert answer.status_code == 422
    (problem,) = answer.json()["problems"]
    assert problem["field"] == "period_to"
    assert problem["reason"] == f"'{period}' is not a month; write it as 2005-11 (or a day of it, 2005-11-20)"


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/rows", "activity=NOPE", "activity"),
        ("/rows", "within=PK999", "within"),
        ("/rows", "organisation=XYZ", "organisation"),
        ("/rows", "status=bogus", "status"),
        ("/gaps", "activity=NOPE", "activity"),
        ("/gaps", "within=PK999", "within"),
        ("/matrix", "within=PK999", "within"),
    ],
)
def test_a_filter_value_that_is_not_one_is_refused(cluster, token_client, upload, path, query, field):
    upload([row(id="NRC-1")])
    answer = token_client(Role.COORDINATOR).get(f"/api/cluster{path}?{query}")
    assert answer.status_code == 422
    assert field in json.dumps(answer.json()["problems"])


def test_a_batch_that_does_not_exist_is_named_by_its_number(cluster, token_client):
    # given no batch 7, when it is read or reverted, then 404 names it as people do
    client = token_client(Role.COORDINATOR)
    for answer in (client.get("/api/cluster/batches/7"), post(client, "/batches/7/revert", {})):
        assert (answer.status_code, answer.json()) == (404, {"detail": "no import batch 7"})


def test_gaps_matrix_totals_and_needs_for_a_viewer(cluster, token_client, upload):
    from reliefops.cluster.importers import needs_import_file

    needs_import_file(
        actor=None, data=b"P,N,I\n#adm2+code,#inneed+hh,#meta+illustrative\nPK504,400,yes\n", filename="n.csv"
    )
    upload([row(id="NRC-1", hh="100")])
    viewer = token_client(Role.VIEWER)
    gaps = viewer.get("/api/cluster/gaps", {"level": "district", "activity": "TENTS"}).json()
    batagram = next(r for r in gaps["rows"] if r["pcode"] == "PK504")
    assert (
        batagram["households_in_need"],
        batagram["households_reached"],
        batagram["coverage"],
        batagram["gap"],
    ) == (
        400,
        100,
        0.25,
        300,
    )
    assert gaps["needs_illustrative"] is True
    assert "PK107" in [a["pcode"] for a in gaps["no_partner"]]
    matrix = viewer.get("/api/cluster/matrix").json()
    assert matrix["entries"][0]["organisation"] == "NRC"
    totals = viewer.get("/api/cluster/totals").json()
    assert totals["figures"]["tents_delivered"] == 100
    assert viewer.get("/api/cluster/needs").json()["items"][0]["illustrative"] is True
    assert viewer.get("/api/cluster/rows").status_code == 403
    bad = viewer.get("/api/cluster/gaps", {"level": "village"})
    assert bad.status_code == 422


def test_periods_are_locked_by_a_coordinator(cluster, token_client, upload):
    coordinator = token_client(Role.COORDINATOR)
    locked = post(coordinator, "/periods", {"month": "2005-11", "locked": True, "note": "closed"})
    assert locked.json() == {
        "month": "2005-11",
        "locked": True,
        "changed_by": locked.json()["changed_by"],
        "note": "closed",
    }
    assert coordinator.get("/api/cluster/periods").json()[0]["locked"] is True
    refused = post(coordinator, "/uploads", csv_body([row()]))
    assert "falls in the reporting period 2005-11, which is locked" in refused.json()["problems"][0]["reason"]
    assert (
        post(
            token_client(Role.PARTNER_REPORTER, organisation=cluster.nrc),
            "/periods",
            {"month": "2005-11", "locked": False},
        ).status_code
        == 403
    )


NEEDS_CSV = (
    "Needs of the shelter cluster\n"
    "District P-code,Households in need,Illustrative\n"
    "#adm2+code,#inneed+hh,#meta+illustrative\n"
    "PK504,400,yes\n"
    "PK522,900,no\n"
)


def test_needs_upload_previews_then_applies_then_changes_nothing(cluster, token_client):
    from reliefops.cluster.models import NeedsBaseline
    from reliefops.core.models import AuditEvent

    client = token_client(Role.COORDINATOR)
    body = {"filename": "needs.csv", "content": NEEDS_CSV}
    # a preview says what the file would do and writes nothing
    preview = post(client, "/needs", {**body, "preview": True})
    assert preview.status_code == 200
    assert preview.json()["summary"] == (
        "Preview: 2 created, 0 updated, 0 unchanged; nothing is written until it is committed."
    )
    assert not NeedsBaseline.objects.exists()
    # applied, the baselines are stored with their illustrative mark, each audited
    applied = post(client, "/needs", body)
    assert applied.status_code == 201
    assert applied.json()["changes"] == [
        {"pcode": "PK504", "change": "created"},
        {"pcode": "PK522", "change": "created"},
    ]
    assert sorted(NeedsBaseline.objects.values_list("adm2", "households_in_need", "illustrative")) == [
        ("PK504", 400, True),
        ("PK522", 900, False),
    ]
    assert AuditEvent.objects.filter(action="needs_baseline.create").count() == 2
    # the same file again changes nothing and says so
    again = post(client, "/needs", body)
    assert (again.status_code, again.json()["changed"], again.json()["unchanged"]) == (200, False, 2)
    # a changed figure updates the area in place
    changed = post(client, "/needs", {**body, "content": NEEDS_CSV.replace("900", "950")})
    assert changed.json()["changes"] == [{"pcode": "PK522", "change": "households_in_need: 900 -> 950"}]


def test_a_refused_needs_file_answers_422_and_writes_nothing(cluster, token_client):
    from reliefops.cluster.models import NeedsBaseline

    client = token_client(Role.COORDINATOR)
    content = NEEDS_CSV.replace("PK522,900", "PK5222,900").replace("400,yes", "400,perhaps")
    refused = post(client, "/needs", {"filename": "needs.csv", "content": content})
    assert refused.status_code == 422
    problems = [(p["row"], p["field"]) for p in refused.json()["problems"]]
    assert problems == [(4, "#meta+illustrative"), (5, "#adm2+code")]
    assert not NeedsBaseline.objects.exists()


@pytest.mark.parametrize("role", [Role.PARTNER_REPORTER, Role.VIEWER, Role.HUB_MANAGER])
def test_only_the_coordinator_uploads_needs(cluster, token_client, role):
    scope = {"organisation": cluster.nrc} if role == Role.PARTNER_REPORTER else {}
    refused = post(token_client(role, **scope), "/needs", {"filename": "needs.csv", "content": NEEDS_CSV})
    assert refused.status_code == 403


def test_the_rows_status_filter_reads_any_case_and_refuses_other_words_as_uploads_do(
    cluster, token_client, upload
):
    upload([row(id="NRC-1"), row(id="NRC-2", status="planned")])
    client = token_client(Role.COORDINATOR)
    # a status in capitals is the status
    found = client.get("/api/cluster/rows?status=Completed")
    assert [r["row_id"] for r in found.json()["items"]] == ["NRC-1"]
    # a word an upload would read as a status is refused, naming the status it may mean
    refused = client.get("/api/cluster/rows?status=done")
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {
            "row": None,
            "field": "status",
            "reason": "'done' is not a status (planned, ongoing or completed); did you mean completed?",
        }
    ]
    other = client.get("/api/cluster/rows?status=bogus").json()["problems"][0]["reason"]
    assert other == "'bogus' is not a status (planned, ongoing or completed)"


def test_an_upload_of_more_changes_than_listed_says_how_many_and_that_the_list_is_cut(cluster, token_client):
    client = token_client(Role.COORDINATOR)
    answer = post(client, "/uploads", {**csv_body([row(id=f"NRC-{n}") for n in range(205)]), "preview": True})
    assert answer.status_code == 200
    listed = answer.json()
    assert (len(listed["changes"]), listed["changes_total"], listed["changes_truncated"]) == (200, 205, True)
