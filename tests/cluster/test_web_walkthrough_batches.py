"""A batch's page once it is reverted: what the batch did, when and by whom it was reverted, what
the revert undid; the revert done only once confirmed, after the page said what it undoes; and the
counts of batches and reverts written with thousands separators."""

from __future__ import annotations

import re

from django.urls import reverse

from reliefops.cluster.models import ActivityRow, ImportBatch
from reliefops.core.roles import Role
from tests.cluster.conftest import row

CONFIRMED = {"confirm": "yes"}  # the tick that says the person knows what a revert undoes


def text(response) -> str:
    return response.content.decode()


def test_a_reverted_batchs_page_keeps_what_it_did_and_says_who_reverted_it(cluster, upload, client_as):
    # given a batch that added one row and updated another
    upload([row(id="NRC-1"), row(id="NRC-2")])
    later = upload([row(id="NRC-2", qty="90"), row(id="NRC-3")])
    assert (later.added, later.updated) == (1, 1)
    client = client_as(Role.COORDINATOR)
    # when a coordinator reverts it
    reverted = client.post(
        reverse("cluster:cluster-batch-revert", args=[later.batch_id]), CONFIRMED, follow=True
    )
    page = text(reverted)
    batch = ImportBatch.objects.get(pk=later.batch_id)
    # then its page still says what it did, that it was reverted, when and by whom
    assert re.search(r"Committed on [^<]+ by system\. Reverted on [^<]+ by ", page)
    assert f"by {batch.reverted_by_label}: its rows are as they were before it." in page
    assert "<dd>1 · 1 · 0</dd>" in page
    # what the revert undid, as recorded
    assert "<dt>Undone by the revert</dt><dd>2 versions it wrote removed · 1 it replaced or withdrew" in page
    # and why its rows are no longer listed, rather than a bare "removed"
    assert "Its rows were removed when it was reverted." not in page
    assert "It had written 2 row versions (1 added, 1 updated, 0 withdrawn)." in page
    assert "which rows they were is no longer kept" in page
    # a batch not reverted still counts the versions it replaced
    first = text(client.get(reverse("cluster:cluster-batch", args=[later.batch_id - 1])))
    assert "<dt>Versions it replaced</dt>" in first
    assert "Undone by the revert" not in first


def test_a_revert_says_what_it_undoes_and_is_done_only_once_confirmed(cluster, upload, client_as):
    # given a batch that added one row, updated another and withdrew a third
    upload([row(id="NRC-1"), row(id="NRC-2"), row(id="NRC-3")])
    later = upload([row(id="NRC-2", qty="90"), row(id="NRC-3", action="Delete"), row(id="NRC-4")])
    assert (later.added, later.updated, later.withdrawn) == (1, 1, 1)
    client = client_as(Role.COORDINATOR)
    revert = reverse("cluster:cluster-batch-revert", args=[later.batch_id])
    # when its page is opened, then the revert says what it will do, with its counts, and asks for a tick
    page = " ".join(text(client.get(reverse("cluster:cluster-batch", args=[later.batch_id]))).split())
    assert (
        f"Reverting batch {later.batch_id} deletes the 3 row versions it wrote and makes current again the "
        "2 it replaced or withdrew: the 1 row it added is taken out (or withdrawn again, where it had "
        "added back a row withdrawn before), the 1 it updated gets back its earlier values, and the 1 it "
        "withdrew is current again." in page
    )
    assert (
        '<input type="checkbox" name="confirm" value="yes" id="confirm-revert" required> I understand '
        f"the revert undoes what batch {later.batch_id} wrote" in page
    )
    assert page.index("Reverting batch") < page.index(f"Revert batch {later.batch_id}</button>")
    # when the revert is posted without the tick (no browser check: a script, an old page)
    refused = client.post(revert, follow=True)
    # then nothing is reverted, and the page says why
    assert not ImportBatch.objects.get(pk=later.batch_id).is_reverted
    assert ActivityRow.objects.filter(replaced_in__isnull=True, row_id="NRC-4").exists()
    assert (
        f"Batch {later.batch_id} was not reverted: tick “I understand the revert undoes what batch "
        f"{later.batch_id} wrote” to revert it." in text(refused)
    )
    # and with the tick, it is
    done = text(client.post(revert, CONFIRMED, follow=True))
    assert f"Batch {later.batch_id} reverted: 3 row versions removed, 2 restored as they were." in done
    assert ImportBatch.objects.get(pk=later.batch_id).is_reverted
    assert not ActivityRow.objects.filter(row_id="NRC-4").exists()


def test_counts_of_batches_and_reverts_carry_thousands_separators(cluster, upload, client_as):
    # given a batch of 1,000 rows updating 1,000 others
    upload([row(id=f"NRC-{n}") for n in range(1000)])
    later = upload([row(id=f"NRC-{n}", qty="90") for n in range(1000)])
    client = client_as(Role.COORDINATOR)
    listing = text(client.get(reverse("cluster:cluster-batches")))
    assert re.findall(r'<td class="num">([\d,]+)</td>', listing)[:4] == ["0", "1,000", "0", "0"]
    detail = text(client.get(reverse("cluster:cluster-batch", args=[later.batch_id])))
    assert 'Rows it added, updated or withdrawn <span class="count">1,000</span>' in detail
    # when it is reverted, the message writes both counts alike
    done = text(
        client.post(reverse("cluster:cluster-batch-revert", args=[later.batch_id]), CONFIRMED, follow=True)
    )
    assert (
        f"Batch {later.batch_id} reverted: 1,000 row versions removed, 1,000 restored as they were." in done
    )
