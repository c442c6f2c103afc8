"""The batch page in a real browser: its facts stay each in its own box, however long the file's
digest (a SHA-256, 64 characters without a space)."""

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
