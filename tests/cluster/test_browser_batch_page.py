"""The batch page in a real browser: its facts stay each in its own box, however long the file's
digest (a SHA-256, 64 characters without a space); its revert is sent only once ticked."""

from __future__ import annotations

import pytest

from reliefops.cluster.models import ImportBatch
from reliefops.core.roles import Role
from tests.cluster.conftest import row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_digest_wraps_inside_its_box_and_hides_no_other_fact(cluster, upload, signed_in_page):
    # given a batch of NRC's
    upload([row(id="NRC-1")])
    batch = ImportBatch.objects.get()
    page = signed_in_page(Role.COORDINATOR)
    page.set_viewport_size({"width": 1300, "height": 900})
    # when its page is shown
    page.goto(f"/cluster/batches/{batch.pk}/")
    digest = page.locator("dd.digest")
    box = digest.locator("xpath=..").bounding_box()
    # then the digest is written whole, inside the box of its own fact, not over the next one
    assert digest.inner_text() == batch.digest
    assert digest.evaluate("e => e.scrollWidth <= e.clientWidth")
    text = digest.bounding_box()
    assert text["x"] + text["width"] <= box["x"] + box["width"]


def test_a_revert_is_sent_only_once_its_tick_says_the_person_read_what_it_undoes(
    cluster, upload, signed_in_page
):
    # given a batch of NRC's, and its page
    upload([row(id="NRC-1")])
    batch = ImportBatch.objects.get()
    page = signed_in_page(Role.COORDINATOR)
    page.goto(f"/cluster/batches/{batch.pk}/")
    assert "deletes the 1 row version it wrote" in page.locator("form.revert-batch").inner_text()
    # when Revert is pressed without the tick, then the browser sends nothing: the batch stands
    page.get_by_role("button", name=f"Revert batch {batch.pk}").click()
    assert page.url.endswith(f"/cluster/batches/{batch.pk}/")
    assert page.locator("#confirm-revert").evaluate("e => !e.validity.valid")
    batch.refresh_from_db()
    assert not batch.is_reverted
    # and once ticked, it is reverted
    page.get_by_label(f"I understand the revert undoes what batch {batch.pk} wrote").check()
    page.get_by_role("button", name=f"Revert batch {batch.pk}").click()
    page.wait_for_selector(".message-success")
    batch.refresh_from_db()
    assert batch.is_reverted
