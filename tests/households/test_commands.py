"""`reliefops households ...`: import a file as a user, search for duplicates, anonymise, figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import ManagementUtility
from django.core.management.base import CommandError

from reliefops.households.models import DuplicatePair, Household
from reliefops.households.services import PackageInput, cards_issue, handover_record, household_merge
from tests.households.conftest import DAY, receive, register, winter_round

HEADER = (
    "head_name,father_or_husband_name,head_sex,document_number,females_18_59,males_18_59,"
    "origin,origin_village,house_damage,consent\n"
)


def write(tmp_path, text: str):
    path = tmp_path / "households.csv"
    path.write_text(HEADER + text)
    return str(path)


def test_import_checks_then_commits_as_the_user(op, tmp_path, run_command):
    path = write(tmp_path, "Sher Zaman,Gul Zaman,male,13503-1111111-1,1,1,PK50401,Rashang,destroyed,yes\n")
    out, _ = run_command("households", "import", path, "--as", op.registrar.username)
    assert "ready to import" in out
    assert not Household.objects.exists()
    out, _ = run_command("households", "import", path, "--as", op.registrar.username, "--commit")
    assert "Imported 1 household from" in out
    assert Household.objects.count() == 1


def test_import_of_a_file_imported_before_says_so_and_imports_nothing(op, tmp_path, run_command):
    path = write(tmp_path, "Sher Zaman,Gul Zaman,male,,1,1,PK50401,Rashang,destroyed,yes\n")
    run_command("households", "import", path, "--as", op.registrar.username, "--commit")
    out, _ = run_command("households", "import", path, "--as", op.registrar.username, "--commit")
    assert "is the same file as import" in out
    assert Household.objects.count() == 1


def test_import_lists_every_problem_and_writes_nothing(op, tmp_path, run_command):
    path = write(
        tmp_path,
        "Sher Zaman,Gul Zaman,male,13503-111-1,1,1,PK50401,Rashang,destroyed,yes\n"
        ",Gul Zaman,male,,1,1,Atlantis,Rashang,destroyed,no\n",
    )
    with pytest.raises(CommandError, match="4 problem") as refused:
        run_command("households", "import", path, "--as", op.registrar.username, "--commit")
    assert "line 2, document_number" in refused.value.stderr
    assert "line 3, origin" in refused.value.stderr
    assert not Household.objects.exists()


def test_import_refuses_a_registration_date_before_the_earthquake_naming_its_line(op, tmp_path, run_command):
    # given a file whose second household is dated 2005-01-01, months before the earthquake
    path = tmp_path / "households.csv"
    path.write_text(
        HEADER.rstrip("\n") + ",registered_on\n"
        "Sher Zaman,Gul Zaman,male,13503-1111111-1,1,1,PK50401,Rashang,destroyed,yes,2005-10-24\n"
        "Zainab Bibi,Akbar Khan,female,,1,0,PK50401,Biari,damaged,yes,2005-01-01\n"
    )
    # when it is imported
    with pytest.raises(CommandError, match="1 problem") as refused:
        run_command("households", "import", str(path), "--as", op.registrar.username, "--commit")
    # then the line and the column are named, with the days allowed; nothing is imported
    assert "line 3, registered_on: a day from 8 Oct 2005, the operation's first day, to today, " in (
        refused.value.stderr
    )
    assert "; 1 Jan 2005 is before the operation began" in refused.value.stderr
    assert not Household.objects.exists()


def test_import_of_a_file_with_many_problems_lists_the_first_thousand_and_counts_them_all(
    op, tmp_path, run_command
):
    # each row has three problems: no head's name, an unknown origin and no consent
    path = write(tmp_path, ",Gul Zaman,male,,1,1,Atlantis,Rashang,destroyed,no\n" * 400)
    with pytest.raises(CommandError, match="1,200 problem") as refused:
        run_command("households", "import", path, "--as", op.registrar.username)
    lines = [line for line in refused.value.stderr.splitlines() if line.startswith(("line ", "… and"))]
    assert len(lines) == 1001
    assert lines[-1] == "… and 200 more problems"


def test_import_needs_the_right(op, tmp_path, run_command):
    path = write(tmp_path, "Sher Zaman,Gul Zaman,male,,1,1,PK50401,Rashang,destroyed,yes\n")
    with pytest.raises(CommandError, match="may not register, import, correct or merge households"):
        run_command("households", "import", path, "--as", op.distributor.username, "--commit")


def test_dedupe_queues_the_likely_pairs(op, run_command):
    register(op)
    register(op, head_name="Mohd Aslam", document_type="none", document_number="")
    DuplicatePair.objects.all().delete()
    out, _ = run_command("households", "dedupe", "--quiet")
    assert "2 households" in out
    assert "1 new in the review queue" in out
    assert DuplicatePair.objects.count() == 1


def test_anonymise_uses_the_retention_setting_and_a_dry_run_changes_nothing(op, run_command, monkeypatch):
    register(op)
    monkeypatch.setenv("RELIEFOPS_HOUSEHOLD_RETENTION_DAYS", "30")
    out, _ = run_command("households", "anonymise", "--today", "2006-01-01", "--dry-run")
    assert "1 household last registered or served before 2 Dec 2005 would be anonymised" in out
    assert Household.objects.get().head_name
    out, _ = run_command("households", "anonymise", "--today", "2006-01-01")
    assert "1 household last registered or served before 2 Dec 2005 was anonymised" in out
    assert Household.objects.get().head_name == ""


def test_counts_rounds_and_reconcile_print_figures_without_names(op, run_command):
    household = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 30, "GRN-2")
    round_obj = winter_round(op)
    cards_issue(actor=op.registrar, round_id=round_obj.pk)
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=DAY + dt.timedelta(days=1),
    )
    counts, _ = run_command("households", "counts")
    assert counts.startswith("1 household (4 people)")
    rounds, _ = run_command("households", "rounds")
    assert "WR-1" in rounds
    assert "served      1" in rounds
    figures, _ = run_command("households", "reconcile", "WR-1")
    assert "1 listed, 1 served" in figures
    assert "CGI-SHEET" in figures
    for text in (counts, rounds, figures):
        assert "Aslam" not in text
    with pytest.raises(CommandError, match="no round"):
        run_command("households", "reconcile", "NONE")


def test_correct_changes_the_fields_given_as_the_user_and_a_repeat_with_its_key_changes_nothing(
    op, run_command
):
    household = register(op)
    args = (
        "households", "correct", str(household.pk), "--as", op.registrar.username,
        "--reason", "the grandmother was not counted",
        "--set", "females_60_plus=1", "--set", "landless=yes", "--set", "phone=0345 7654321",
        "--key", "cli-1",
    )  # fmt: skip
    out, _ = run_command(*args)
    assert f"Household {household.pk} corrected: phone, women 60+, landless." in out
    household.refresh_from_db()
    assert (household.size, household.landless, household.phone) == (5, True, "+923457654321")
    out, _ = run_command(*args)
    assert "saved before: nothing changed" in out
    assert household.corrections.count() == 1


def test_correct_with_set_options_works_from_the_real_command_line(op, capsys, monkeypatch):
    # the entry point parses Django's own options (--settings among them) before the command's
    household = register(op)
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)  # keep the test's transaction
    ManagementUtility(
        [
            "reliefops", "households", "correct", str(household.pk), "--as", op.registrar.username,
            "--reason", "the baby was not counted", "--set", "males_0_5=2", "--set", "phone=0345 7654321",
        ]
    ).execute()  # fmt: skip
    assert f"Household {household.pk} corrected" in capsys.readouterr().out
    household.refresh_from_db()
    assert (household.males_0_5, household.phone) == (2, "+923457654321")


def test_correct_lists_every_problem_and_changes_nothing(op, run_command):
    household = register(op)
    refusal = "2 problems; the correction was refused and nothing was changed"
    with pytest.raises(CommandError, match=refusal) as refused:
        run_command(
            "households", "correct", str(household.pk), "--as", op.registrar.username, "--reason", "typo",
            "--set", "document_number=12345", "--set", "males_0_5=many",
        )  # fmt: skip
    assert "document_number" in refused.value.stderr
    assert "males_0_5" in refused.value.stderr
    assert Household.objects.get(pk=household.pk).document_number == "1350312345671"


def test_correct_says_what_a_refused_value_holds_not_what_a_cell_holds(op, run_command):
    # given a household, and a correction naming an origin the gazetteer does not know
    household = register(op)
    # when it is sent from the command line
    with pytest.raises(CommandError) as refused:
        run_command(
            "households", "correct", str(household.pk), "--as", op.registrar.username, "--reason", "typo",
            "--set", "origin=Atlantis",
        )  # fmt: skip
    # then the option's value is what the refusal speaks of, as no file was read
    said = (
        "origin: neither a P-code nor a place name of the gazetteer (the value holds 8 characters: letters)"
    )
    assert said in refused.value.stderr
    assert "the cell" not in refused.value.stderr


def test_correct_shows_likely_duplicates_without_names_and_saves_once_they_are_seen(op, run_command):
    first = register(op)
    second = register(
        op,
        head_name="Sher Zaman",
        father_or_husband_name="Gul Zaman",
        phone="",
        document_type="none",
        document_number="",
    )
    args = (
        "households", "correct", str(second.pk), "--as", op.registrar.username, "--reason", "misheard",
        "--set", "head_name=Mohd Aslam", "--set", "father_or_husband_name=Ghulam Rasool",
    )  # fmt: skip
    with pytest.raises(CommandError, match=f"--seen {first.pk}") as shown:
        run_command(*args)
    assert f"likely household {first.pk}" in shown.value.stderr
    assert "Aslam" not in shown.value.stderr
    assert Household.objects.get(pk=second.pk).head_name == "Sher Zaman"
    out, _ = run_command(*args, "--seen", str(first.pk))
    assert "review queue" in out
    assert DuplicatePair.objects.filter(first=first, second=second).exists()


def test_correct_needs_the_registration_right(op, run_command):
    household = register(op)
    with pytest.raises(CommandError, match="may not register, import, correct or merge households"):
        run_command(
            "households", "correct", str(household.pk), "--as", op.distributor.username,
            "--reason", "x", "--set", "phone=",
        )  # fmt: skip
    assert Household.objects.get(pk=household.pk).phone == "+923001234567"


def test_unlist_takes_a_household_off_a_rounds_list_as_the_user(op, run_command):
    household = register(op)
    winter_round(op)
    args = ("households", "unlist", "WR-1", str(household.pk), "--reason", "below 5,000 ft after all")
    # a distributor may not
    with pytest.raises(CommandError, match="distributor, may not plan and run distribution rounds"):
        run_command(*args, "--as", op.distributor.username)
    out, _ = run_command(*args, "--as", op.registrar.username)
    assert f"Household {household.pk} was taken off the list of WR-1" in out
    out, _ = run_command(*args, "--as", op.registrar.username)
    assert "already: nothing changed" in out
    with pytest.raises(CommandError, match="no round NONE"):
        run_command(
            "households", "unlist", "NONE", str(household.pk), "--reason", "x", "--as", op.registrar.username
        )


def test_a_malformed_set_option_is_refused_without_repeating_it(op, run_command):
    household = register(op)
    with pytest.raises(CommandError) as refused:
        run_command(
            "households", "correct", str(household.pk), "--as", op.registrar.username,
            "--reason", "typo", "--set", "0300-9998887",
        )  # fmt: skip
    assert "0300-9998887" not in str(refused.value)
    assert "FIELD=VALUE" in str(refused.value)


def test_reconcile_writes_its_figures_with_thousands_separators(op, run_command):
    # given a household listed in a round that gives it 1,500 CGI sheets
    register(op)
    winter_round(op, package=[PackageInput(item_id=op.cgi.pk, per_household=1500)])
    # when the round's figures are printed
    figures, _ = run_command("households", "reconcile", "WR-1")
    # then they are written as the stock reports write theirs
    assert "  CGI-SHEET          1,500         0         0       0" in figures.splitlines()


@pytest.mark.parametrize("count", ["-1", "-12"], ids=["minus-one", "minus-twelve"])
def test_correct_says_a_member_count_below_0_is_below_0(op, run_command, count):
    # given a household, and a count typed with a minus sign
    household = register(op)
    # when it is given as a correction
    with pytest.raises(CommandError, match="1 problem; the correction was refused") as refused:
        run_command(
            "households", "correct", str(household.pk), "--as", op.registrar.username,
            "--reason", "typo", "--set", f"males_0_5={count}",
        )  # fmt: skip
    # then the command says why as the form and the API do: the count is below 0, not "no number"
    assert "males_0_5: a whole number from 0 to 40; this one is below 0" in refused.value.stderr
    assert Household.objects.get(pk=household.pk).males_0_5 == 1


def test_unlist_and_correct_name_the_household_once_in_a_refusal(op, run_command):
    # given a household served in a round, and a second registration merged into it
    household = register(op)
    receive(op, op.bana, op.cgi, 30, "GRN-1")
    receive(op, op.bana, op.blanket, 30, "GRN-2")
    round_obj = winter_round(op)
    handover_record(
        actor=op.distributor,
        round_id=round_obj.pk,
        point_site_id=op.bana.pk,
        household_id=household.pk,
        collected_by="the head",
        handed_on=DAY + dt.timedelta(days=1),
    )
    twice = register(op, document_type="none", document_number="", phone="")
    household_merge(actor=op.registrar, survivor_id=household.pk, merged_id=twice.pk)
    user = op.registrar.username
    # when the served household is taken off the list, and the merged one is corrected
    with pytest.raises(CommandError) as served:
        run_command("households", "unlist", "WR-1", str(household.pk), "--as", user, "--reason", "x")
    with pytest.raises(CommandError) as merged:
        run_command(
            "households", "correct", str(twice.pk), "--as", user, "--reason", "x", "--set", "landless=yes"
        )
    # then each refusal names the household once, in its own sentence
    assert str(served.value) == (
        f"household {household.pk} received its package of round WR-1 on 21 Nov 2005: "
        "it stays on the list, with its handover"
    )
    assert str(merged.value).startswith(f"household {twice.pk} was merged into household {household.pk}")
    # and a refusal that does not name it is still told which household it is about
    with pytest.raises(CommandError, match=f"^household {household.pk}: your role, distributor, may not"):
        run_command(
            "households",
            "unlist",
            "WR-1",
            str(household.pk),
            "--as",
            op.distributor.username,
            "--reason",
            "x",
        )


def test_reconcile_and_unlist_read_a_rounds_code_in_any_case(op, run_command):
    # given round WR-1, its code typed in small letters
    household = register(op)
    winter_round(op)
    # when its figures are asked for and a household is taken off its list
    figures, _ = run_command("households", "reconcile", "wr-1")
    out, _ = run_command(
        "households",
        "unlist",
        " wr-1 ",
        str(household.pk),
        "--as",
        op.registrar.username,
        "--reason",
        "moved",
    )
    # then both find WR-1, as the pages do
    assert figures.startswith("WR-1 Winter Race")
    assert f"Household {household.pk} was taken off the list of WR-1" in out
    # and a code no round has is refused as before
    with pytest.raises(CommandError, match=r"^no round WR-9$"):
        run_command("households", "reconcile", "WR-9")
