"""The documentation that restates the code is checked against it, so the two cannot drift apart.

- docs/roles.md: the table of rights per role equals core.roles.ROLE_RIGHTS, and the scope table
  names exactly the CLUSTER_WIDE roles as cluster-wide.
- docs/configuration.md: the table of environment variables lists every variable of
  reliefops.env.ENV_VARS, with its type and default, and nothing else.
- README.md and docs/: every relative link points at a file that exists; the quick start is the two
  commands the Makefile defines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reliefops.core.roles import CLUSTER_WIDE, ROLE_RIGHTS, Right, Role
from reliefops.env import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NO = "—"
UNSET = "(unset)"
EMPTY = "(empty)"

Table = tuple[list[str], list[list[str]]]


def markdown_tables(text: str) -> list[Table]:
    """Every pipe table of a markdown text, as (header cells, body rows of cells), code spans kept."""
    tables: list[Table] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            block.append(line.strip())
            continue
        if len(block) >= 2 and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", block[1]):
            rows = [_cells(row) for row in block]
            tables.append((rows[0], rows[2:]))
        block = []
    return tables


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _plain(cell: str) -> str:
    return cell.strip().strip("`").strip()


def table_headed(path: Path, first_column: str) -> Table:
    found = [t for t in markdown_tables(path.read_text()) if _plain(t[0][0]).lower() == first_column]
    assert len(found) == 1, f"{path.name}: expected one table whose first column is {first_column!r}"
    return found[0]


# --- markdown parsing ---------------------------------------------------------------------------


def test_markdown_tables_reads_header_and_rows_and_ignores_text_between():
    # Given a text with prose, a table, and a line of pipes that is not a table
    text = "intro\n\n| a | b |\n|---|:--:|\n| `x` | 1 |\n| y | 2 |\n\n| not a table |\nmore"

    # When its tables are read
    tables = markdown_tables(text)

    # Then the one table comes back with its header and its two rows
    assert tables == [(["a", "b"], [["`x`", "1"], ["y", "2"]])]


# --- docs/roles.md ------------------------------------------------------------------------------


def rights_table() -> dict[str, dict[str, str]]:
    """docs/roles.md's rights table as {right: {role: cell}}."""
    header, rows = table_headed(DOCS / "roles.md", "right")
    roles = [_plain(cell) for cell in header[1:]]
    assert roles == [role.value for role in Role], "the columns must be the roles, in core.roles.Role order"
    table: dict[str, dict[str, str]] = {}
    for row in rows:
        assert len(row) == len(header), f"row {row[0]} has {len(row)} cells, the header {len(header)}"
        table[_plain(row[0])] = dict(zip(roles, row[1:], strict=True))
    return table


def test_roles_doc_lists_every_right_once():
    # Given the rights table of docs/roles.md
    _, rows = table_headed(DOCS / "roles.md", "right")

    # Then its rows are exactly the rights of core.roles.Right, each once
    names = [_plain(row[0]) for row in rows]
    assert sorted(names) == sorted(right.value for right in Right)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_roles_doc_matches_role_rights(role):
    # Given the rights table of docs/roles.md
    table = rights_table()

    # Then the role's column says "yes" exactly for the rights ROLE_RIGHTS gives it, "—" otherwise
    for right in Right:
        cell = table[right.value][role.value]
        expected = "yes" if right in ROLE_RIGHTS[role] else NO
        assert cell == expected, f"docs/roles.md says {cell!r} for {role.value} / {right.value}"


def test_roles_doc_scope_table_matches_cluster_wide():
    # Given the scope table of docs/roles.md (role, scope)
    _, rows = table_headed(DOCS / "roles.md", "role")
    scopes = {_plain(row[0]): row[1] for row in rows}

    # Then it has one row per role, and "cluster-wide" begins the scope of exactly the CLUSTER_WIDE roles
    assert sorted(scopes) == sorted(role.value for role in Role)
    wide = {name for name, scope in scopes.items() if scope.lower().startswith("cluster-wide")}
    assert wide == {role.value for role in CLUSTER_WIDE}


# --- docs/configuration.md ----------------------------------------------------------------------


def _default(cell: str) -> str | None:
    text = cell.strip()
    if text == UNSET:
        return None
    if text == EMPTY:
        return ""
    assert text.startswith("`"), f"write the default {text!r} as `code`"
    assert text.endswith("`"), f"write the default {text!r} as `code`"
    return text[1:-1]


def test_configuration_doc_lists_exactly_the_env_table():
    # Given the variables table of docs/configuration.md
    header, rows = table_headed(DOCS / "configuration.md", "variable")
    assert [h.lower() for h in header[:3]] == ["variable", "type", "default"]
    documented = {_plain(row[0]): (row[1].strip(), _default(row[2])) for row in rows}

    # Then it lists every variable of reliefops.env.ENV_VARS with its type and default, and no other
    declared = {var.name: (var.type, var.default) for var in ENV_VARS}
    assert sorted(documented) == sorted(declared), "the table must list the ENV_VARS, no more, no fewer"
    for name, (kind, default) in declared.items():
        assert documented[name] == (kind, default), f"{name}: docs {documented[name]}, env.py {kind, default}"
    assert len(rows) == len(documented), "a variable is listed twice"


# --- links and the quick start ------------------------------------------------------------------

OWN_DOCS = [
    ROOT / "README.md",
    DOCS / "index.md",
    DOCS / "architecture.md",
    DOCS / "roles.md",
    DOCS / "configuration.md",
    DOCS / "operations.md",
    *sorted((DOCS / "decisions").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", OWN_DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_point_at_files_that_exist(path):
    # Given a document's links that are neither web addresses nor anchors in the same page
    targets = [
        target.split("#")[0]
        for target in LINK.findall(path.read_text())
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]

    # Then each names a file or folder of the repository
    missing = [target for target in targets if not (path.parent / target).exists()]
    assert not missing, f"{path.name} links to missing files: {missing}"


def test_readme_quick_start_is_the_two_make_targets():
    # Given the README's quick start and the Makefile
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \S+)\s*$", quick_start, flags=re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text()

    # Then the quick start gives exactly `make demo` and `make test`, and the Makefile defines both
    assert commands == ["make demo", "make test"]
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), f"Makefile has no {target} target"
