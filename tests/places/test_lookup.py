"""places.lookup: a place name as people write it, matched to its admin area with a score."""

from __future__ import annotations

import pytest

from reliefops.places.importers import admin_areas_import_file
from reliefops.places.lookup import PlaceIndex, fold, place_match, variant_key
from reliefops.scenarios.base import StepContext
from reliefops.scenarios.kashmir2005 import DATA_DIR
from reliefops.scenarios.kashmir2005.reference import gazetteer_csv


@pytest.fixture
def plain_gazetteer(db, places_csv):
    """The gazetteer file alone: official names, no alternate spellings."""
    admin_areas_import_file(actor=None, data=places_csv, filename="places.csv")


@pytest.fixture
def scenario_gazetteer(db):
    """The gazetteer as the scenario loads it, with the spellings met in 2005 reports."""
    data = gazetteer_csv(StepContext(data_dir=DATA_DIR, stdout=None))  # type: ignore[arg-type]
    admin_areas_import_file(actor=None, data=data, filename="places.csv")


@pytest.mark.parametrize(
    ("name", "pcode"),
    [
        ("Battagram", "PK504"),
        ("Batagram", "PK504"),
        ("Bala Kot", "PK52201"),
        ("Balakot", "PK52201"),
        ("bala-kot", "PK52201"),
        ("Muzafarabad", "PK107"),
        ("MUZAFFARABAD", "PK107"),
        ("Neelam", "PK108"),
        ("Alai", "PK50401"),
        ("Allai valley", "PK50401"),
        ("NWFP", "PK5"),
        ("Kala Dhaka", "PK534"),
        ("Besham", "PK52902"),
    ],
    ids=lambda v: v.replace(" ", "_") if isinstance(v, str) else v,
)
def test_known_spellings_find_the_place_first_with_full_score(scenario_gazetteer, name, pcode):
    best = place_match(name)[0]
    assert best.area.pcode == pcode
    assert best.score == 1.0


@pytest.mark.parametrize(
    ("name", "level", "pcode", "score"),
    [
        ("Battagram", "district", "PK504", 0.9),
        ("Balakot", None, "PK52201", 0.95),
        ("Muzafarabad", "district", "PK107", 0.9),
        ("Abotabad", "district", "PK501", 0.9),
        ("Neelam", None, "PK108", 0.8),
        ("Manserha", "district", "PK522", None),
    ],
    ids=["doubled-letter", "run-together", "single-f", "single-b-and-t", "vowel", "typo"],
)
def test_variants_match_without_alternate_names(plain_gazetteer, name, level, pcode, score):
    best = place_match(name, level=level)[0]
    assert best.area.pcode == pcode
    if score is not None:
        assert best.score == score
    else:
        assert 0.6 <= best.score < 0.8


def test_exact_name_scores_one_and_ties_go_to_the_higher_level(plain_gazetteer):
    # Batagram is both a district (PK504) and a tehsil (PK50402)
    matches = place_match("Batagram")
    assert [(m.area.pcode, m.score) for m in matches[:2]] == [("PK504", 1.0), ("PK50402", 1.0)]


def test_accents_case_and_spacing_do_not_count(plain_gazetteer):
    assert place_match("  muzaffarābād ")[0].score == 1.0


def test_level_limit_and_order(plain_gazetteer):
    matches = place_match("Batagram", level="tehsil", limit=1)
    assert [m.area.pcode for m in matches] == ["PK50402"]
    scores = [m.score for m in place_match("Kohistan", limit=5)]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)


def test_a_pcode_is_found_as_itself(plain_gazetteer):
    assert [(m.area.pcode, m.score) for m in place_match("pk504")] == [("PK504", 1.0)]


def test_unrelated_names_find_nothing(plain_gazetteer):
    assert place_match("Timbuktu") == []
    assert place_match("   ") == []


def test_an_index_answers_many_names_with_one_query(plain_gazetteer, django_assert_num_queries):
    with django_assert_num_queries(1):
        index = PlaceIndex.build()
        found = [index.match(n)[0].area.pcode for n in ("Battagram", "Bagh", "Oghi", "Leepa")]
    assert found == ["PK50402-UC03", "PK101", "PK52203", "PK10303"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Battagram", "Batagram"),
        ("Muzaffarabad", "Muzafarabad"),
        ("Allai", "Alai"),
        ("Maira", "Meira"),
        ("Batkool", "Batkul"),
    ],
)
def test_variant_keys_agree(a, b):
    assert variant_key(a) == variant_key(b)


def test_fold_keeps_words_apart():
    assert fold("Bālā-Kot ") == "bala kot"


def test_a_suggestion_offers_the_names_that_begin_as_typed_before_the_fuzzy_ones(scenario_gazetteer):
    # given the scenario's gazetteer, where "Bala" is letter for letter nearest to Bateela
    index = PlaceIndex.build()
    assert [m.area.pcode for m in index.match("Bala")] == ["PK50401-UC02"]
    # when names are suggested for it
    offered = [m.area.pcode for m in index.suggest("Bala")]
    # then Bala Kot, which begins so, comes first, and Bateela is still offered
    assert offered[0] == "PK52201"
    assert "PK50401-UC02" in offered
    assert len(offered) <= 3


def test_a_suggestion_needs_three_letters_before_offering_names_that_begin_so(scenario_gazetteer):
    assert "PK52201" not in [m.area.pcode for m in PlaceIndex.build().suggest("Ba")]
