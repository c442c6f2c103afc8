"""Fixtures of the security tests: the API tests' reference data and token maker."""

from tests.api.conftest import reference, token_for  # noqa: F401 - fixtures shared with the API matrix
