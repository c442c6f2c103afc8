"""How the cluster pages write what they show: numbers with thousands separators, headline figures
by their names, a source marked illustrative once, problems of a whole file named as such."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reliefops.cluster.importers import needs_import_file
from reliefops.core.roles import Role
from tests.cluster.conftest import row


def text(response) -> str:
    return response.content.decode()


def test_the_matrix_writes_households_with_thousands_separators(cluster, upload, client_as):
    upload([row(id="NRC-1", qty="15068", hh="15068")])
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-matrix"), {"activity": "TENTS"}))
    assert "TENTS (15,068 hh)" in page
    assert '<span class="aka">1 row</span>' in page
    assert "15068" not in page


def test_the_matrix_never_adds_households_of_different_activities(cluster, upload, client_as):
    # given NRC giving tents to 100 households and blankets to 300 in Batagram
    upload([row(id="NRC-1"), row(id="NRC-2", activity="Blankets distributed", qty="600", hh="300")])
    # when the matrix shows every activity
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-matrix")))
    # then the cell gives each activity's households, and no sum of them (400 households)
    assert "BLANKETS (300 hh), TENTS (100 hh)" in page
    assert "400 hh" not in page
    assert '<span class="aka">2 rows</span>' in page


def test_the_totals_page_names_its_headline_figures(cluster, upload, client_as):
    upload([row(id="NRC-1", qty="1200", hh="1200")])
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-totals")))
    headline = page.split('class="data data-narrow headline"')[1].split("</table>")[0]
    # each figure is named by its activity, as the rows and the By activity table name it, with the
    # published figure it is compared with beside it
    assert re.search(
        r'<tr data-key="tents_delivered"><th scope="row">Tents distributed</th><td class="num">1,200</td>'
        r"<td>tents delivered</td></tr>",
        headline,
    )
    assert '<th scope="row">Transitional shelters built</th><td class="num">0</td>' in headline
    assert '<th scope="col">Published as</th>' in headline
    assert "Tents delivered" not in page
    # the keys the JSON and the command line publish are not the page's labels
    assert not re.search(r">\s*[a-z]+(_[a-z]+)+\s*<", headline)


def test_a_source_marked_illustrative_says_so_once(cluster, client_as):
    needs_import_file(
        actor=None,
        data=(
            b"P,N,I,S\n#adm2+code,#inneed+hh,#meta+illustrative,#meta+source\n"
            b"PK504,400,yes,illustrative: derived from published totals\n"
            b"PK107,300,no,UN OCHA assessment\n"
        ),
        filename="needs.csv",
    )
    page = text(client_as(Role.VIEWER).get(reverse("cluster:cluster-needs")))
    sources = re.findall(r'<td class="source">(.*?)</td>', page)
    assert sources == [  # Muzaffarabad (AJK) first, then Batagram
        "UN OCHA assessment",
        '<span class="tag tag-illustrative">illustrative</span> derived from published totals',
    ]
    assert "illustrative illustrative" not in re.sub(r"<[^>]+>", "", page)


def test_a_problem_of_the_whole_file_is_named_so_on_the_needs_page(cluster, client_as):
    # given a needs file without a hashtag row: a problem of the whole file, of no row and no column
    file = SimpleUploadedFile("needs.csv", b"a,b\n1,2\n")
    response = client_as(Role.COORDINATOR).post(reverse("cluster:cluster-needs"), {"file": file})
    assert response.status_code == 422
    table = text(response).split('<table class="data problem-table">')[1].split("</table>")[0]
    # then its row says it is the whole file's, and no column is named "file"
    assert re.search(
        r'<td class="num"><span class="none">whole file</span></td>'
        r'<td class="code"><span class="none">—</span></td><td>no HXL hashtag row',
        table,
    )
    assert '<td class="code">file</td>' not in table
