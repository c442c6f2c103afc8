"""partners.importers: organisations and grants files, all or nothing, idempotent."""

from __future__ import annotations

import pytest

from reliefops.core.errors import InvalidInput
from reliefops.core.models import AuditEvent
from reliefops.partners.importers import grants_import_file, organisations_import_file
from reliefops.partners.models import Grant, Organisation

ORGS = (
    "name,acronym,type,aliases\n"
    "International Organization for Migration,IOM,UN,OIM\n"
    "Department for International Development,DFID,donor,UK Aid; DfID UK\n"
    "Government of Japan,GoJ,Donor,Japan\n"
    "Pakistan Red Crescent Society,PRCS,Red Crescent,\n"
)
GRANTS_HEADER = "donor,reference,title,start,end,currency,amount\n"


def import_orgs(text: str):
    return organisations_import_file(actor=None, data=text.encode())


def import_grants(text: str):
    return grants_import_file(actor=None, data=(GRANTS_HEADER + text).encode())


@pytest.fixture
def organisations(db):
    import_orgs(ORGS)


def problems_of(call) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return [str(p) for p in caught.value.problems]


# --- organisations -------------------------------------------------------------------------------


def test_organisations_are_created_with_type_and_aliases(db):
    counts = import_orgs(ORGS)
    assert str(counts) == "4 created, 0 updated, 0 unchanged"
    dfid = Organisation.objects.get(acronym="DFID")
    assert (dfid.type, dfid.aliases) == ("donor", ["UK Aid", "DfID UK"])
    assert Organisation.objects.get(acronym="PRCS").type == "rcrc"


def test_organisations_reimport_changes_nothing(organisations, state):
    before = state()
    assert str(import_orgs(ORGS)) == "0 created, 0 updated, 4 unchanged"
    assert state() == before


def test_a_changed_organisation_is_updated_in_place(organisations):
    pk = Organisation.objects.get(acronym="IOM").pk
    counts = import_orgs(
        "name,acronym,type,aliases\nInternational Organization for Migration,IOM,un,OIM;UN Migration\n"
    )
    assert str(counts) == "0 created, 1 updated, 0 unchanged"
    iom = Organisation.objects.get(pk=pk)
    assert iom.aliases == ["OIM", "UN Migration"]
    event = AuditEvent.objects.get(action="organisation.update")
    assert (event.before, event.after) == ({"aliases": ["OIM"]}, {"aliases": ["OIM", "UN Migration"]})


def test_a_grants_file_without_title_or_days_keeps_them_as_stored(organisations, state):
    # given a grant stored with its title and days
    import_grants("DFID,DFID-2005-07,Winter Race kits,2005-10-12,2006-03-31,USD,1250000.50\n")
    before = state()
    # when a file without those columns names it again, then nothing changes
    short = "donor,reference,currency,amount\nDFID,DFID-2005-07,USD,1250000.50\n"
    assert str(grants_import_file(actor=None, data=short.encode())) == "0 created, 0 updated, 1 unchanged"
    assert state() == before
    grant = Grant.objects.get(reference="DFID-2005-07")
    assert (grant.title, grant.start.isoformat(), grant.end.isoformat()) == (
        "Winter Race kits",
        "2005-10-12",
        "2006-03-31",
    )
    # and a file with its end alone, before the stored start, is refused naming the line
    ends = "donor,reference,end,currency,amount\nDFID,DFID-2005-07,2005-10-01,USD,1250000.50\n"
    with pytest.raises(InvalidInput) as refused:
        grants_import_file(actor=None, data=ends.encode())
    assert str(refused.value.problems[0]) == (
        "line 2, end: the grant ends (2005-10-01) before it starts (2005-10-12)"
    )
    assert state() == before


# Each bad body follows a good row on line 2, which must not be written either.
BAD_ORGS = [
    pytest.param(
        "Oxfam GB,Oxfam,charity,\n",
        "line 3, type: unknown type 'charity'; use one of un, ingo",
        id="unknown-type",
    ),
    pytest.param(",XYZ,ingo,\n", "line 3, name: the name is empty", id="empty-name"),
    pytest.param(
        "CARE,CARE,ingo,\ncare,CARE2,ingo,\n",
        "line 4, name: duplicate name (first on line 3)",
        id="duplicate-name",
    ),
    pytest.param(
        "CARE,C,ingo,\nCaritas,c,ingo,\n",
        "line 4, acronym: duplicate acronym c (first on line 3)",
        id="duplicate-acronym",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_ORGS)
def test_bad_organisations_are_refused_whole(db, state, body, expected):
    before = state()
    problems = problems_of(
        lambda: import_orgs("name,acronym,type,aliases\nNorwegian Refugee Council,NRC,ingo,\n" + body)
    )
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert state() == before


def test_an_acronym_held_by_another_organisation_is_refused(organisations, state):
    before = state()
    problems = problems_of(
        lambda: import_orgs("name,acronym,type\nInternational Office of Migration,IOM,ingo\n")
    )
    assert problems == [
        "line 2, acronym: acronym IOM already belongs to International Organization for Migration"
    ]
    assert state() == before


def test_organisations_file_without_a_type_column_is_refused(db):
    problems = problems_of(lambda: import_orgs("name,acronym\nCARE,CARE\n"))
    assert problems == ["line 1, type: required column is missing from the header"]


def test_organisations_and_grants_files_with_a_misspelt_column_are_refused(organisations, state):
    before = state()
    assert problems_of(lambda: import_orgs("name,type,acronyms\nCARE International,ingo,CARE\n")) == [
        "line 1, acronyms: not a column of this file: did you mean acronym? Rename the column or remove it"
    ]
    grants = "donor,reference,title,currency,amount,end_date\nDFID,D-9,,USD,100,2006-03-31\n"
    assert problems_of(lambda: grants_import_file(actor=None, data=grants.encode())) == [
        "line 1, end_date: not a column of this file: did you mean end? Rename the column or remove it"
    ]
    assert state() == before


# --- grants --------------------------------------------------------------------------------------


def test_grants_store_amounts_in_minor_units_and_find_donors_by_acronym_name_or_alias(organisations):
    counts = import_grants(
        "DFID,DFID-2005-07,Winter Race kits,2005-10-12,2006-03-31,USD,1250000.50\n"
        "Government of Japan,JPN-2005-01,Tents,2005-10-20,2006-03-31,JPY,500000000\n"
        'UK Aid,DFID-2005-08,Blankets,,,gbp,"2,000,000"\n'
    )
    assert str(counts) == "3 created, 0 updated, 0 unchanged"
    dfid = Grant.objects.get(reference="DFID-2005-07")
    assert (dfid.donor.acronym, dfid.amount_minor, dfid.currency) == ("DFID", 125000050, "USD")
    assert (dfid.start.isoformat(), dfid.end.isoformat()) == ("2005-10-12", "2006-03-31")
    assert Grant.objects.get(reference="JPN-2005-01").amount_minor == 500000000  # the yen has no minor unit
    pounds = Grant.objects.get(reference="DFID-2005-08")
    assert (pounds.donor.acronym, pounds.currency, pounds.amount_minor) == ("DFID", "GBP", 200000000)


def test_grants_reimport_changes_nothing_and_a_new_amount_updates(organisations, state):
    row = "DFID,DFID-2005-07,Winter Race kits,2005-10-12,2006-03-31,USD,1250000.50\n"
    import_grants(row)
    before = state()
    assert str(import_grants(row)) == "0 created, 0 updated, 1 unchanged"
    assert state() == before
    assert str(import_grants(row.replace("1250000.50", "1300000"))) == "0 created, 1 updated, 0 unchanged"
    event = AuditEvent.objects.get(action="grant.update")
    assert (event.before, event.after) == ({"amount_minor": 125000050}, {"amount_minor": 130000000})


# Each bad body follows a good row on line 2, which must not be written either.
BAD_GRANTS = [
    pytest.param(
        "UNICEF,U-1,,,,USD,100\n",
        "line 3, donor: unknown donor 'UNICEF' (import the organisation first)",
        id="unknown-donor",
    ),
    pytest.param("DFID,D-1,,,,USD,-5\n", "line 3, amount: the amount is negative", id="negative-amount"),
    pytest.param(
        "DFID,D-1,,,,USD,12.5.0\n", "line 3, amount: not a number: '12.5.0'", id="non-numeric-amount"
    ),
    pytest.param(
        "DFID,D-1,,,,USD,10.005\n",
        "line 3, amount: USD amounts have 2 decimal places at most",
        id="too-many-decimals",
    ),
    pytest.param(
        "GoJ,J-1,,,,JPY,10.5\n",
        "line 3, amount: JPY amounts have 0 decimal places at most",
        id="yen-with-decimals",
    ),
    pytest.param(
        "DFID,D-1,,,,USD,100000000000000000\n",
        "line 3, amount: the amount is out of range: at most 1,000,000,000,000,000",
        id="amount-beyond-the-column",
    ),
    pytest.param("DFID,D-1,,,,USD,\n", "line 3, amount: an amount is required", id="missing-amount"),
    pytest.param("DFID,D-1,,,,XXY,100\n", "line 3, currency: unknown currency 'XXY'", id="unknown-currency"),
    pytest.param(
        "DFID,D-1,,2006-03-31,2005-10-01,USD,100\n",
        "line 3, end: the grant ends (2005-10-01) before it starts (2006-03-31)",
        id="end-before-start",
    ),
    pytest.param(
        "DFID,D-1,,12/10/2005,,USD,100\n",
        "line 3, start: not a date: '12/10/2005'; write it as YYYY-MM-DD",
        id="bad-date",
    ),
    pytest.param(
        "DFID,D-1,,,,USD,1\nDFID,D-1,,,,USD,2\n",
        "line 4, reference: duplicate reference (first on line 3)",
        id="duplicate-reference",
    ),
]


@pytest.mark.parametrize(("body", "expected"), BAD_GRANTS)
def test_bad_grants_are_refused_whole(organisations, state, body, expected):
    before = state()
    problems = problems_of(lambda: import_grants("DFID,OK-1,fine,,,USD,1\n" + body))
    assert len(problems) == 1
    assert problems[0].startswith(expected)
    assert state() == before


def test_an_ambiguous_donor_is_refused(organisations):
    import_orgs("name,acronym,type,aliases\nJapan International Cooperation Agency,JICA,donor,Japan\n")
    problems = problems_of(lambda: import_grants("Japan,J-1,,,,USD,1\n"))
    assert problems == [
        "line 2, donor: 'Japan' could mean Government of Japan, "
        "Japan International Cooperation Agency; give the full name"
    ]


def test_grants_are_read_by_the_hashtags_of_the_donor_reports_download(organisations):
    # given a file with the Donor reports download's headers and HXL row, its columns in its order
    counts = grants_import_file(
        actor=None,
        data=(
            b"Grant,Donor,Title,Start,End,Amount,Currency\n"
            b"#activity+code+grant,#org+name+funder,#activity+name,#date+start,#date+end,#value,#currency\n"
            b"DFID-2005-07,Department for International Development,Winter Race kits,2005-10-12,2006-03-31,"
            b"1250000.50,GBP\n"
        ),
    )
    # then its grant is created with each of its values
    assert str(counts) == "1 created, 0 updated, 0 unchanged"
    grant = Grant.objects.get(reference="DFID-2005-07")
    assert (grant.donor.acronym, grant.title, grant.start.isoformat(), grant.end.isoformat()) == (
        "DFID",
        "Winter Race kits",
        "2005-10-12",
        "2006-03-31",
    )
    assert (grant.amount_minor, grant.currency) == (125_000_050, "GBP")
