"""core.access: roles, rights and scopes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from reliefops.core import access
from reliefops.core.errors import AccessDenied
from reliefops.core.roles import RIGHT_WORDS, ROLE_RIGHTS, Right, Role
from reliefops.core.security import whole_id
from tests.factories import SiteFactory


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("right", list(Right), ids=lambda r: r.value)
def test_require_follows_role_table(db, user_of_role, role, right):
    # given a user of the role
    user = user_of_role(role)
    # when / then: require passes exactly for the rights the table gives the role
    if right in ROLE_RIGHTS[role]:
        assert access.require(user, right) == role
    else:
        with pytest.raises(AccessDenied):
            access.require(user, right)


def test_a_refusal_says_what_was_tried_the_right_it_needs_and_who_holds_it(db, user_of_role):
    # given a hub manager, who may not see the cluster's figures
    manager = user_of_role(Role.HUB_MANAGER)
    # when it asks for them, then it hears in plain words what it tried and which roles may
    with pytest.raises(AccessDenied) as refused:
        access.require(manager, Right.VIEW_CLUSTER)
    assert refused.value.message == (
        "your role, hub manager, may not see the cluster's figures (gap analysis, 4W matrix, totals, needs, "
        "sitrep); that needs the right view_cluster, which an admin, a coordinator, a partner reporter or a "
        "viewer holds"
    )


@pytest.mark.parametrize("right", list(Right), ids=lambda r: r.value)
def test_every_right_is_refused_in_words_of_its_own(db, user_of_role, right):
    # given a user of a role without the right (no role lacks view_reference: take it from a viewer)
    role = next((r for r in Role if right not in ROLE_RIGHTS[r]), None)
    if role is None:
        role, rights = Role.VIEWER, ROLE_RIGHTS[Role.VIEWER] - {right}
    else:
        rights = ROLE_RIGHTS[role]
    user = user_of_role(role)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ROLE_RIGHTS, role, rights)
        with pytest.raises(AccessDenied) as refused:
            access.require(user, right)
    message = refused.value.message
    # then the refusal names the role, the work in words of its own (not the right's bare name, "view
    # cluster"), the right and who holds it
    assert message.startswith(f"your role, {role.value.replace('_', ' ')}, may not {RIGHT_WORDS[right]}; ")
    assert RIGHT_WORDS[right] != right.value.replace("_", " ")
    assert message.endswith(f"needs the right {right.value}, which an admin holds") or (
        f"needs the right {right.value}, which an admin, " in message
        or f"needs the right {right.value}, which an admin or " in message
    )


def test_anonymous_user_has_no_rights(db):
    for right in Right:
        with pytest.raises(AccessDenied):
            access.require(AnonymousUser(), right)


def test_hub_manager_posts_stock_only_at_own_hub(db, user_of_role):
    own, other = SiteFactory(), SiteFactory()
    manager = user_of_role(Role.HUB_MANAGER, hubs=[own])
    assert access.access_site_by_id(manager, own.pk, Right.POST_STOCK) == own
    with pytest.raises(AccessDenied, match="may not post stock"):
        access.access_site_by_id(manager, other.pk, Right.POST_STOCK)


def test_admin_reaches_every_site(db, user_of_role):
    site = SiteFactory()
    admin = user_of_role(Role.ADMIN)
    assert access.access_site_by_id(admin, site.pk, Right.POST_STOCK) == site


def test_export_right_is_per_user(db, user_of_role):
    assert not access.can_export_personal_data(user_of_role(Role.REGISTRAR))
    assert access.can_export_personal_data(user_of_role(Role.REGISTRAR, can_export=True))
    assert access.can_export_personal_data(user_of_role(Role.ADMIN))


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        pytest.param(Role.DISTRIBUTOR, "hubs", id="distributor-with-hubs"),
        pytest.param(Role.VIEWER, "distribution_points", id="viewer-with-points"),
    ],
)
def test_scopes_belong_to_their_roles(db, role, scope):
    from reliefops.core.errors import ServiceError
    from tests.factories import make_user

    with pytest.raises(ServiceError, match="scope of the"):
        make_user(role, **{scope: [SiteFactory()]})


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12),
        (" 12 ", 12),
        (7, 7),
        ("0012", 12),
        ("9223372036854775807", 9223372036854775807),
        ("9223372036854775808", None),  # beyond a 64-bit id
        ("²²", None),  # digits to str.isdigit(), not to int()
        ("١٢", None),  # Arabic-Indic digits: int() reads them, but no address or form writes an id so
        ("-3", None),
        ("1.5", None),
        ("", None),
        ("PK504", None),
    ],
)
def test_an_id_is_plain_digits_of_a_64_bit_number(text, number):
    assert whole_id(text) == number
