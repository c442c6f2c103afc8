"""`reliefops households import`: a file checked first is imported from its check, not checked in
as a new import; and the households messages count as they read, "1 household", "2 households"."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django.core.management import CommandError
from django.utils import timezone

from reliefops.core.roles import Role
from reliefops.households.models import Household, HouseholdImport, ImportStatus
from reliefops.households.services import cards_issue, round_make_list
from tests.factories import make_user
from tests.households.conftest import register, winter_round
from tests.households.test_api import client_for, post

HEADER = (
    "head_name,father_or_husband_name,head_sex,document_number,females_18_59,males_18_59,"
    "origin,origin_village,house_damage,consent\n"
)
ROWS = [
    "Sher Zaman,Gul Zaman,male,13503-1111111-1,1,1,PK50401,Rashang,destroyed,yes\n",
    "Zainab Bibi,Akbar Khan,female,,1,0,PK50401,Biari,damaged,yes\n",
]
# Two rows of one family: each other's likely duplicate.
TWINS = ["Gul Bibi,Sher Zaman Khan,female,,1,0,PK50401,Batkool,destroyed,yes\n"] * 2


def write(tmp_path, *rows: str, name: str = "households.csv") -> str:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows))
    return str(path)


def staged() -> list[int]:
    """The imports that still hold a file waiting to be imported."""
    waiting = HouseholdImport.objects.filter(status=ImportStatus.PREVIEWED).exclude(content=b"")
    return list(waiting.values_list("pk", flat=True))


def test_commit_after_a_preview_imports_that_preview_and_leaves_no_copy_staged(op, tmp_path, run_command):
    path = write(tmp_path, ROWS[0])
    user = op.registrar.username
    # given a file checked first: the command names its import
    out, _ = run_command("households", "import", path, "--as", user)
    previewed = int(re.search(r"\(import (\d+)\)", out).group(1))
    # when the same file is imported with --commit
    out, _ = run_command("households", "import", path, "--as", user, "--commit", "--quiet")
    # then the check is imported, as the number the user was told, and no other is made
    assert f"was checked as import {previewed} on " in out
    assert f"Imported 1 household from {path} as import {previewed}." in out
    assert list(HouseholdImport.objects.values_list("pk", "status")) == [(previewed, ImportStatus.COMMITTED)]
    assert Household.objects.count() == 1
    # and nothing waits, so no staged file is left for the retention to clear
    assert staged() == []
    out, _ = run_command("households", "anonymise", "--dry-run")
    assert "; 0 staged import files would be cleared." in out
    # and the same file again names that import
    out, _ = run_command("households", "import", path, "--as", user)
    assert f"is the same file as import {previewed} (" in out
    assert "(1 household): importing it again changes nothing." in out
    assert Household.objects.count() == 1


def test_commit_reuses_a_colleagues_preview_of_the_same_content_under_another_name(op, tmp_path, run_command):
    colleague = make_user(Role.REGISTRAR)
    first = write(tmp_path, *ROWS, name="from-the-field.csv")
    again = write(tmp_path, *ROWS, name="copy.csv")
    run_command("households", "import", first, "--as", colleague.username)
    previewed = HouseholdImport.objects.get().pk
    out, _ = run_command("households", "import", again, "--as", op.registrar.username, "--commit", "--quiet")
    assert f"{again} was checked as import {previewed}" in out
    assert f"Imported 2 households from {first} as import {previewed}." in out
    assert HouseholdImport.objects.count() == 1
    assert Household.objects.count() == 2
    assert set(Household.objects.values_list("registered_by", flat=True)) == {op.registrar.pk}


def test_commit_checks_the_file_anew_when_its_preview_was_cleared(op, tmp_path, run_command):
    path = write(tmp_path, ROWS[0])
    user = op.registrar.username
    run_command("households", "import", path, "--as", user)
    old = HouseholdImport.objects.get()
    # given a preview left more than a week, whose file the retention run cleared
    HouseholdImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    out, _ = run_command("households", "anonymise")
    assert "1 staged import file was cleared." in out
    # when the file is imported with --commit, it is checked again as a new import and imported
    out, _ = run_command("households", "import", path, "--as", user, "--commit", "--quiet")
    assert "was checked as import" not in out
    new = HouseholdImport.objects.exclude(pk=old.pk).get()
    assert f"Imported 1 household from {path} as import {new.pk}." in out
    assert new.status == ImportStatus.COMMITTED
    assert Household.objects.count() == 1


def test_the_import_messages_say_1_household_and_2_households(op, tmp_path, run_command):
    user = op.registrar.username
    one = write(tmp_path, ROWS[0], name="one.csv")
    out, _ = run_command("households", "import", one, "--as", user)
    assert f"1 household in {one} is ready to import; 0 likely duplicates to look at first." in out
    out, _ = run_command("households", "import", one, "--as", user, "--commit", "--quiet")
    assert f"Imported 1 household from {one} as import" in out
    assert "households" not in out.replace(tmp_path.as_posix(), "")
    two = write(tmp_path, *TWINS, name="two.csv")
    out, _ = run_command("households", "import", two, "--as", user)
    assert f"2 households in {two} are ready to import; 1 likely duplicate to look at first." in out
    out, _ = run_command("households", "import", two, "--as", user, "--commit", "--quiet")
    assert f"Imported 2 households from {two} as import" in out
    out, _ = run_command("households", "import", two, "--as", user, "--commit", "--quiet")
    assert "(2 households): importing it again changes nothing." in out


def test_the_api_import_messages_say_1_household_and_2_households(op):
    registrar = client_for(op.registrar)

    def upload(name: str, *rows: str) -> dict:
        content = base64.b64encode((HEADER + "".join(rows)).encode()).decode()
        answer = post(registrar, "/api/households/imports", {"filename": name, "content_base64": content})
        assert answer.status_code == 201, answer.content
        return answer.json()

    one = upload("one.csv", ROWS[0])
    assert (
        one["message"] == "1 household in one.csv is ready to import; 0 likely duplicates to look at first."
    )
    done = post(registrar, f"/api/households/imports/{one['id']}/commit").json()
    assert done["message"] == "Imported 1 household from one.csv."
    again = upload("again.csv", ROWS[0])
    assert again["message"].endswith("(1 household): importing it again changes nothing.")
    two = upload("two.csv", *TWINS)
    assert (
        two["message"] == "2 households in two.csv are ready to import; 1 likely duplicate to look at first."
    )
    done = post(registrar, f"/api/households/imports/{two['id']}/commit").json()
    assert done["message"] == "Imported 2 households from two.csv."


def test_the_round_messages_count_as_they_read(op, run_command):
    register(op)
    round_obj = winter_round(op, open_it=False)
    result = round_make_list(actor=op.registrar, round_id=round_obj.pk)
    assert result.message == "1 household added to the list of WR-1; 0 were listed already."
    again = round_make_list(actor=op.registrar, round_id=round_obj.pk)
    assert again.message == "0 households added to the list of WR-1; 1 was listed already."
    issued = post(client_for(op.registrar), f"/api/households/rounds/{round_obj.pk}/cards").json()
    assert issued["message"] == "1 card issued."
    assert cards_issue(actor=op.registrar, round_id=round_obj.pk) == 0
    out, _ = run_command("households", "counts")
    assert out.startswith("1 household (4 people), ")
    assert "0 likely duplicate pairs to review." in out
    out, _ = run_command("households", "reconcile", "WR-1")
    assert "0 double receipts." in out


def test_a_commit_refused_for_a_registry_changed_since_the_check_says_so_in_the_imports_words(
    op, tmp_path, run_command
):
    # given a file checked first, then its household registered at a desk meanwhile
    path = write(tmp_path, ROWS[0])
    user = op.registrar.username
    run_command("households", "import", path, "--as", user)
    register(op, head_name="Sher Zaman", document_number="13503-1111111-1")
    # when it is imported, then the refusal counts as it reads and says what was not done
    with pytest.raises(CommandError) as refused:
        run_command("households", "import", path, "--as", user, "--commit", "--quiet")
    assert str(refused.value).endswith("1 problem now; nothing was imported")
    assert Household.objects.count() == 1
