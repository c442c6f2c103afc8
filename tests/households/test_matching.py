"""households.matching: name forms, blocking keys and the score of a pair."""

from __future__ import annotations

import dataclasses

import pytest

from reliefops.households import matching
from reliefops.households.matching import (
    LIKELY_DUPLICATE,
    Person,
    baseline_duplicates,
    compare,
    documents_near,
    find_duplicates,
    name_similarity,
    name_words,
    prepare,
)

FAMILY = (0, 1, 1, 0, 1, 1, 0, 0)

ASLAM = Person(
    id=1,
    head="Muhammad Aslam Khan",
    father="Ghulam Rasool",
    sex="male",
    document_type="cnic",
    document="1350312345671",
    phone="+923001234567",
    district="PK504",
    area="PK50401-UC01",
    village="Batkul",
    members=FAMILY,
)


def like(person: Person, **changes) -> Person:
    return dataclasses.replace(person, id=person.id + 100, **changes)


def score(a: Person, b: Person) -> int:
    return compare(prepare(a), prepare(b))[0]


def shares_a_key(a: Person, b: Person) -> bool:
    pa, pb = prepare(a), prepare(b)
    return bool(pa.keys & pb.keys)


@pytest.mark.parametrize(
    ("document_type", "document", "label"),
    [
        pytest.param("cnic", "1350312345671", "CNIC", id="cnic"),
        pytest.param("old_nic", "12345678901", "old NIC", id="old-nic"),
        pytest.param("other", "PASSPORT-AB1234567", "document number", id="other-document"),
    ],
)
def test_a_shared_document_is_named_by_its_kind_in_the_reasons(document_type, document, label):
    a = dataclasses.replace(ASLAM, document_type=document_type, document=document)
    reasons = compare(prepare(a), prepare(like(a)))[1]
    assert f"same {label}" in reasons
    assert not any("NIC" in r for r in reasons) or document_type != "other"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Muhammad Aslam", "Mohammad Aslam"),
        ("Muhammad Aslam", "Mohd. Aslam"),
        ("Muhammad Aslam", "M. Aslam"),
        ("Zainab Bibi", "Zainab Begum"),
        ("Sher Khan", "Sher Khaan"),
        ("Ghulam Rasool", "Gulam Rasul"),
        ("Muhammad Yousaf", "Muhammad Yousuf"),
        ("Muhammad Rafique", "Muhammad Rafiq"),
        ("Mst. Zainab Bibi", "Zainab Bibi"),
        ("Haji Sher Khan", "Sher Khan"),
    ],
)
def test_transliteration_variants_and_honorifics_give_one_form(one, other):
    assert name_words(one) == name_words(other)


def test_word_order_does_not_matter_and_a_dropped_word_costs_little():
    assert name_similarity(name_words("Aslam Muhammad"), name_words("Muhammad Aslam")) >= 0.99
    assert name_similarity(name_words("Muhammad Aslam Khan"), name_words("Muhammad Aslam")) >= 0.9


def test_two_common_given_names_are_two_people_but_a_misspelling_is_one():
    brothers = name_similarity(name_words("Muhammad Aslam"), name_words("Muhammad Akram"))
    typo = name_similarity(name_words("Muhammad Aslam"), name_words("Muhammad Aslan"))
    assert brothers <= 0.5 < 0.9 <= typo


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("1350312345671", "1350312345681", True),
        ("1350312345671", "1350312354671", True),
        ("1350312345671", "1350312345671", False),
        ("1350312345671", "1350312345682", False),
    ],
    ids=["one-digit", "swapped-neighbours", "same", "two-digits"],
)
def test_documents_near(a, b, near):
    assert documents_near(a, b) is near


# A duplicate must share a blocking key with its original (else it is never compared) and score
# at or above the threshold; a look-alike may share a key but must score below it.
DUPLICATES = {
    "same-again": {},
    "typo-in-head": {"head": "Muhammad Aslan Khan"},
    "transliteration": {"head": "Mohd Aslam Khaan", "father": "Gulam Rasul"},
    "swapped-order": {"head": "Aslam Khan Muhammad"},
    "dropped-middle-name": {"head": "Muhammad Aslam"},
    "no-cnic-moved-to-camp": {"document": "", "document_type": "none", "site_id": 7},
    "cnic-one-digit-off": {"document": "1350312345771", "phone": ""},
    "cnic-off-and-names-misspelt": {
        "document": "1350312354671",
        "head": "Mohammad Aslam",
        "father": "Ghulam Rasul",
    },
    "one-more-child": {"members": (0, 2, 1, 0, 1, 1, 0, 0)},
    "village-spelt-otherwise": {"village": "Batkool", "document": "", "document_type": "none"},
}


@pytest.mark.parametrize("changes", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicates_meet_and_score_as_likely(changes):
    other = like(ASLAM, **changes)
    assert shares_a_key(ASLAM, other)
    assert score(ASLAM, other) >= LIKELY_DUPLICATE


def test_a_wife_registered_instead_of_her_husband_is_found():
    # given the husband's household, and his wife registering the same family with her own CNIC
    wife = like(
        ASLAM,
        head="Zainab Bibi",
        father="Muhammad Aslam Khan",
        sex="female",
        document="1350376543212",
    )
    # then the two meet and score as likely duplicates
    assert shares_a_key(ASLAM, wife)
    assert score(ASLAM, wife) >= LIKELY_DUPLICATE
    assert "husband" in " ".join(compare(prepare(wife), prepare(ASLAM))[1])


LOOK_ALIKES = {
    # the same name and father's name, another village, another CNIC and family
    "namesake-in-the-tehsil": {
        "document": "1350398765431",
        "village": "Rashang",
        "phone": "+923339876543",
        "members": (1, 0, 2, 1, 1, 1, 1, 0),
    },
    # a brother: same father and village, often the family's one phone, his own name
    "brother-sharing-the-phone": {
        "head": "Muhammad Akram Khan",
        "document": "1350355544431",
        "members": (0, 0, 1, 2, 1, 1, 0, 0),
    },
    # a brother without a card
    "brother-without-cnic": {
        "head": "Muhammad Akbar Khan",
        "document": "",
        "document_type": "none",
        "phone": "",
        "members": (1, 1, 0, 0, 1, 1, 0, 1),
    },
}


@pytest.mark.parametrize("changes", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_look_alikes_score_below_the_threshold(changes):
    assert score(ASLAM, like(ASLAM, **changes)) < LIKELY_DUPLICATE


def test_a_widow_heading_her_household_is_not_taken_for_a_namesake_of_her_late_husband():
    # given a living man of the village who bears the name of her late husband
    widow = like(
        ASLAM,
        head="Rasheeda Bibi",
        father="Muhammad Aslam Khan",
        sex="female",
        document="1350344455562",
        phone="+923451112223",
        members=(1, 0, 1, 2, 1, 0, 0, 0),
    )
    assert score(ASLAM, widow) < LIKELY_DUPLICATE


def test_find_duplicates_compares_each_pair_once_and_skips_decided_pairs():
    # given the original, two duplicates of it, and an unrelated household
    people = [
        ASLAM,
        like(ASLAM, head="Mohd Aslam Khan"),
        dataclasses.replace(ASLAM, id=300, head="Muhammad Aslam", document="1350312345681"),
        dataclasses.replace(
            ASLAM,
            id=400,
            head="Sakina Bibi",
            father="Sher Zaman",
            sex="female",
            document="",
            document_type="none",
            phone="",
            village="Rashang",
        ),
    ]
    # when the registry is compared with itself
    matches, stats = find_duplicates(people)
    # then the three records of one household are paired, each pair once, the stranger with nobody
    assert [(m.first_id, m.second_id) for m in matches] == [(1, 101), (1, 300), (101, 300)]
    assert stats.compared == 3
    # and a pair decided already is not proposed again
    again, _ = find_duplicates(people, skip={(1, 101)})
    assert [(m.first_id, m.second_id) for m in again] == [(1, 300), (101, 300)]


def test_the_baseline_finds_exact_numbers_and_names_only():
    # given the original, a variant spelling with a mistyped CNIC, and the same again without a phone
    people = [
        ASLAM,
        like(ASLAM, head="Mohd Aslam Khan", document="1350312345681"),
        dataclasses.replace(ASLAM, id=5, phone=""),
    ]
    # then the baseline pairs only the exact copy
    assert baseline_duplicates(people) == [(1, 5)]


def _registry(size: int) -> list[Person]:
    """A small registry of families in a few villages, every seventh registered again with a variant
    spelling of the head's name and a number one digit off."""
    heads = [
        "Muhammad Aslam",
        "Abdul Rashid",
        "Sher Zaman",
        "Gul Bibi",
        "Fazal Din",
        "Noor Jehan",
        "Amir Khan",
    ]
    fathers = ["Ghulam Rasool", "Fateh Muhammad", "Mir Alam", "Khan Zaman", "Sultan Ahmed"]
    villages = ["Batkul", "Rashang", "Ghanool", "Sangar"]
    people: list[Person] = []
    for n in range(size):
        person = dataclasses.replace(
            ASLAM,
            id=n + 1,
            head=f"{heads[n % 7]} {['Khan', 'Shah', 'Awan', ''][n % 4]}".strip(),
            father=fathers[(n // 7) % 5],
            document=f"13503{n:08d}",
            phone=f"+9230{n:08d}",
            village=villages[(n // 35) % 4],
        )
        people.append(person)
        if n % 7 == 0:
            twin = person.head.replace("Muhammad", "Mohd").replace("Khan", "Khaan")
            people.append(
                dataclasses.replace(person, id=100_000 + n, head=twin, document=f"13503{n + 1:08d}", phone="")
            )
    return people


def test_a_run_split_over_processes_finds_what_one_process_finds(monkeypatch):
    # given a registry, compared in one process
    people = _registry(400)
    alone, alone_stats = find_duplicates(people)
    assert len(alone) > 50
    assert alone_stats.compared > len(alone)
    # when the same registry is compared in three processes (the size from which runs are split
    # lowered to this registry's)
    monkeypatch.setattr(matching, "PARALLEL_FROM", 1)
    seen: list[int] = []
    split, split_stats = find_duplicates(people, workers=3, progress=lambda done, total: seen.append(done))
    # then the same pairs come back with the same scores and reasons, each pair compared once
    assert split == alone
    assert dataclasses.astuple(split_stats) == dataclasses.astuple(alone_stats)
    # and the progress rose to the end
    assert seen == sorted(seen)
    assert seen[-1] == 1000


def test_a_failing_comparing_process_fails_the_run(monkeypatch):
    # given a comparison whose second part fails (in the forked process)
    real = matching._compare_part

    def failing(prepared, entries, part, parts, **kwargs):
        if part == 1:
            raise MemoryError("no room")
        return real(prepared, entries, part, parts, **kwargs)

    monkeypatch.setattr(matching, "_compare_part", failing)
    monkeypatch.setattr(matching, "PARALLEL_FROM", 1)
    # when the run is split over two processes, then it fails, naming the reason
    with pytest.raises(RuntimeError, match="a comparing process failed: MemoryError"):
        find_duplicates(_registry(100), workers=2)


def test_the_number_of_comparing_processes_comes_from_the_setting(monkeypatch):
    monkeypatch.setenv("RELIEFOPS_MATCH_WORKERS", "1")
    assert matching.match_workers() == 1
    monkeypatch.delenv("RELIEFOPS_MATCH_WORKERS")
    assert matching.match_workers() >= 1
