"""Searches of households' personal data stay out of the page address (reliefops.web.searches): the
registry's search and the handover page's search by name are posted, kept in the user's session
under a short handle, and shown at `?s=<handle>`; a handle that is not the user's shows the page
with an empty search and a message."""

from __future__ import annotations

import base64
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from reliefops.core.models import AuditEvent
from reliefops.core.roles import Role
from tests.factories import make_user
from tests.households.conftest import (
    register,
    register_three_sons_and_one_other,
    search,
)

REGISTRY = "/households/registry/"
NAME = "Ghulam Rasool"  # the father's name of the household register() makes
STALE_TEXT = "That search is no longer kept"
ANOTHER = {
    "head_name": "Sher Zaman",
    "father_or_husband_name": "Gul Zaman",
    "document_number": "13503-0000002-1",
}


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def handle_of(address: str) -> str:
    return parse_qs(urlsplit(address).query)["s"][0]


def test_a_registry_search_is_posted_and_shown_at_an_address_without_the_name(op, caplog):
    # given a household and a registrar
    household = register(op)
    register(
        op, head_name="Sher Zaman", father_or_husband_name="Gul Zaman", document_number="13503-0000002-1"
    )
    client = signed_in(op.registrar)
    caplog.set_level(logging.DEBUG)
    # when the registrar searches by a father's name and a status
    answer = client.post(REGISTRY, {"q": NAME, "status": "active", "page": "3"})
    # then the answer redirects to the registry with a handle and the status, never the name
    assert answer.status_code == 303
    address = answer["Location"]
    assert address.startswith(f"{REGISTRY}?status=active&s=")
    assert "Ghulam" not in address
    assert "Rasool" not in address
    # and the page at that address finds the household by the name kept in the session
    page = client.get(address)
    text = page.content.decode()
    assert page.status_code == 200
    assert f'href="/households/{household.pk}/"' in text
    assert "Sher Zaman" not in text
    assert f'value="{NAME}"' in text  # the search box shows what was searched
    # and what the page shows is audited as before, without the words searched
    event = AuditEvent.objects.get(action="household.view_personal_data", actor=op.registrar)
    assert event.after["households"] == [household.pk]
    assert "Rasool" not in str(event.after)
    # and no log line holds them
    assert "Rasool" not in caplog.text
    # and the page is kept in no cache, and sends no address beyond this server
    assert page["Cache-Control"] == "private, no-store"
    assert page["Referrer-Policy"] == "same-origin"


def test_the_registrys_search_form_posts_with_its_csrf_token(op):
    text = signed_in(op.registrar).get(REGISTRY).content.decode()
    form = text[text.index('<form class="filters"') :]
    form = form[: form.index("</form>")]
    assert 'method="post"' in form
    assert 'hx-post="/households/registry/"' in form
    assert 'name="csrfmiddlewaretoken"' in form


def test_paging_keeps_the_search_and_a_new_search_starts_at_the_first_page(op, monkeypatch):
    # given three households of one father's name, two to a page
    monkeypatch.setattr("reliefops.web.pages.PAGE_SIZE", 2)
    monkeypatch.setattr("reliefops.households.views.registry.PAGE_SIZE", 2)
    register_three_sons_and_one_other(op)
    client = signed_in(op.registrar)
    # when the registrar searches and goes to the next page
    first = search(client, REGISTRY, NAME)
    handle = handle_of(first.redirect_chain[-1][0])
    assert f'href="?s={handle}&amp;page=2"' in first.content.decode()
    second = client.get(REGISTRY, {"s": handle, "page": 2}).content.decode()
    # then the next page holds the rest of the search, and nothing else
    assert "Son 0" in second or "Son 2" in second
    assert "Sher Zaman" not in second
    assert "<strong>3</strong>" in second
    # and the same search posted again keeps its handle, without the page
    again = client.post(REGISTRY, {"q": NAME, "page": "2"})
    assert again["Location"] == f"{REGISTRY}?s={handle}"


def test_an_address_that_carries_the_words_is_moved_to_a_handle(op):
    # given an old bookmark of a search by identity number
    household = register(op)
    client = signed_in(op.registrar)
    # when it is opened
    answer = client.get(REGISTRY, {"q": "1350312345671", "status": "active"})
    # then it is redirected to an address without the number, which finds the household
    assert answer.status_code == 303
    assert "13503" not in answer["Location"]
    assert answer["Location"].startswith(f"{REGISTRY}?status=active&s=")
    assert f'href="/households/{household.pk}/"' in client.get(answer["Location"]).content.decode()


def test_an_empty_search_clears_the_handle(op):
    client = signed_in(op.registrar)
    assert client.post(REGISTRY, {"q": "  ", "status": "merged"})["Location"] == f"{REGISTRY}?status=merged"
    assert client.post(REGISTRY, {"q": ""})["Location"] == REGISTRY


def test_a_handle_of_another_user_shows_the_page_with_an_empty_search_and_a_message(op):
    # given a search made by one registrar
    register(op)
    register(
        op, head_name="Sher Zaman", father_or_husband_name="Gul Zaman", document_number="13503-0000002-1"
    )
    mine = signed_in(op.registrar)
    address = mine.post(REGISTRY, {"q": "Sher Zaman"})["Location"]
    # when another registrar opens its address (a link passed on, a shared laptop after sign-out)
    other = signed_in(make_user(Role.REGISTRAR))
    page = other.get(address)
    text = page.content.decode()
    # then the page answers, with an empty search, every household, and says why
    assert page.status_code == 200
    assert STALE_TEXT in text
    assert "Sher Zaman" in text
    assert "Muhammad Aslam" in text
    assert 'value="Sher Zaman"' not in text
    # and its download is not the whole registry in place of the search: the page is shown instead
    download = other.get(address + "&format=csv")
    assert "Content-Disposition" not in download
    assert STALE_TEXT in download.content.decode()
    assert not AuditEvent.objects.filter(action="household.export").exists()


@pytest.mark.parametrize("handle", ["nonsense", "A" * 500, ""], ids=["unknown", "long", "empty"])
def test_a_handle_that_is_not_kept_is_no_error(op, handle):
    page = signed_in(op.registrar).get(REGISTRY, {"s": handle})
    assert page.status_code == 200
    assert (STALE_TEXT in page.content.decode()) is bool(handle)


def test_signing_out_ends_the_search(op):
    # given a search, then the registrar signs out and in again on the same browser
    client = signed_in(op.registrar)
    address = client.post(REGISTRY, {"q": NAME})["Location"]
    client.post("/logout/")
    client.force_login(op.registrar)
    # then its address no longer finds it
    assert STALE_TEXT in client.get(address).content.decode()


def test_a_handle_is_read_only_on_the_page_it_was_made_for(op, open_round):
    round_obj, _, _ = open_round
    client = signed_in(op.distributor)
    address = client.post(REGISTRY, {"q": "Aslam"})["Location"]
    assert "Muhammad Aslam" in client.get(address).content.decode()
    handover = client.get(f"/households/rounds/{round_obj.pk}/handover/", {"s": handle_of(address)})
    assert handover.status_code == 200
    assert STALE_TEXT in handover.content.decode()
    assert "Choose" not in handover.content.decode()


def test_every_search_of_a_session_is_found_however_many_and_in_whatever_order(op):
    # given a registrar who searched thirty times (two tabs, search-as-you-type on a slow link):
    # nothing of a search is kept on the server, so no search can undo or push out another
    client = signed_in(op.registrar)
    addresses = [client.post(REGISTRY, {"q": f"name {n}"})["Location"] for n in range(30)]
    # then each address, opened in any order, finds its own words, the oldest too
    for n, address in reversed(list(enumerate(addresses))):
        page = client.get(address).content.decode()
        assert STALE_TEXT not in page
        assert f'value="name {n}"' in page
    # and the same search again has the same address (one entry in the history)
    assert client.post(REGISTRY, {"q": "name 3"})["Location"] == addresses[3]


def test_a_handle_holds_nothing_readable_and_nothing_is_kept_on_the_server(op):
    client = signed_in(op.registrar)
    handle = handle_of(client.post(REGISTRY, {"q": "Ghulam Rasool"})["Location"])
    assert "Ghulam" not in base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode("latin-1")
    assert not any("search" in key for key, _ in client.session.items())
    # a handle altered by one character is not read
    altered = handle[:10] + ("A" if handle[10] != "A" else "B") + handle[11:]
    assert STALE_TEXT in client.get(REGISTRY, {"s": altered}).content.decode()


def test_a_search_typed_into_the_page_gets_its_results_at_the_new_address(op):
    # given a registrar typing into the search box (htmx posts the form, follows the redirect and
    # puts the address it ends at into the browser's history)
    register(op)
    client = signed_in(op.registrar)
    answer = client.post(REGISTRY, {"q": "aslam"}, headers={"HX-Request": "true"}, follow=True)
    # then the address holds a handle only, and the answer is the results alone
    assert "aslam" not in answer.redirect_chain[-1][0].lower()
    text = answer.content.decode()
    assert "Muhammad Aslam" in text
    assert "<form" not in text


def test_a_search_too_long_is_refused_and_its_address_stays_short(op):
    client = signed_in(op.registrar)
    address = client.post(REGISTRY, {"q": "x" * 5000})["Location"]
    assert len(address) < 400
    page = client.get(address)
    assert page.status_code == 422
    assert "longer than 100 characters" in page.content.decode()


def test_a_distributors_registry_search_is_kept_out_of_the_address(op, open_round):
    client = signed_in(op.distributor)
    answer = client.post(REGISTRY, {"q": "batkul"})
    assert "batkul" not in answer["Location"].lower()
    assert "Muhammad Aslam" in client.get(answer["Location"]).content.decode()


def test_the_handover_pages_search_by_name_keeps_the_point_and_day_in_the_address_only(op, open_round):
    # given a distributor at Bana on the handover page
    round_obj, household, _ = open_round
    client = signed_in(op.distributor)
    url = f"/households/rounds/{round_obj.pk}/handover/"
    form = client.get(url).content.decode()
    assert f'<form method="post" action="{url}find/" class="filters" role="search">' in form
    # when a household is searched by name
    answer = client.post(url + "find/", {"q": "Aslam", "point": "DP-BANA", "on": "2005-11-20"})
    # then the page comes back at an address with the point, the day and a handle, not the name
    assert answer.status_code == 303
    assert answer["Location"].startswith(f"{url}?point=DP-BANA&on=2005-11-20&s=")
    assert "Aslam" not in answer["Location"]
    page = client.get(answer["Location"]).content.decode()
    assert f"household={household.pk}" in page
    assert "Choose" in page
    # and the view is audited as before
    event = AuditEvent.objects.filter(action="household.view_personal_data", actor=op.distributor).last()
    assert event.after == {"where": f"handover {round_obj.code}", "households": [household.pk], "count": 1}
    # and an old address with the name is moved to a handle too
    moved = client.get(url, {"q": "Aslam", "point": "DP-BANA"})
    assert moved.status_code == 303
    assert "Aslam" not in moved["Location"]
    # and a handle that is not kept shows the page with a message, no household found
    stale = client.get(url, {"s": "nonsense", "point": "DP-BANA"}).content.decode()
    assert STALE_TEXT in stale
    assert "Choose" not in stale


def test_the_handover_search_address_is_for_posting(op, open_round):
    round_obj, _, _ = open_round
    answer = signed_in(op.distributor).get(f"/households/rounds/{round_obj.pk}/handover/find/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/households/rounds/{round_obj.pk}/handover/"
