"""The reference pages: who may open them, what they show, search, filters and pages."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reliefops.catalog.models import ItemCategory, PackSize
from reliefops.core.models import Job, JobStatus
from reliefops.core.roles import ROLE_RIGHTS, Right, Role
from reliefops.places.models import AdminLevel, SiteKind
from tests.factories import (
    AdminAreaFactory,
    GrantFactory,
    ItemFactory,
    KitComponentFactory,
    KitFactory,
    OrganisationFactory,
    SiteFactory,
    make_user,
)
from tests.web.pages import PAGES

PAGE_IDS = [page_id for page_id, _ in PAGES]
ROLES = [*Role, None]


def role_id(role: Role | None) -> str:
    return role.value if role else "anonymous"


def text(response) -> str:
    return response.content.decode()


# --- who may open what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=role_id)
@pytest.mark.parametrize(("page_id", "url_of"), PAGES, ids=PAGE_IDS)
def test_every_page_answers_every_role_as_the_rights_table_says(kashmir, client_as, role, page_id, url_of):
    # given a client of the role (or no one signed in)
    client = client_as(role)
    url = url_of(kashmir)
    # when the page is opened
    response = client.get(url)
    # then anonymous users go to the sign-in page, and signed-in users get what VIEW_REFERENCE allows
    if role is None:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('web:login')}?next={url}"
    elif Right.VIEW_REFERENCE in ROLE_RIGHTS[role]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("page_id", "url_of"), PAGES, ids=PAGE_IDS)
def test_pages_follow_the_rights_table_not_a_list_of_roles(kashmir, client_as, monkeypatch, page_id, url_of):
    # given the viewer role without VIEW_REFERENCE
    monkeypatch.setitem(ROLE_RIGHTS, Role.VIEWER, frozenset({Right.VIEW_STOCK}))
    client = client_as(Role.VIEWER)
    # when a viewer opens the page
    response = client.get(url_of(kashmir))
    # then it is refused, in the layout, with the reason
    assert response.status_code == 403
    assert "may not see the reference data" in text(response)
    assert 'class="site-header"' in text(response)


@pytest.mark.parametrize(("page_id", "url_of"), PAGES, ids=PAGE_IDS)
def test_a_user_without_a_role_is_refused(kashmir, unprofiled_client, page_id, url_of):
    response = unprofiled_client.get(url_of(kashmir))
    assert response.status_code == 403
    assert "account that has a role" in text(response)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/places/areas/PK999/", id="admin-area"),
        pytest.param("/places/sites/999999/", id="site"),
        pytest.param("/partners/organisations/999999/", id="organisation"),
        pytest.param("/catalog/items/NO-SUCH-ITEM/", id="item"),
        pytest.param("/catalog/kits/SHL-TARP/", id="item-that-is-no-kit"),
        pytest.param("/no/such/page/", id="unknown-address"),
    ],
)
def test_unknown_objects_answer_404_in_the_layout(kashmir, client_as, url):
    response = client_as(Role.VIEWER).get(url)
    assert response.status_code == 404
    body = text(response)
    assert "Nothing here" in body
    assert 'aria-label="Main"' in body  # the navigation is still there


# --- layout ---------------------------------------------------------------------------------------


def test_layout_shows_user_role_navigation_and_a_sign_out_form(kashmir, user_of_role, client):
    # given a signed-in hub manager
    user = user_of_role(Role.HUB_MANAGER)
    client.force_login(user)
    # when they open a site page
    body = text(client.get(reverse("web:site-detail", args=[kashmir.balakot_hub.pk])))
    # then the header names them and their role, the Sites entry is current, and sign-out is a POST form
    assert user.username in body
    assert "Hub manager" in body
    assert re.search(r'<a href="/places/sites/" aria-current="page">Sites</a>', body)
    assert re.search(r'<form method="post" action="/logout/"', body)
    for label in ("Overview", "Admin areas", "Organisations", "Items", "Kits"):
        assert f">{label}</a>" in body


@pytest.mark.parametrize(
    ("role", "sees_admin_link"),
    [
        pytest.param(Role.ADMIN, True, id="admin"),
        pytest.param(Role.COORDINATOR, False, id="coordinator"),
        pytest.param(Role.VIEWER, False, id="viewer"),
    ],
)
def test_only_admins_see_the_data_admin_link(kashmir, client_as, role, sees_admin_link):
    body = text(client_as(role).get(reverse("web:home")))
    assert ('href="/admin/"' in body) is sees_admin_link


def test_messages_are_shown(client_as):
    # given a message waiting in the session (as a view would leave it)
    client = client_as(Role.VIEWER)
    response = client.post(reverse("web:logout"))
    # when the next page is shown
    body = text(client.get(response["Location"]))
    # then the message is on it
    assert "You have signed out." in body


# --- home -----------------------------------------------------------------------------------------


def test_the_reference_page_counts_the_reference_data_and_links_to_the_filtered_lists(kashmir, client_as):
    body = text(client_as(Role.COORDINATOR).get(reverse("web:reference")))
    assert re.search(r"Admin areas</a> <span class=\"big\">7</span>", body)
    assert re.search(r'href="/places/areas/\?level=district">District \(adm2\)</a><span>3</span>', body)
    assert re.search(r'href="/places/sites/\?kind=hub">Hub</a><span>3</span>', body)
    assert re.search(
        r'href="/places/sites/\?kind=distribution_point">Distribution point</a><span>1</span>', body
    )
    assert re.search(r"Organisations</a> <span class=\"big\">2</span>", body)
    assert re.search(r'href="/catalog/items/\?category=shelter">Shelter</a><span>2</span>', body)
    assert re.search(r"Kits</a> <span class=\"big\">1</span>", body)
    assert "Your role: Coordinator" in body
    assert "read the audit trail" in body


# --- admin areas ----------------------------------------------------------------------------------


def names_in_table(body: str) -> list[str]:
    """The link texts of the first column of links in the results table."""
    table = (
        re.split(r'<table class="data"[^>]*>', body, maxsplit=1)[1].split("</table>", 1)[0]
        if "<table" in body
        else ""
    )
    return re.findall(r"<tr[^>]*>\s*<td[^>]*>[^<]*</td>\s*<td><a href=\"[^\"]+\">([^<]+)</a>", table)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"q": "mansehra"}, ["Mansehra"], id="name-any-case"),
        pytest.param({"q": "PK522"}, ["Mansehra", "Bala Kot"], id="pcode-prefix"),
        pytest.param({"q": "Battagram"}, ["Batagram"], id="alternate-spelling"),
        pytest.param({"q": "NWFP"}, ["Khyber Pakhtunkhwa"], id="old-name"),
        pytest.param({"level": "district"}, ["Muzaffarabad", "Batagram", "Mansehra"], id="level"),
        pytest.param({"parent": "PK5"}, ["Batagram", "Mansehra"], id="parent"),
        pytest.param({"q": "a", "level": "tehsil", "parent": "PK522"}, ["Bala Kot"], id="combined"),
        pytest.param({"q": "Lahore"}, [], id="no-match"),
    ],
)
def test_admin_area_search_and_filters(kashmir, client_as, query, expected):
    response = client_as(Role.VIEWER).get(reverse("web:adminarea-list"), query)
    assert response.status_code == 200
    assert names_in_table(text(response)) == expected


@pytest.mark.parametrize(
    ("url", "query", "said"),
    [
        pytest.param(
            "web:site-list", {"kind": "castle"}, "'castle' is not one of its choices; pick one", id="choice"
        ),
        pytest.param("web:item-list", {"q": "x" * 101}, "longer than 100 characters; shorten it", id="long"),
        pytest.param(
            "web:organisation-list",
            {"type": "c" * 60},
            f"'{'c' * 39}…' is not one of its choices",
            id="cut-short",
        ),
    ],
)
def test_a_filter_refusal_is_in_plain_words(kashmir, client_as, url, query, said):
    body = html.unescape(text(client_as(Role.VIEWER).get(reverse(url), query)))
    assert said in body
    assert "Select a valid choice" not in body
    assert "Ensure this value" not in body


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        pytest.param("web:adminarea-list", {"level": "no-such-level"}, "Level", id="areas-level"),
        pytest.param("web:adminarea-list", {"parent": "PK999"}, "In", id="areas-parent"),
        pytest.param("web:site-list", {"kind": "castle"}, "Kind", id="sites-kind"),
        pytest.param("web:organisation-list", {"type": "club"}, "Type", id="organisations-type"),
        pytest.param("web:item-list", {"category": "toys"}, "Category", id="items-category"),
        pytest.param("web:adminarea-list", {"q": "x" * 101}, "Search", id="search-too-long"),
    ],
)
def test_a_filter_that_cannot_be_read_lists_nothing_and_says_which(kashmir, client_as, url, query, field):
    client = client_as(Role.VIEWER)
    # the page answers 422, marks the filter and lists nothing (not the whole list, as if unfiltered)
    response = client.get(reverse(url), query)
    assert response.status_code == 422
    body = text(response)
    assert '<span class="field-error">' in body
    assert f"Nothing is listed for these filters: {field}:" in body
    assert names_in_table(body) == []
    # the same search typed into the page (htmx, which shows only a 2xx answer) gets the refusal
    # in place of the results, and the filter's error beside it, out of band
    fragment = client.get(reverse(url), query, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Nothing is listed for these filters" in text(fragment)
    assert "<form" not in text(fragment)
    assert re.search(
        r'id="errors-[a-z_]+" hx-swap-oob="true"><span id="id_[a-z_]+_error"><span class="field-error">',
        text(fragment),
    )
    assert names_in_table(text(fragment)) == []
    # and once corrected, the results come back and the error beside the filter goes
    corrected = client.get(reverse(url), headers={"HX-Request": "true"})
    assert corrected.status_code == 200
    assert "Nothing is listed" not in text(corrected)
    assert '<span class="field-error">' not in text(corrected)
    assert 'hx-swap-oob="true"></span>' in text(corrected)
    # and no file is downloaded for it
    download = client.get(reverse(url), {**query, "format": "csv"})
    assert download.status_code == 422
    assert "Content-Disposition" not in download


def test_admin_area_search_that_finds_nothing_says_so(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:adminarea-list"), {"q": "Lahore"}))
    assert "No admin area matches this search." in body


def test_admin_area_list_counts_sub_areas_and_the_sites_below_each_area(kashmir, client_as):
    # when the provinces and districts of NWFP are listed
    body = text(client_as(Role.VIEWER).get(reverse("web:adminarea-list"), {"q": "PK5"}))
    # then each row counts its own sub-areas, and the sites in it or below it
    row = r'<td class="code">(PK[0-9]+)</td>.*?'
    sub_areas = r'<td class="num">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>\s*'
    sites = r'<td class="num">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>'
    rows = re.findall(row + sub_areas + sites, body, re.S)
    assert rows == [("PK5", "2", "3"), ("PK504", "0", "0"), ("PK522", "1", "3"), ("PK52201", "0", "2")]
    assert 'href="/places/sites/?area=PK522">3</a>' in body


def test_admin_area_detail_shows_parent_chain_children_and_sites_below(kashmir, client_as):
    # when the Mansehra district page is opened
    body = text(client_as(Role.VIEWER).get(reverse("web:adminarea-detail", args=["PK522"])))
    # then the chain of parents, its tehsil and the sites in it and in its tehsil are shown
    chain = body.split("<dt>Parent chain</dt>", 1)[1].split("</dd>", 1)[0]
    assert chain.index("Pakistan") < chain.index("Khyber Pakhtunkhwa")
    assert 'href="/places/areas/PK52201/">Bala Kot</a>' in body
    for site in ("Mansehra hub", "Balakot forward hub", "Kaghan distribution point"):
        assert f">{site}</a>" in body
    assert "Muzaffarabad hub" not in body


# --- sites ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            {},
            ["Balakot forward hub", "Kaghan distribution point", "Mansehra hub", "Muzaffarabad hub"],
            id="all",
        ),
        pytest.param({"q": "kaghan"}, ["Kaghan distribution point"], id="name"),
        pytest.param({"q": "HUB-M"}, ["Mansehra hub", "Muzaffarabad hub"], id="code"),
        pytest.param({"kind": "distribution_point"}, ["Kaghan distribution point"], id="kind"),
        pytest.param(
            {"area": "PK5"},
            ["Balakot forward hub", "Kaghan distribution point", "Mansehra hub"],
            id="area-includes-areas-below",
        ),
        pytest.param({"area": "PK52201", "kind": "hub"}, ["Balakot forward hub"], id="area-and-kind"),
    ],
)
def test_site_search_and_filters(kashmir, client_as, query, expected):
    body = text(client_as(Role.DISTRIBUTOR).get(reverse("web:site-list"), query))
    assert names_in_table(body) == expected


def test_site_detail_shows_area_hub_coordinates_elevation_and_served_sites(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:site-detail", args=[kashmir.balakot_hub.pk])))
    assert 'href="/places/areas/PK52201/">Bala Kot</a>' in body
    assert f'href="/places/sites/{kashmir.mansehra_hub.pk}/">Mansehra hub</a>' in body
    assert "34.5477° N, 73.3527° E" in body
    assert "980 m (3,215 ft)" in body
    served = body.split("Sites it supplies", 1)[1]
    assert "Kaghan distribution point" in served
    assert "2,134 m (7,001 ft)" in served


# --- organisations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"q": "migration"}, ["International Organization for Migration"], id="name"),
        pytest.param({"q": "dfid"}, ["Department for International Development"], id="acronym"),
        pytest.param({"q": "OIM"}, ["International Organization for Migration"], id="alias"),
        pytest.param({"type": "donor"}, ["Department for International Development"], id="type"),
    ],
)
def test_organisation_search_and_filters(kashmir, client_as, query, expected):
    body = text(client_as(Role.PARTNER_REPORTER).get(reverse("web:organisation-list"), query))
    assert re.findall(r'<a href="/partners/organisations/\d+/">([^<]+)</a>', body) == expected


def test_organisation_detail_lists_its_grants(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:organisation-detail", args=[kashmir.dfid.pk])))
    assert "DFID-2005-SHELTER" in body
    assert "DFID-2005-NFI" in body
    assert "GBP 2,500,000.00" in body
    assert "15 Oct 2005" in body


# --- catalogue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"q": "blank"}, ["Blanket"], id="name"),
        pytest.param({"q": "SHL-"}, ["CGI sheet", "Tarpaulin"], id="code"),
        pytest.param({"category": "shelter"}, ["CGI sheet", "Tarpaulin"], id="category"),
        pytest.param({"category": "kit"}, ["Winterization kit"], id="kits-are-items"),
    ],
)
def test_item_search_and_filters(kashmir, client_as, query, expected):
    body = text(client_as(Role.REGISTRAR).get(reverse("web:item-list"), query))
    assert names_in_table(body) == expected


def test_item_detail_shows_pack_sizes_and_the_kits_that_use_it(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:item-detail", args=["NFI-BLK"])))
    assert '<td>bale</td><td class="num">10</td>' in body
    assert 'href="/catalog/kits/KIT-WINT/">Winterization kit</a>' in body
    assert "2 pieces" in body
    assert "1.5 kg" in body


def test_kit_list_counts_components(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:kit-list")))
    assert re.search(r'Winterization kit</a></td>\s*<td class="num">2</td>', body)
    assert "2 \u00d7 Blanket, 1 \u00d7 Tarpaulin" in body


def test_kit_detail_lists_components(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:kit-detail", args=["KIT-WINT"])))
    assert 'href="/catalog/items/NFI-BLK/">Blanket</a></td><td class="num">2</td>' in body
    assert 'href="/catalog/items/SHL-TARP/">Tarpaulin</a></td><td class="num">1</td>' in body
    assert "IOM 2006 kit" in body


# --- pagination and live search -------------------------------------------------------------------


def test_pagination_shows_50_a_page_and_keeps_the_filters(db, client_as):
    # given 120 districts and 5 tehsils
    for n in range(120):
        AdminAreaFactory(pcode=f"PK7{n:03d}", name=f"District {n:03d}", level=AdminLevel.DISTRICT)
    for n in range(5):
        AdminAreaFactory(pcode=f"PK8{n:03d}", name=f"Tehsil {n}", level=AdminLevel.TEHSIL)
    client = client_as(Role.VIEWER)
    # when the districts matching "District" are listed, page 2
    response = client.get(reverse("web:adminarea-list"), {"q": "District", "level": "district", "page": 2})
    body = text(response)
    # then the page holds rows 51-100, and the page links keep the search and the filter
    names = names_in_table(body)
    assert names[0] == "District 050"
    assert len(names) == 50
    assert "<strong>120</strong> admin areas, showing 51\u2013100" in body
    assert 'href="?q=District&amp;level=district&amp;page=3"' in body
    assert 'href="?q=District&amp;level=district&amp;page=1"' in body
    # and the last page has the rest
    last = names_in_table(text(client.get(reverse("web:adminarea-list"), {"level": "district", "page": 3})))
    assert len(last) == 20


@pytest.mark.parametrize("page", ["0", "999", "x"], ids=["zero", "past-the-end", "not-a-number"])
def test_a_bad_page_number_still_shows_a_page(kashmir, client_as, page):
    response = client_as(Role.VIEWER).get(reverse("web:site-list"), {"page": page})
    assert response.status_code == 200
    assert names_in_table(text(response))


def test_htmx_search_answers_with_the_results_alone(kashmir, client_as):
    response = client_as(Role.VIEWER).get(
        reverse("web:adminarea-list"), {"q": "Battagram"}, headers={"HX-Request": "true"}
    )
    body = text(response)
    assert "<html" not in body
    assert names_in_table(body) == ["Batagram"]
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="plain"),
        pytest.param({"HX-Request": "true", "HX-History-Restore-Request": "true"}, id="history-restore"),
        pytest.param({"HX-Request": "true", "HX-Boosted": "true"}, id="boosted-link"),
    ],
)
def test_requests_that_want_the_page_get_the_whole_page(kashmir, client_as, headers):
    body = text(client_as(Role.VIEWER).get(reverse("web:site-list"), {"q": "hub"}, headers=headers))
    assert "<html" in body
    assert 'class="site-header"' in body


def test_list_page_without_htmx_is_a_whole_page_with_a_working_form(kashmir, client_as):
    body = text(client_as(Role.VIEWER).get(reverse("web:adminarea-list")))
    assert "<html" in body
    assert re.search(r'<form class="filters" method="get" action="/places/areas/"', body)
    assert 'type="search" name="q"' in body
    assert 'id="results"' in body


# --- no N+1: a list costs the same number of queries for 3 rows or 40 ---------------------------


def _more_areas(n: int, k) -> None:
    for i in range(n):
        area = AdminAreaFactory(level=AdminLevel.TEHSIL, parent=k.mansehra, alt_names=[f"Alt {i}"])
        SiteFactory(admin_area=area)


def _more_sites(n: int, k) -> None:
    for _ in range(n):
        SiteFactory(kind=SiteKind.CAMP, admin_area=AdminAreaFactory(parent=k.nwfp), parent_hub=k.balakot_hub)


def _more_organisations(n: int, k) -> None:
    for _ in range(n):
        GrantFactory(donor=OrganisationFactory(aliases=["x"]))


def _more_items(n: int, k) -> None:
    for i in range(n):
        item = ItemFactory(category=ItemCategory.NFI)
        PackSize.objects.create(item=item, name="bale", quantity=10 + i)
        PackSize.objects.create(item=item, name="carton", quantity=2)
        if i % 3 == 0:
            KitFactory(item=ItemFactory(category=ItemCategory.KIT))


def _more_kits(n: int, k) -> None:
    for _ in range(n):
        kit = KitFactory()
        KitComponentFactory(kit=kit, item=k.blanket, quantity=3)
        KitComponentFactory(kit=kit)


@pytest.mark.parametrize(
    ("url_name", "add_rows"),
    [
        pytest.param("web:adminarea-list", _more_areas, id="admin-areas"),
        pytest.param("web:site-list", _more_sites, id="sites"),
        pytest.param("web:organisation-list", _more_organisations, id="organisations"),
        pytest.param("web:item-list", _more_items, id="items"),
        pytest.param("web:kit-list", _more_kits, id="kits"),
        pytest.param("web:reference", _more_sites, id="reference"),
    ],
)
def test_list_pages_cost_the_same_queries_for_few_or_many_rows(
    kashmir, client_as, django_assert_max_num_queries, url_name, add_rows
):
    # given a signed-in viewer and the few rows of the fixture
    client = client_as(Role.VIEWER)
    url = reverse(url_name)
    client.get(url)  # the first request of a session may touch the session row
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    # when 40 more rows, with their related rows, are added
    add_rows(40, kashmir)
    # then the list costs exactly as many queries, and few of them
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("2 problems; nothing was written", "<strong>Nothing was written.</strong> 2 problems</p>"),
        ("Nothing was written: the file is empty", "<strong>Nothing was written: the file is empty</strong>"),
        ("the file has no 4W table", "<strong>Nothing was written.</strong> The file has no 4W table"),
    ],
    ids=["says-it-after", "says-it-first", "does-not"],
)
def test_a_refused_job_says_once_that_nothing_was_written(db, client, error, shown):
    # given a 4W preview refused by the worker, whose error may already say that nothing was written
    user = make_user(Role.COORDINATOR)
    job = Job.objects.create(
        kind="cluster_upload_preview",
        label="Preview of 4w.csv",
        owner=user,
        right=Right.REPORT_ACTIVITIES.value,
        status=JobStatus.FAILED,
        stage="refused",
        error=error,
        problems=[{"row": 3, "field": "#activity", "reason": "not a known activity"}],
        finished_at=timezone.now(),
    )
    client.force_login(user)
    page = client.get(reverse("jobs:job-detail", args=[job.pk])).content.decode()
    # then the page says it once
    assert page.lower().count("nothing was written") == 1
    assert shown in page


def test_a_jobs_page_writes_its_figures_with_separators_and_names_a_whole_file_problem(db, client):
    # given a running job, a refused one with a problem of the whole file, and a succeeded one
    user = make_user(Role.COORDINATOR)
    common = {"kind": "cluster_upload_preview", "owner": user, "right": Right.REPORT_ACTIVITIES.value}
    running = Job.objects.create(
        **common,
        label="Preview of big.csv",
        status=JobStatus.RUNNING,
        stage="checking",
        done=12500,
        total=1000000,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    refused = Job.objects.create(
        **common,
        label="Preview of empty.csv",
        status=JobStatus.FAILED,
        stage="refused",
        error="1 problem; nothing was written",
        problems=[{"row": None, "field": "file", "reason": "the file is empty"}],
        finished_at=timezone.now(),
    )
    done = Job.objects.create(
        **common,
        label="Preview of 4w.csv",
        status=JobStatus.SUCCEEDED,
        result={
            "summary": "Preview",
            "figures": [{"label": "Rows read", "value": 29800}, {"label": "Batch", "value": "7"}],
        },
        finished_at=timezone.now(),
    )
    client.force_login(user)

    def page(job: Job) -> str:
        return re.sub(r"\s+", " ", client.get(reverse("jobs:job-detail", args=[job.pk])).content.decode())

    # then the progress and the figures have thousands separators, a text figure as it is
    assert "checking: 12,500 of 1,000,000." in page(running).lower()
    assert '<dd class="big">29,800</dd>' in page(done)
    assert '<dd class="big">7</dd>' in page(done)
    # and the whole file's problem names no row and no column called "file"
    shown = page(refused)
    assert "whole file" in shown
    assert '<td class="code">file</td>' not in shown


@pytest.mark.parametrize(
    ("role", "who", "reason"),
    [
        pytest.param(Role.COORDINATOR, "bogus", "'bogus' is not a choice", id="unknown-value"),
        pytest.param(Role.ADMIN, "bogus", "'bogus' is not a choice", id="unknown-value-admin"),
        pytest.param(Role.COORDINATOR, "all", "for an admin only", id="all-not-admin"),
    ],
)
def test_the_jobs_filter_refuses_what_it_cannot_read(client_as, role, who, reason):
    # given a jobs list asked for with a `who` it does not know (or may not use)
    response = client_as(role).get(reverse("jobs:job-list"), {"who": who})
    # then it answers 422 with the reason, and lists nothing, rather than ignoring the value
    assert response.status_code == 422
    body = html.unescape(response.content.decode())
    assert reason in body
    assert "Nothing is listed for this filter" in body


def test_the_jobs_filter_takes_its_own_values(client_as):
    assert client_as(Role.COORDINATOR).get(reverse("jobs:job-list")).status_code == 200
    assert client_as(Role.ADMIN).get(reverse("jobs:job-list"), {"who": "all"}).status_code == 200
