"""The scenarios `reliefops scenario load NAME` knows, by name."""

from __future__ import annotations

from collections.abc import Callable

from reliefops.scenarios.base import ScenarioResult, Writer


def _kashmir_2005(*, stdout: Writer) -> ScenarioResult:
    from reliefops.scenarios import kashmir2005

    return kashmir2005.load(stdout=stdout)


SCENARIOS: dict[str, tuple[str, Callable[..., ScenarioResult]]] = {
    "kashmir-2005": (
        "the October 2005 Kashmir earthquake: IOM hubs, partners, donors, catalogue",
        _kashmir_2005,
    ),
}
