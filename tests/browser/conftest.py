"""Fixtures of the browser tests of this folder; the browser fixtures themselves are in
`tests/browser/fixtures.py`, a plugin of the root conftest."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.scenario import build_kashmir


@pytest.fixture
def kashmir(transactional_db: Any) -> Any:
    """The Kashmir slice of the web tests, committed so that the live server sees it."""
    return build_kashmir()
