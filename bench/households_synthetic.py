"""A synthetic household registry with known duplicates and hard look-alikes, for measuring
duplicate detection (bench/households_quality.py, bench/households_scale.py).

The registry imitates the 2005 earthquake zone: 9 districts of 5 tehsils, about 4,000 villages,
Pashto, Hindko and Kashmiri names as they are romanised (Muhammad, Abdul, Ghulam ... with a family
name in most men's names; Bibi, Begum, Akhtar in women's), 55% of heads with a CNIC, 15% with an
old NIC, 30% with none, a third with a phone.

**Duplicates** (a second, rarely a third, registration of one household) carry what goes wrong in
the field, one to three changes each: a typo in a name, a transliteration variant (Muhammad/Mohd,
Khan/Khaan, Bibi/Begum, Rasool/Rasul, ee/i), the words of a name swapped, a middle name dropped,
the card left at home (no CNIC) or a CNIC digit mistyped or two swapped, the phone missing or
changed, the village spelt otherwise or only the tehsil given, a child more or fewer, moved to a
camp — or the wife registering instead of her husband (her name, his as her husband's, her own
card or none).

**Look-alikes** that are different households: namesakes in one tehsil (same head's name, often the
same father's name), brothers sharing a father's name in one village (often the family's one
phone), and widows heading their household whose late husband's name a living man of the
village bears.

`generate(n, seed)` returns the people and the truth: the pairs of ids that are one household.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace

from reliefops.households.matching import Person

MEMBERS = 8

# Given names, commonest first (frequencies fall off as 1/rank).
MALE = [
    "Aslam",
    "Akram",
    "Iqbal",
    "Bashir",
    "Rashid",
    "Hussain",
    "Ali",
    "Ahmed",
    "Khan",
    "Zaman",
    "Nawaz",
    "Akbar",
    "Ayub",
    "Yousaf",
    "Saleem",
    "Riaz",
    "Tariq",
    "Javed",
    "Khalid",
    "Sadiq",
    "Latif",
    "Majeed",
    "Qadir",
    "Rehman",
    "Nabi",
    "Rasool",
    "Hameed",
    "Ishaq",
    "Ismail",
    "Ilyas",
    "Irfan",
    "Imran",
    "Asif",
    "Arif",
    "Amjad",
    "Anwar",
    "Arshad",
    "Ashraf",
    "Azam",
    "Azhar",
    "Basharat",
    "Fazal",
    "Faisal",
    "Farooq",
    "Fayyaz",
    "Habib",
    "Hamid",
    "Haroon",
    "Hassan",
    "Iftikhar",
    "Ijaz",
    "Ishfaq",
    "Jamil",
    "Jahangir",
    "Kabir",
    "Karim",
    "Khurshid",
    "Mahmood",
    "Manzoor",
    "Maqsood",
    "Masood",
    "Mehboob",
    "Mumtaz",
    "Munir",
    "Mushtaq",
    "Nadeem",
    "Naeem",
    "Naseer",
    "Nasir",
    "Nazir",
    "Niaz",
    "Pervez",
    "Qasim",
    "Rafiq",
    "Rahim",
    "Rauf",
    "Raza",
    "Saeed",
    "Sajid",
    "Sajjad",
    "Sarwar",
    "Shabbir",
    "Shafiq",
    "Shahid",
    "Shakeel",
    "Shakir",
    "Shaukat",
    "Sher",
    "Siddique",
    "Sultan",
    "Tahir",
    "Tanveer",
    "Usman",
    "Waheed",
    "Wajid",
    "Waqar",
    "Yaqub",
    "Younas",
    "Zafar",
    "Zahid",
    "Zaheer",
    "Zubair",
    "Ayaz",
    "Altaf",
    "Zulfiqar",
    "Ibrahim",
    "Idrees",
    "Bahadur",
    "Wali",
    "Jan",
    "Taj",
    "Gul",
    "Daud",
    "Dilawar",
    "Fateh",
    "Ghazanfar",
    "Hakim",
    "Hanif",
    "Inayat",
    "Jalil",
    "Kamal",
    "Lal",
    "Mir",
    "Mohsin",
    "Nisar",
    "Qaiser",
    "Rustam",
    "Sabir",
    "Safdar",
    "Sikandar",
    "Tufail",
    "Umar",
    "Wazir",
    "Yasin",
    "Zareef",
    "Aurangzeb",
    "Bakht",
    "Din",
    "Feroz",
    "Gohar",
    "Hazrat",
    "Janbaz",
    "Khani",
    "Lateef",
    "Mehmood",
    "Noor",
    "Pir",
    "Rahmat",
    "Sardar",
    "Shamsher",
    "Shams",
    "Tajamul",
    "Yar",
    "Zarin",
]
FEMALE = [
    "Zainab",
    "Fatima",
    "Amina",
    "Khadija",
    "Hajra",
    "Sakina",
    "Safia",
    "Sughra",
    "Kalsoom",
    "Nasreen",
    "Parveen",
    "Shamim",
    "Rukhsana",
    "Shaheen",
    "Shabana",
    "Tahira",
    "Yasmin",
    "Zubaida",
    "Razia",
    "Rehana",
    "Zarina",
    "Nusrat",
    "Khalida",
    "Naseem",
    "Rasheeda",
    "Bilquis",
    "Sharifa",
    "Hanifa",
    "Jamila",
    "Salma",
    "Saeeda",
    "Naheed",
    "Kausar",
    "Ruqayya",
    "Mehrunnisa",
    "Sadia",
    "Farzana",
    "Nargis",
    "Bano",
    "Gulnaz",
    "Hameeda",
    "Jannat",
    "Kaneez",
    "Laila",
    "Maryam",
    "Nasim",
    "Noor",
    "Perveen",
    "Qamar",
    "Rabia",
    "Sajida",
    "Samina",
    "Shahida",
    "Surayya",
    "Tasleem",
    "Uzma",
    "Wazira",
    "Yasmeen",
    "Zahida",
    "Zaitoon",
    "Zohra",
    "Almas",
    "Begum",
    "Firdous",
    "Gulshan",
    "Husn",
    "Iffat",
    "Jamshida",
    "Kulsum",
]
ABDUL = [
    "Rehman",
    "Qadir",
    "Majeed",
    "Latif",
    "Rashid",
    "Ghafoor",
    "Hameed",
    "Karim",
    "Razzaq",
    "Sattar",
    "Wahid",
    "Aziz",
    "Jabbar",
    "Khaliq",
    "Wahab",
]
GHULAM = [
    "Nabi",
    "Rasool",
    "Mustafa",
    "Haider",
    "Sarwar",
    "Qadir",
    "Hussain",
    "Muhammad",
    "Murtaza",
    "Abbas",
    "Farid",
    "Jilani",
]
DISTRICTS = {
    "PK504": ("13202", "Khan Swati Akhunzada Syed Tanoli Mir Yousafzai Jadoon Awan Gujjar Qureshi Shah"),
    "PK522": ("13503", "Swati Gujjar Awan Syed Tanoli Jadoon Khan Qureshi Mughal Shah Abbasi Turk"),
    "PK501": ("13101", "Abbasi Awan Jadoon Karlal Dhund Qureshi Syed Khan Tanoli Mughal Sardar Raja"),
    "PK529": ("15602", "Khan Yousafzai Swati Akhunzada Mian Syed Gujjar Kohistani Shah Qureshi Awan Mir"),
    "PK515": ("15801", "Kohistani Khan Swati Akhunzada Gujjar Shah Mir Syed Awan Mian Qureshi Tanoli"),
    "PK107": ("82203", "Mughal Awan Abbasi Gilani Butt Lone Mir Dar Khan Qureshi Chaudhry Raja"),
    "PK101": ("82101", "Sudhan Abbasi Rathore Mughal Khan Kiani Raja Sardar Butt Awan Malik Chaudhry"),
    "PK109": ("82301", "Sudhan Sardar Khan Rathore Abbasi Raja Mughal Kiani Chaudhry Malik Awan Butt"),
    "PK108": ("82401", "Mughal Lone Mir Dar Khan Awan Qureshi Butt Syed Shah Gujjar Bakarwal"),
}
TEHSILS_PER_DISTRICT = 5
VILLAGES_PER_TEHSIL = 89  # about 4,000 villages, as in the earthquake zone
_SYLLABLES = [
    "bat",
    "kul",
    "ser",
    "gali",
    "dara",
    "kot",
    "pur",
    "abad",
    "ban",
    "nar",
    "dhan",
    "sar",
    "mang",
    "jab",
    "hang",
    "rai",
    "bani",
    "tar",
    "kan",
    "gar",
    "pat",
    "sho",
]

# Spellings people write for one name (each line: interchangeable forms).
VARIANTS = [
    ["Muhammad", "Mohammad", "Mohd", "Muhammed", "M.", "Mohammed"],
    ["Khan", "Khaan"],
    ["Bibi", "Begum", "Bi"],
    ["Rasool", "Rasul"],
    ["Yousaf", "Yusuf", "Yousuf"],
    ["Rehman", "Rahman"],
    ["Hussain", "Husain", "Hussein"],
    ["Ahmed", "Ahmad"],
    ["Mahmood", "Mehmood", "Mahmud"],
    ["Rafiq", "Rafique"],
    ["Siddique", "Siddiq"],
    ["Younas", "Younis", "Yunus"],
    ["Yaqub", "Yaqoob"],
    ["Ghulam", "Gulam"],
    ["Hameed", "Hamid"],
    ["Saeed", "Said"],
    ["Naeem", "Naim"],
    ["Noor", "Nur"],
]
_VARIANT_OF = {form: group for group in VARIANTS for form in group}


@dataclass
class Registry:
    people: list[Person]
    truth: set[tuple[int, int]]  # pairs of registrations of one household
    kinds: dict[str, int]  # how many of each kind of duplicate and look-alike
    duplicate_kind: dict[tuple[int, int], str]  # (original, copy) -> the changes the copy carries
    look_alikes: dict[tuple[int, int], str]  # (household, its look-alike) -> namesake, brother, widow


def _zipf_choice(rng: random.Random, names: list[str], weights: list[float]) -> str:
    return rng.choices(names, weights)[0]


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.male_w = [1 / (i + 1) ** 0.9 for i in range(len(MALE))]
        self.female_w = [1 / (i + 1) ** 0.9 for i in range(len(FEMALE))]
        self.tehsils = [
            (district, f"{district}{t:02d}")
            for district in DISTRICTS
            for t in range(1, TEHSILS_PER_DISTRICT + 1)
        ]
        self.villages = {tehsil: self._villages() for _, tehsil in self.tehsils}
        self.next_id = 1

    def _villages(self) -> list[str]:
        names: set[str] = set()
        while len(names) < VILLAGES_PER_TEHSIL:
            parts = self.rng.sample(_SYLLABLES, self.rng.choice([2, 2, 3]))
            names.add("".join(parts).capitalize())
        return sorted(names)

    # --- names ---------------------------------------------------------------------------------------

    def male_name(self, family: str | None) -> str:
        r = self.rng.random()
        given = _zipf_choice(self.rng, MALE, self.male_w)
        if r < 0.38:
            name = f"Muhammad {given}"
        elif r < 0.45:
            name = f"Abdul {self.rng.choice(ABDUL)}"
        elif r < 0.50:
            name = f"Ghulam {self.rng.choice(GHULAM)}"
        elif r < 0.88:
            second = _zipf_choice(self.rng, MALE, self.male_w)
            name = f"{given} {second}" if second != given else given
        else:
            name = given
        return f"{name} {family}" if family else name

    def female_name(self) -> str:
        given = _zipf_choice(self.rng, FEMALE, self.female_w)
        suffix = self.rng.choices(["Bibi", "Begum", "Akhtar", ""], [40, 15, 10, 35])[0]
        return f"{given} {suffix}".strip()

    def family(self, district: str) -> str | None:
        return self.rng.choice(DISTRICTS[district][1].split()) if self.rng.random() < 0.65 else None

    # --- identity -------------------------------------------------------------------------------------

    def document(self, district: str, female: bool) -> tuple[str, str]:
        r = self.rng.random()
        if r < (0.35 if female else 0.58):
            serial = f"{self.rng.randrange(10**7):07d}"
            return "cnic", DISTRICTS[district][0] + serial + self.rng.choice("02468" if female else "13579")
        if r < (0.45 if female else 0.73):
            return "old_nic", f"{self.rng.randrange(10**11):011d}"
        return "none", ""

    def phone(self) -> str:
        if self.rng.random() < 0.33:
            network = self.rng.choice(["00", "01", "33", "45", "46", "21", "15"])
            return f"+923{network}{self.rng.randrange(10**7):07d}"
        return ""

    def members(self, female_head: bool) -> tuple[int, ...]:
        size = max(1, min(16, round(self.rng.gauss(7, 2.6))))
        bands = [0] * MEMBERS
        bands[4 if female_head else 5] += 1
        if size > 1 and not female_head:
            bands[4] += 1
        while sum(bands) < size:
            bands[self.rng.choice([0, 1, 2, 3, 2, 3, 4, 5, 6, 7])] += 1
        return tuple(bands)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def household(self, tehsil: tuple[str, str] | None = None, village: str | None = None) -> Person:
        district, code = tehsil or self.rng.choice(self.tehsils)
        female = self.rng.random() < 0.11
        family = self.family(district)
        if female:
            head, father = self.female_name(), self.male_name(self.family(district))
        else:
            head, father = self.male_name(family), self.male_name(family if self.rng.random() < 0.8 else None)
        doc_type, doc = self.document(district, female)
        return Person(
            id=self.new_id(),
            head=head,
            father=father,
            sex="female" if female else "male",
            document_type=doc_type,
            document=doc,
            phone=self.phone(),
            district=district,
            area=code,
            village=village or self.rng.choice(self.villages[code]),
            members=self.members(female),
            tehsil=code,
        )

    # --- what goes wrong at a second registration ------------------------------------------------------

    def typo(self, text: str) -> str:
        words = text.split()
        index = self.rng.randrange(len(words))
        word = words[index]
        if len(word) < 3:
            return text
        pos = self.rng.randrange(1, len(word))
        kind = self.rng.choice(["sub", "del", "ins", "swap", "double"])
        letters = "aeiouhnrst"
        if kind == "sub":
            word = word[:pos] + self.rng.choice(letters) + word[pos + 1 :]
        elif kind == "del":
            word = word[:pos] + word[pos + 1 :]
        elif kind == "ins":
            word = word[:pos] + self.rng.choice(letters) + word[pos:]
        elif kind == "swap" and pos < len(word) - 1:
            word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        else:
            word = word[:pos] + word[pos] + word[pos:]
        words[index] = word
        return " ".join(words)

    def variant(self, text: str) -> str:
        words = text.split()
        spots = [i for i, w in enumerate(words) if w in _VARIANT_OF]
        if not spots:
            # a vowel doubled or an ee written i: the commonest romanisation differences
            return text.replace("ee", "i", 1) if "ee" in text else text.replace("a", "aa", 1)
        i = self.rng.choice(spots)
        words[i] = self.rng.choice([w for w in _VARIANT_OF[words[i]] if w != words[i]])
        return " ".join(words)

    def swapped(self, text: str) -> str:
        words = text.split()
        if len(words) < 2:
            return text
        i = self.rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)

    def dropped(self, text: str) -> str:
        words = text.split()
        if len(words) < 3:
            return text
        del words[self.rng.randrange(1, len(words))]
        return " ".join(words)

    def mistyped(self, number: str) -> str:
        i = self.rng.randrange(len(number) - 1)
        if self.rng.random() < 0.6:
            return (
                number[:i] + self.rng.choice([d for d in string.digits if d != number[i]]) + number[i + 1 :]
            )
        return (
            number[:i] + number[i + 1] + number[i] + number[i + 2 :] if number[i] != number[i + 1] else number
        )

    def village_variant(self, village: str) -> str:
        for old, new in (("oo", "u"), ("u", "oo"), ("ee", "i"), ("i", "ee"), ("a", "aa")):
            if old in village:
                return village.replace(old, new, 1)
        return village + "a"

    def members_changed(self, members: tuple[int, ...]) -> tuple[int, ...]:
        bands = list(members)
        i = self.rng.randrange(4)
        bands[i] = max(0, bands[i] + self.rng.choice([-1, 1]))
        return tuple(bands) if sum(bands) else members

    def duplicate(self, original: Person) -> tuple[Person, str]:
        """A second registration of the household, and the kind of change it carries."""
        new_id = self.new_id()
        if original.sex == "male" and self.rng.random() < 0.06:
            return self.wife(original, new_id), "wife instead of husband"
        if self.rng.random() < 0.08:
            return replace(original, id=new_id, site_id=self.rng.choice([None, 1, 2, 3])), "exact repeat"
        changes = {
            "typo in head's name": 20,
            "typo in father's name": 12,
            "transliteration variant": 22,
            "swapped name order": 8,
            "dropped middle name": 8,
            "no CNIC (card left at home)": 16,
            "CNIC mistyped": 7,
            "phone missing or changed": 10,
            "village spelt otherwise": 8,
            "only the tehsil given": 4,
            "a member more or fewer": 12,
            "members counted otherwise": 8,
            "moved to a camp": 8,
        }
        picked = set(
            self.rng.choices(list(changes), list(changes.values()), k=self.rng.choice([1, 1, 2, 2, 3]))
        )
        person = replace(original, id=new_id)
        for change in sorted(picked):
            person = self.apply(person, change)
        return person, " + ".join(sorted(picked))

    def apply(self, p: Person, change: str) -> Person:
        if change == "typo in head's name":
            return replace(p, head=self.typo(p.head))
        if change == "typo in father's name":
            return replace(p, father=self.typo(p.father))
        if change == "transliteration variant":
            return replace(
                p,
                head=self.variant(p.head),
                father=self.variant(p.father) if self.rng.random() < 0.4 else p.father,
            )
        if change == "swapped name order":
            return replace(p, head=self.swapped(p.head))
        if change == "dropped middle name":
            return replace(p, head=self.dropped(p.head))
        if change == "no CNIC (card left at home)":
            return replace(p, document_type="none", document="")
        if change == "CNIC mistyped":
            return replace(p, document=self.mistyped(p.document)) if p.document else p
        if change == "phone missing or changed":
            return replace(p, phone="" if p.phone or self.rng.random() < 0.5 else self.phone())
        if change == "village spelt otherwise":
            return replace(p, village=self.village_variant(p.village))
        if change == "only the tehsil given":
            return replace(p, village="")
        if change == "a member more or fewer":
            return replace(p, members=self.members_changed(p.members))
        if change == "members counted otherwise":
            bands = list(p.members)
            takes = [i for i in range(MEMBERS) if bands[i]]
            i = self.rng.choice(takes)
            bands[i] -= 1
            bands[min(MEMBERS - 1, i + 2) if i % 2 == 0 else max(0, i - 2)] += (
                1  # a child counted an adult, ...
            )
            return replace(p, members=tuple(bands))
        if change == "moved to a camp":
            return replace(p, site_id=self.rng.choice([1, 2, 3]))
        raise ValueError(change)

    def wife(self, husband: Person, new_id: int) -> Person:
        doc_type, doc = self.document(husband.district, True)
        husband_name = husband.head if self.rng.random() < 0.7 else self.variant(husband.head)
        members = husband.members if self.rng.random() < 0.7 else self.members_changed(husband.members)
        return replace(
            husband,
            id=new_id,
            head=self.female_name(),
            father=husband_name,
            sex="female",
            document_type=doc_type,
            document=doc,
            phone=husband.phone if self.rng.random() < 0.5 else "",
            members=members,
        )

    # --- look-alikes that are different households ------------------------------------------------------

    def namesake(self, other: Person) -> Person:
        """Another man of the tehsil with the same name (and often the same father's name)."""
        person = self.household((other.district, other.area))
        father = other.father if self.rng.random() < 0.45 else person.father
        return replace(person, head=other.head, father=father, sex=other.sex)

    def brother(self, other: Person) -> Person:
        """A brother: the same father, family and village; his own name, often the family's phone."""
        person = self.household((other.district, other.area), other.village)
        family = (
            other.head.split()[-1] if other.head.split()[-1] in DISTRICTS[other.district][1].split() else None
        )
        head = self.male_name(family)
        first = other.head.split()[0]
        if first in {"Muhammad", "Abdul", "Ghulam"} and self.rng.random() < 0.5:
            # brothers named alike: Muhammad Aslam and Muhammad Akram, Abdul Qadir and Abdul Majeed
            given = self.rng.choice(ABDUL if first == "Abdul" else GHULAM if first == "Ghulam" else MALE)
            head = f"{first} {given}" + (f" {family}" if family else "")
        while head == other.head:  # parents do not give two sons one name
            head = self.male_name(family)
        phone = other.phone if other.phone and self.rng.random() < 0.4 else person.phone
        return replace(person, head=head, father=other.father, sex="male", phone=phone)

    def widow(self, other: Person) -> Person:
        """A widow heading her household; a living man of the village bears her late husband's name."""
        person = self.household((other.district, other.area), other.village)
        doc_type, doc = self.document(other.district, True)
        return replace(
            person,
            head=self.female_name(),
            father=other.head,
            sex="female",
            document_type=doc_type,
            document=doc,
        )


def generate(n: int, seed: int, *, duplicate_rate: float = 0.09, look_alike_rate: float = 0.09) -> Registry:
    """About `n` registrations: households, their duplicates and look-alike households, shuffled."""
    gen = Generator(seed)
    rng = gen.rng
    originals = int(n / (1 + duplicate_rate * 1.15))
    people: list[Person] = []
    kinds: dict[str, int] = {}
    truth: set[tuple[int, int]] = set()
    duplicate_kind: dict[tuple[int, int], str] = {}
    look_alikes: dict[tuple[int, int], str] = {}
    men: list[Person] = []
    for _ in range(originals):
        r = rng.random()
        if men and r < look_alike_rate:
            other = rng.choice(men)
            sort = rng.choices(["namesake", "brother", "widow"], [45, 40, 15])[0]
            person = getattr(gen, sort)(other)
            kinds[f"look-alike: {sort}"] = kinds.get(f"look-alike: {sort}", 0) + 1
            look_alikes[(min(other.id, person.id), max(other.id, person.id))] = sort
        else:
            person = gen.household()
        people.append(person)
        if person.sex == "male":
            men.append(person)
    for original in list(people):
        if rng.random() >= duplicate_rate:
            continue
        cluster = [original]
        for _ in range(1 if rng.random() < 0.87 else 2):
            copy, kind = gen.duplicate(original)
            kinds[kind] = kinds.get(kind, 0) + 1
            duplicate_kind[(min(original.id, copy.id), max(original.id, copy.id))] = kind
            cluster.append(copy)
            people.append(copy)
        for i, a in enumerate(cluster):
            for b in cluster[i + 1 :]:
                truth.add((min(a.id, b.id), max(a.id, b.id)))
    rng.shuffle(people)
    return Registry(people, truth, kinds, duplicate_kind, look_alikes)


def chunks(people: list[Person], size: int) -> Iterator[list[Person]]:
    for start in range(0, len(people), size):
        yield people[start : start + size]
