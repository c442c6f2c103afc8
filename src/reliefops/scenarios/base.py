"""What every scenario shares: the context its steps run in, and running the steps in order.

A scenario is a list of steps. A step is a function `step(context) -> str` that loads one part of
the scenario through the same services the operation uses and returns a one-line summary. Every
step is idempotent: run a second time, it finds everything in place and changes nothing. The
steps of one load run in a single transaction, so a failing step leaves nothing half loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


@dataclass(frozen=True)
class StepContext:
    """What a step may use: the scenario's data folder, where to report, and who acts (None: the system)."""

    data_dir: Path
    stdout: Writer
    actor: AbstractBaseUser | None = None

    def data(self, name: str) -> bytes:
        return (self.data_dir / name).read_bytes()


Step = Callable[[StepContext], str]


@dataclass(frozen=True)
class StepReport:
    name: str
    summary: str


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    steps: tuple[StepReport, ...]


def step_name(step: Step) -> str:
    """`load_gazetteer` -> `gazetteer`."""
    name = getattr(step, "__name__", type(step).__name__)
    return name.removeprefix("load_").replace("_", " ")


def run_steps(*, scenario: str, steps: Sequence[Step], context: StepContext) -> ScenarioResult:
    """Run the steps in order, in one transaction, reporting each step's summary as it finishes."""
    reports: list[StepReport] = []
    with transaction.atomic():
        for step in steps:
            summary = step(context)
            reports.append(StepReport(name=step_name(step), summary=summary))
            context.stdout.write(f"  {reports[-1].name}: {summary}\n")
    return ScenarioResult(scenario=scenario, steps=tuple(reports))
