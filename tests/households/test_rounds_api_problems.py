"""`POST /api/households/rounds`: a refused round lists every problem of its request at once — the
names the API could not find with the round's own problems, each by its place in the request
(`points.0.site`, `package.1.item`) — and writes nothing."""

from __future__ import annotations

from reliefops.core.models import AuditEvent
from reliefops.households.models import DistributionRound, PackageLine, RoundPoint
from tests.households.conftest import winter_round
from tests.households.test_api import client_for, post

ROUND = {
    "code": "WR-9",
    "name": "Winter Race",
    "starts_on": "2005-11-14",
    "ends_on": "2006-01-31",
    "points": [{"site": "DP-BANA"}],
    "package": [{"item": "CGI-SHEET", "per_household": 10}],
}


def written():
    return (
        DistributionRound.objects.count(),
        RoundPoint.objects.count(),
        PackageLine.objects.count(),
        AuditEvent.objects.filter(action="round.create").count(),
    )


def test_unknown_names_are_refused_with_the_rounds_own_problems_at_once(op):
    winter_round(op, open_it=False)  # WR-1
    before = written()
    body = {
        **ROUND,
        "code": "WR-1",  # taken
        "ends_on": "2005-11-01",  # before it starts
        "points": [
            {"site": "NOWHERE"},
            {"site": "DP-BANA", "serves": "PK999"},
            {"site": "DP-BANA"},
        ],
        "package": [
            {"item": "CGI-SHEET"},  # no quantity
            {"item": "TENT-XXL", "per_member": -1},
        ],
        "areas": ["PK504", "PK000"],
        "sites": ["CAMP-NONE"],
        "not_served_in": ["WR-1", "WR-0"],
    }
    refused = post(client_for(op.registrar), "/api/households/rounds", body)
    assert refused.status_code == 422, refused.content
    problems = [(p["row"], p["field"], p["reason"]) for p in refused.json()["problems"]]
    assert problems == [
        (None, "areas", "no admin area with P-code 'PK000'"),
        (None, "sites", "unknown site 'CAMP-NONE'"),
        (None, "not_served_in", "no round 'WR-0'"),
        (None, "code", "round WR-1 exists already"),
        (None, "ends_on", "the round ends before it starts"),
        (None, "points.0.site", "unknown site 'NOWHERE'"),
        (None, "points.1.serves", "no admin area with P-code 'PK999'"),
        (None, "points.2.site", "Bana helipad is named twice"),
        (None, "package.0.per_household", "give a quantity per household or per member"),
        (None, "package.1.item", "unknown item 'TENT-XXL'"),
        (None, "package.1.per_member", "a whole number of 0 or more, not -1"),
    ]
    assert refused.json()["detail"].startswith("11 problem")
    assert written() == before


def test_a_round_whose_names_are_all_known_is_planned(op):
    created = post(client_for(op.registrar), "/api/households/rounds", {**ROUND, "areas": ["PK504"]})
    assert created.status_code == 201, created.content
    assert created.json()["points"] == [{"site": "DP-BANA", "site_name": "Bana helipad", "serves": "PK50401"}]
    assert created.json()["eligibility"]["areas"] == ["PK504"]


def test_two_unknown_names_alone_are_refused_together(op):
    body = {**ROUND, "points": [{"site": "NOWHERE"}], "package": [{"item": "NOTHING", "per_household": 1}]}
    refused = post(client_for(op.registrar), "/api/households/rounds", body)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {"row": None, "field": "points.0.site", "reason": "unknown site 'NOWHERE'"},
        {"row": None, "field": "package.0.item", "reason": "unknown item 'NOTHING'"},
    ]
    assert not DistributionRound.objects.exists()


def test_an_unknown_name_given_twice_is_one_problem(op):
    body = {**ROUND, "areas": ["PK999", "PK999"], "sites": ["CAMP-NONE", "CAMP-NONE"], "living": "camp"}
    refused = post(client_for(op.registrar), "/api/households/rounds", body)
    assert refused.status_code == 422
    reasons = [p["reason"] for p in refused.json()["problems"]]
    assert reasons.count("no admin area with P-code 'PK999'") == 1
    assert reasons.count("unknown site 'CAMP-NONE'") == 1


def test_every_problem_of_a_package_line_or_point_is_named_by_its_place_in_the_request(op):
    body = {
        **ROUND,
        "points": [{"site": "DP-BANA"}, {"site": "DP-BANA"}],
        "package": [
            {"item": "CGI-SHEET", "per_household": 10},
            {"item": "CGI-SHEET", "per_household": 1, "at_most": 0},
        ],
    }
    refused = post(client_for(op.registrar), "/api/households/rounds", body)
    assert refused.status_code == 422, refused.content
    assert [(p["row"], p["field"]) for p in refused.json()["problems"]] == [
        (None, "points.1.site"),
        (None, "package.1.item"),
        (None, "package.1.at_most"),
    ]
