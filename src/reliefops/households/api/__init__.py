"""API of households, duplicates, distribution rounds and handovers, a module for each: the
registry of households (`registry`), registration files (`imports`), likely duplicates
(`duplicates`), rounds (`rounds`), and handovers with a round's reconciliation (`handovers`), all on
the one router of `routing`.

Personal data (names, identity numbers, phones) is answered only to roles that may see it, and
every answer that carries it is recorded as an audit event; a distributor's distribution list holds
names and card tokens of their own points' households, never an identity number or a phone.
Registrations, corrections, cards, rounds and handovers take an `Idempotency-Key`: a repeat answers
200 with `replayed: true` and changes nothing; a key used for another household (or round) is
refused with 409.
"""

# Each module adds its operations to the router as it is imported, in this order: the API's URL
# table lists them so.
# isort: off
from reliefops.households.api import registry, imports, duplicates, rounds, handovers

# isort: on
from reliefops.households.api.routing import router

__all__ = ["duplicates", "handovers", "imports", "registry", "rounds", "router"]
