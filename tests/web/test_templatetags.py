"""Formatting filters of the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from reliefops.web.templatetags.reliefops_web import coordinates, elevation, money, quantity, took


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        pytest.param(34.753, 73.539, "34.7530° N, 73.5390° E", id="north-east"),
        pytest.param(-1.5, -70.25, "1.5000° S, 70.2500° W", id="south-west"),
        pytest.param(None, 73.5, "", id="no-latitude"),
    ],
)
def test_coordinates(lat, lon, expected):
    assert coordinates(SimpleNamespace(lat=lat, lon=lon)) == expected


@pytest.mark.parametrize(
    ("metres", "expected"),
    [
        pytest.param(1524, "1,524 m (5,000 ft)", id="winter-race-line"),
        pytest.param(0, "0 m (0 ft)", id="sea-level"),
        pytest.param(None, "", id="unknown"),
    ],
)
def test_elevation_gives_feet_too(metres, expected):
    assert elevation(metres) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        pytest.param(250_000_000, "GBP", "GBP 2,500,000.00", id="pounds"),
        pytest.param(5, "USD", "USD 0.05", id="cents"),
        pytest.param(-12_345, "PKR", "PKR -123.45", id="negative"),
        pytest.param(1000, "JPY", "JPY 1,000", id="no-minor-unit"),
        pytest.param(1_250_005, "KWD", "KWD 1,250.005", id="three-decimals"),
        pytest.param(-50, "JPY", "JPY -50", id="negative-no-minor-unit"),
    ],
)
def test_money_from_minor_units(amount, currency, expected):
    assert money(amount, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(520102, "520,102", id="integer"),
        pytest.param(Decimal("1.500"), "1.5", id="decimal-trailing-zeros"),
        pytest.param(Decimal("100.000"), "100", id="decimal-whole"),
        pytest.param(None, "", id="none"),
    ],
)
def test_quantity(value, expected):
    assert quantity(value) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (47, "47 seconds"),
        (60, "1\xa0minute"),
        (3900, "1\xa0hour, 5\xa0minutes"),
    ],
)
def test_took_says_seconds_under_a_minute(seconds, expected):
    start = dt.datetime(2005, 11, 20, 9, 0, tzinfo=dt.UTC)
    assert took(start, start + dt.timedelta(seconds=seconds)) == expected
    assert took(None, start) == ""
