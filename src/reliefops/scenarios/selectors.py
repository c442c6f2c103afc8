"""Whether the operation's figures are a scenario's: what the dashboard and the sitrep label as
illustrative.

A scenario loads through the ordinary services, so its rows look like an operation's. What gives
them away is what the loader leaves on them, as the needs' `illustrative` column does on each
baseline row: the stock history's movements carry the scenario's idempotency keys, and its 4W
rows come from the scenario's own files (their digests). A real operation's data carries neither,
and is never labelled.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from reliefops.cluster.importers import file_digest
from reliefops.cluster.models import ImportBatch
from reliefops.stock.models import Movement

SCENARIO_NAME = "Kashmir 2005"


@dataclass(frozen=True)
class ScenarioData:
    """Which illustrative parts of a scenario the figures hold."""

    stock_history: bool = False
    cluster_reports: bool = False

    @property
    def any(self) -> bool:
        return self.stock_history or self.cluster_reports

    @property
    def parts(self) -> str:
        """`stock history (…) and partners' 4W rows`, after "Its"."""
        named = [
            name
            for name, present in (
                ("stock history (its dates, quantities, routes and losses)", self.stock_history),
                ("partners' 4W rows", self.cluster_reports),
            )
            if present
        ]
        return " and ".join(named)

    @property
    def notice(self) -> str:
        """One sentence for the top of a page or a report; empty for a real operation's data."""
        if not self.any:
            return ""
        verb = "is" if self.stock_history and not self.cluster_reports else "are"  # history is; rows are
        return (
            f"Illustrative data: these figures are the {SCENARIO_NAME} scenario's. Its {self.parts} "
            f"{verb} seeded so as to total the published figures, not an organisation's records."
        )


@functools.cache
def _scenario_4w_digests() -> frozenset[str]:
    from reliefops.scenarios.kashmir2005 import DATA_DIR
    from reliefops.scenarios.kashmir2005.cluster_history import ROUND_FILES

    return frozenset(file_digest((DATA_DIR / name).read_bytes()) for name in ROUND_FILES)


def scenario_data() -> ScenarioData:
    """Which parts of the Kashmir 2005 scenario's illustrative data are loaded: two look-ups in
    unique or indexed columns, whatever the size of the ledger (this runs on each dashboard view)."""
    from reliefops.scenarios.kashmir2005.stock_history import FIRST_KEY

    return ScenarioData(
        stock_history=Movement.objects.filter(idempotency_key=FIRST_KEY).exists(),
        cluster_reports=ImportBatch.objects.filter(
            digest__in=_scenario_4w_digests(), reverted_at__isnull=True
        ).exists(),
    )
