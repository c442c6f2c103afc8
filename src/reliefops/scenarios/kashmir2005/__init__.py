"""The reference scenario: the 8 October 2005 Kashmir earthquake and IOM's relief operation.

`load(stdout=...)` runs `STEPS` in order, in one transaction (a failure leaves nothing half loaded).
Reference data comes first: gazetteer, sites, organisations, grants, items, kits. Each step is
idempotent (a second load changes nothing) and returns a one-line summary.

To add a step, write it in its own module of this package as

    def load_something(context: StepContext) -> str:
        '''One sentence on what it loads.'''
        ...  # call services only; find what is already there before creating it
        return "12 created, 0 updated, 0 unchanged"

and append it at the end of `STEPS` below (later steps may rely on everything before them).
The data files live in `DATA_DIR` (`scenarios/data/kashmir-2005/`); see its README for sources.
"""

from __future__ import annotations

from reliefops.scenarios.base import ScenarioResult, Step, StepContext, Writer, run_steps
from reliefops.scenarios.kashmir2005.cluster_history import (
    load_cluster_needs,
    load_cluster_reference,
    load_cluster_reports,
)
from reliefops.scenarios.kashmir2005.households_history import (
    load_households,
    load_stock_history,  # stock_history's, with part of its distributions handed to households
)
from reliefops.scenarios.kashmir2005.reference import (
    DATA_DIR,
    load_gazetteer,
    load_grants,
    load_items,
    load_kits,
    load_organisations,
    load_sites,
)

NAME = "kashmir-2005"

# Reference data: places, partners, catalogue. Later steps may rely on all of it.
REFERENCE_STEPS: list[Step] = [
    load_gazetteer,
    load_sites,
    load_organisations,
    load_grants,
    load_items,
    load_kits,
]

STEPS: list[Step] = [
    *REFERENCE_STEPS,
    load_households,
    load_stock_history,
    load_cluster_reference,
    load_cluster_needs,
    load_cluster_reports,
]

# The codes other parts of the operation (stock history, published figures) rely on.
PUBLISHED_ITEM_CODES = ("TENT", "SHELTER-KIT", "WINTER-KIT", "BLANKET", "QUILT", "CGI-SHEET", "TARPAULIN")
HUB_CODES = ("ISB-WH", "MNS-HUB", "BLK-HUB", "BTG-HUB", "MZD-HUB", "BAG-HUB")


def load(*, stdout: Writer) -> ScenarioResult:
    """Load the scenario (or bring it up to date); loading it twice leaves the same rows."""
    return run_steps(scenario=NAME, steps=STEPS, context=StepContext(data_dir=DATA_DIR, stdout=stdout))


__all__ = [
    "DATA_DIR",
    "HUB_CODES",
    "NAME",
    "PUBLISHED_ITEM_CODES",
    "REFERENCE_STEPS",
    "STEPS",
    "StepContext",
    "load",
]
