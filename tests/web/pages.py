"""The pages of the web shell, for tests that go through all of them."""

from __future__ import annotations

from django.urls import reverse

# (id, how to build the URL from the `kashmir` fixture)
PAGES = [
    ("home", lambda k: reverse("web:home")),
    ("adminarea-list", lambda k: reverse("web:adminarea-list")),
    ("adminarea-detail", lambda k: reverse("web:adminarea-detail", args=[k.mansehra.pcode])),
    ("site-list", lambda k: reverse("web:site-list")),
    ("site-detail", lambda k: reverse("web:site-detail", args=[k.balakot_hub.pk])),
    ("organisation-list", lambda k: reverse("web:organisation-list")),
    ("organisation-detail", lambda k: reverse("web:organisation-detail", args=[k.dfid.pk])),
    ("item-list", lambda k: reverse("web:item-list")),
    ("item-detail", lambda k: reverse("web:item-detail", args=[k.blanket.code])),
    ("kit-list", lambda k: reverse("web:kit-list")),
    ("kit-detail", lambda k: reverse("web:kit-detail", args=[k.kit.item.code])),
]
