"""catalog.importers: items with pack sizes, and kits, all or nothing, idempotent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from reliefops.catalog.importers import items_import_file, kits_import_file
from reliefops.catalog.models import Item, Kit, PackSize
from reliefops.core.errors import InvalidInput
from reliefops.core.models import AuditEvent

ITEMS_HEADER = "code,name,base_unit,category,weight_kg,volume_m3,packs\n"
ITEMS = ITEMS_HEADER + (
    "BLANKET,Blanket,piece,nfi,1.5,0.01,bale:10\n"
    "PLASTIC-SHEET,Plastic sheet,piece,Shelter,3,0.008,\n"
    "BUCKET,Bucket,piece,wash,1.2,0.015,carton:20;pallet:400\n"
    "ROPE,Rope,coil,tools,1,,\n"
    "WINTER-KIT,Winterization kit,kit,kit,9.7,0.056,\n"
    "SHELTER-KIT,Shelter kit,kit,kit,,,\n"
)
KITS_HEADER = "kit_code,component_code,quantity\n"
WINTER_KIT = (
    KITS_HEADER + "WINTER-KIT,PLASTIC-SHEET,1\nWINTER-KIT,BUCKET,1\nWINTER-KIT,BLANKET,3\nWINTER-KIT,ROPE,1\n"
)


def import_items(text: str):
    return items_import_file(actor=None, data=text.encode())


def import_kits(text: str):
    return kits_import_file(actor=None, data=text.encode())


def problems_of(call) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def items(db):
    import_items(ITEMS)


def components(code: str) -> dict[str, int]:
    kit = Kit.objects.get(item__code=code)
    return dict(kit.components.values_list("item__code", "quantity"))


# --- items ---------------------------------------------------------------------------------------


def test_items_are_created_with_packs_weights_and_volumes(db):
    assert str(import_items(ITEMS)) == "6 created, 0 updated, 0 unchanged"
    blanket = Item.objects.get(code="BLANKET")
    assert (blanket.category, blanket.weight_kg, blanket.volume_m3) == (
        "nfi",
        Decimal("1.5"),
        Decimal("0.01"),
    )
    assert list(blanket.pack_sizes.values_list("name", "quantity")) == [("bale", 10)]
    assert sorted(PackSize.objects.filter(item__code="BUCKET").values_list("name", "quantity")) == [
        ("carton", 20),
        ("pallet", 400),
    ]
    assert Item.objects.get(code="PLASTIC-SHEET").category == "shelter"


def test_items_reimport_changes_nothing(items, state):
    before = state()
    assert str(import_items(ITEMS)) == "0 created, 0 updated, 6 unchanged"
    assert state() == before


def test_a_changed_pack_size_updates_the_item(items):
    counts = import_items(ITEMS_HEADER + "BLANKET,Blanket,piece,nfi,1.5,0.01,bale:20\n")
    assert str(counts) == "0 created, 1 updated, 0 unchanged"
    assert list(PackSize.objects.filter(item__code="BLANKET").values_list("name", "quantity")) == [
        ("bale", 20)
    ]
    event = AuditEvent.objects.get(action="item.update")
    assert (event.before, event.after) == ({"packs": ["bale:10"]}, {"packs": ["bale:20"]})


def test_item_codes_are_upper_cased(db):
    import_items(ITEMS_HEADER + "jerry-can,Jerry can,piece,wash,,,\n")
    assert Item.objects.filter(code="JERRY-CAN").exists()


BAD_ITEMS = [
    pytest.param(
        "TENT,Tent,piece,housing,50,0.25,\n",
        "line 3, category: unknown category 'housing'",
        id="unknown-category",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,-50,0.25,\n", "line 3, weight_kg: must not be negative", id="negative-weight"
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,heavy,0.25,\n",
        "line 3, weight_kg: not a number: 'heavy'",
        id="non-numeric-weight",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,0.123456,\n",
        "line 3, volume_m3: 4 decimal places at most",
        id="volume-too-precise",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,,bale10\n",
        "line 3, packs: 'bale10': write each pack as name:quantity",
        id="pack-without-colon",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,,bale:1.5\n",
        "line 3, packs: 'bale:1.5': the quantity is not a whole number",
        id="fractional-pack",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,,bale:5000000000\n",
        "line 3, packs: 'bale:5000000000': the quantity is out of range: at most 2,147,483,647",
        id="pack-beyond-the-column",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,,bale:0\n",
        "line 3, packs: a bale must hold at least 1 piece",
        id="empty-pack",
    ),
    pytest.param(
        "TENT,Tent,piece,shelter,50,,bale:5;Bale:10\n",
        "line 3, packs: the pack 'Bale' is given twice",
        id="pack-twice",
    ),
    pytest.param("TENT,,piece,shelter,50,,\n", "line 3, name: the name is empty", id="empty-name"),
    pytest.param(
        "TENT,Tent,piece,shelter,,,\ntent,Tent 2,piece,shelter,,,\n",
        "line 4, code: duplicate item code TENT (first on line 3)",
        id="duplicate-code",
    ),
    pytest.param(
        "TENT KIT,Tent,piece,shelter,,,\n", "line 3, code: 'TENT KIT' is not an item code", id="bad-code"
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_ITEMS)
def test_bad_items_are_refused_whole(db, state, body, expected):
    before = state()
    problems = problems_of(
        lambda: import_items(ITEMS_HEADER + "QUILT,Quilt,piece,nfi,2.5,0.02,bale:10\n" + body)
    )
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert state() == before


def test_a_base_unit_is_the_operations_own_word_as_the_guide_says(db):
    # when an item is counted in a unit the guide does not list
    import_items("code,name,category,base_unit\nJERRYCAN,Jerrycan,wash,gallon\n")
    # then it is kept as written, as any unit of up to 24 characters is
    assert Item.objects.get(code="JERRYCAN").base_unit == "gallon"
    assert problems_of(lambda: import_items("code,name,category,base_unit\nX,X,wash," + "u" * 25 + "\n")) == [
        "line 2, base_unit: longer than 24 characters"
    ]
    # and the guide gives its units as examples, not as the only choices
    guide = (Path(__file__).resolve().parents[2] / "docs" / "user-guide" / "reference-data.md").read_text()
    (row,) = [line for line in guide.splitlines() if line.startswith("| `base_unit` |")]
    assert "for example" in row
    assert "up to 24 characters" in row


def test_items_file_without_a_category_column_is_refused(db):
    assert problems_of(lambda: import_items("code,name\nTENT,Tent\n")) == [
        "line 1, category: required column is missing from the header"
    ]


def test_items_and_kits_files_with_a_misspelt_column_are_refused(items, state):
    # given the items stored, when a file misspells a column, then nothing is read from it unseen
    before = state()
    assert problems_of(lambda: import_items("code,name,category,wieght_kg\nTENT,Tent,shelter,40\n")) == [
        "line 1, wieght_kg: not a column of this file: did you mean weight_kg? Rename the column or remove it"
    ]
    assert problems_of(lambda: import_kits(KITS_HEADER.strip() + ",sourse\nWINTER-KIT,ROPE,2,IOM\n")) == [
        "line 1, sourse: not a column of this file: did you mean source? Rename the column or remove it"
    ]
    assert state() == before


# --- kits ----------------------------------------------------------------------------------------


def test_a_kit_is_defined_by_its_component_lines(items):
    assert str(import_kits(WINTER_KIT)) == "1 created, 0 updated, 0 unchanged"
    assert components("WINTER-KIT") == {"PLASTIC-SHEET": 1, "BUCKET": 1, "BLANKET": 3, "ROPE": 1}


def test_kits_reimport_changes_nothing(items, state):
    import_kits(WINTER_KIT)
    before = state()
    assert str(import_kits(WINTER_KIT)) == "0 created, 0 updated, 1 unchanged"
    assert state() == before


def test_a_kit_gets_exactly_the_components_of_the_new_file(items):
    import_kits(WINTER_KIT)
    counts = import_kits(KITS_HEADER + "WINTER-KIT,BLANKET,4\nWINTER-KIT,PLASTIC-SHEET,1\n")
    assert str(counts) == "0 created, 1 updated, 0 unchanged"
    assert components("WINTER-KIT") == {"BLANKET": 4, "PLASTIC-SHEET": 1}
    event = AuditEvent.objects.get(action="kit.update")
    assert event.before["components"]["BLANKET"] == 3
    assert event.after["components"] == {"BLANKET": 4, "PLASTIC-SHEET": 1}


def test_a_kit_may_contain_another_kit(items):
    import_kits(WINTER_KIT)
    import_kits(KITS_HEADER + "SHELTER-KIT,WINTER-KIT,1\nSHELTER-KIT,ROPE,2\n")
    assert components("SHELTER-KIT") == {"WINTER-KIT": 1, "ROPE": 2}


BAD_KITS = [
    pytest.param(
        "WINTER-KIT,BLANKET,-3\n",
        "line 3, quantity: -3 is not a positive whole number",
        id="negative-quantity",
    ),
    pytest.param(
        "WINTER-KIT,BLANKET,0\n", "line 3, quantity: 0 is not a positive whole number", id="zero-quantity"
    ),
    pytest.param(
        "WINTER-KIT,BLANKET,5000000000\n",
        "line 3, quantity: '5000000000' is out of range: at most 2,147,483,647",
        id="quantity-beyond-the-column",
    ),
    pytest.param(
        "WINTER-KIT,BLANKET,2.5\n", "line 3, quantity: not a whole number: '2.5'", id="fractional-quantity"
    ),
    pytest.param(
        "WINTER-KIT,BLANKET,three\n", "line 3, quantity: not a number: 'three'", id="non-numeric-quantity"
    ),
    pytest.param(
        "WINTER-KIT,STOVE,1\n", "line 3, component_code: unknown item code STOVE", id="unknown-component"
    ),
    pytest.param(
        "FOOD-KIT,BLANKET,1\n",
        "line 3, kit_code: unknown item code FOOD-KIT (import the item first)",
        id="unknown-kit",
    ),
    pytest.param(
        "WINTER-KIT,WINTER-KIT,1\n",
        "line 3, component_code: the kit WINTER-KIT cannot contain itself",
        id="contains-itself",
    ),
    pytest.param(
        "WINTER-KIT,ROPE,1\nWINTER-KIT,ROPE,2\n",
        "line 4, component_code: ROPE is listed twice in WINTER-KIT (line 3)",
        id="listed-twice",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_KITS)
def test_bad_kits_are_refused_whole(items, state, body, expected):
    before = state()
    problems = problems_of(lambda: import_kits(KITS_HEADER + "SHELTER-KIT,ROPE,1\n" + body))
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert state() == before


def test_a_kit_that_would_contain_itself_through_another_kit_is_refused(items, state):
    # given a shelter kit that holds a winter kit
    import_kits(KITS_HEADER + "SHELTER-KIT,WINTER-KIT,1\n")
    before = state()
    # when the winter kit is made to hold the shelter kit
    problems = problems_of(
        lambda: import_kits(KITS_HEADER + "WINTER-KIT,BLANKET,3\nWINTER-KIT,SHELTER-KIT,1\n")
    )
    # then the loop is refused on its line
    assert problems == ["line 3, component_code: the kit WINTER-KIT would contain itself through SHELTER-KIT"]
    assert state() == before
