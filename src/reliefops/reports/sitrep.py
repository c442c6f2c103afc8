"""The situation report: one builder for the web page and `reliefops sitrep`, in the field's words.

"In total, IOM has distributed: 11,768 tents, 21,995 shelter kits, …", then the cluster's totals,
the hubs, the gaps and the contacts. Every figure is read from the ledger and the 4W rows by the
selectors of reports.selectors; nothing is typed in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.template.loader import render_to_string

from reliefops.cluster import selectors as cluster
from reliefops.cluster.selectors import GapRow
from reliefops.core.roles import Role
from reliefops.core.text import series, unit_for
from reliefops.places.models import Site, SiteKind
from reliefops.reports import selectors
from reliefops.reports.periods import Period
from reliefops.scenarios.selectors import ScenarioData, scenario_data
from reliefops.stock import selectors as stock
from reliefops.stock.models import Waybill, WaybillStatus

# How the field writes the published items (the press release's words), by published key.
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "tents": ("tent", "tents"),
    "shelter_kits": ("shelter kit", "shelter kits"),
    "winterization_kits": ("winterization kit", "winterization kits"),
    "blankets": ("blanket", "blankets"),
    "quilts": ("quilt", "quilts"),
    "cgi_sheets": ("Corrugated Galvanized Iron Sheet (CGI)", "Corrugated Galvanized Iron Sheets (CGI)"),
    "tarpaulins": ("tarpaulin", "tarpaulins"),
}
NO_GAPS = "No gap can be worked out: the cluster has no baseline of need or no activity for this period."
NO_CONTACTS = "No contact recorded: coordinators and hub managers with an e-mail address are listed here."
# What the hubs' item tables count (the same words on the page, in the HTML file and the Markdown).
HUBS_DISTRIBUTED = "Handed over by each hub and the distribution points it supplies,"
HUBS_ON_HAND = "On hand {day} at each hub itself (its points hold their own stock)"
# Said in place of the Distributed part and the hubs' part to a reader who may not see the stock of
# every site (the page, the .md and the .html): both are read from the stock ledger.
DISTRIBUTED_LEFT_OUT = (
    "What {organisation} distributed is left out: it is read from the stock ledger, "
    "and shown only to roles that see the stock of every site."
)
HUBS_LEFT_OUT = (
    "The hubs' part (stock on hand, what each hub handed over, waybills on the way) is left out: "
    "it is shown only to roles that see the stock of every site."
)
# The gap table of a sitrep names this many districts, the widest gaps first.
GAP_DISTRICTS = 8


def quantity_phrase(quantity: int, figure: selectors.ItemFigure) -> str:
    """`11,768 tents`; an item the press release does not name keeps its catalogue name."""
    words = FIELD_WORDS.get(figure.published_key)
    if words:
        return f"{quantity:,} {words[0] if quantity == 1 else words[1]}"
    return f"{quantity:,} of {figure.name}"


def quantities(pairs: list[tuple[int, selectors.ItemFigure]]) -> str:
    """`11,768 tents, 21,995 shelter kits and 18,989 tarpaulins`; separated by semicolons
    (`4,336 of Kitchen set, family; 5,548 of Mattress, foam; and …`) when an item's name holds a
    comma of its own, so that the reader can tell where one item ends and the next begins."""
    phrases = [quantity_phrase(quantity, figure) for quantity, figure in pairs]
    # the words after the figure: its own thousands separators are no item's comma
    if len(phrases) < 2 or not any("," in phrase.split(" ", 1)[1] for phrase in phrases):
        return series(phrases)
    return "; ".join(phrases[:-1]) + "; and " + phrases[-1]


def unit_phrase(quantity: int, unit: str) -> str:
    """`520,102 tents`, `1 shelter`, `3,000,000 PKR`."""
    return f"{quantity:,} {unit_for(quantity, unit)}"


def in_a_sentence(name: str) -> str:
    """`Tents distributed` -> `tents distributed`; an acronym (`CGI sheets`) keeps its capitals."""
    first = name.split(" ", 1)[0]
    return name if first.isupper() else name[:1].lower() + name[1:]


@dataclass(frozen=True)
class HubLine:
    """One hub of the sitrep. Quantities are per item (item id -> quantity), never added across
    items: 100 tents and 100 blankets are not 200 of anything."""

    site: Site
    district: str
    served_sites: int  # the open points and camps it supplies (not the hubs a warehouse supplies)
    distributed: dict[int, int]  # handed over by the hub and the points it supplies, in the period
    on_hand: dict[int, int]  # held at the hub itself, at the end of the sitrep's day
    waybills_in: int  # trucks on their way to it on the sitrep's day


@dataclass(frozen=True)
class Contact:
    name: str
    role: str
    where: str
    email: str


@dataclass
class Sitrep:
    organisation: selectors.OperatingOrganisation
    period: Period
    written_on: dt.date
    distributions: selectors.Distributions
    cluster: selectors.ClusterPicture
    hubs: list[HubLine]
    contacts: list[Contact]
    # The item rows of the hubs' table of what they hold, in the order of the Distributed table
    hub_items_on_hand: list[selectors.ItemFigure]
    # False for a reader who may not see the stock of every site: the Distributed part and the
    # hubs' part are left out, and say so
    stock_shown: bool = True
    # The day the hubs' stock and trucks are counted on: a past period's last day; None: today
    hubs_on: dt.date | None = None
    # The parts of the figures that are a scenario's illustrative data (none for an operation's own)
    scenario: ScenarioData = field(default_factory=ScenarioData)

    @property
    def illustrative_notice(self) -> str:
        return self.scenario.notice

    @property
    def closing_note(self) -> str:
        note = "Figures from the stock ledger and the cluster's 4W reports; none is typed in."
        if self.scenario.any:
            note += " They are the illustrative data of a scenario, not an organisation's records."
        return note

    @property
    def period_phrase(self) -> str:
        """The period inside a sentence: `from 1 December 2005 to 31 December 2005`, `since …`."""
        return self.period.in_a_sentence()

    @property
    def hubs_distributed_caption(self) -> str:
        return f"{HUBS_DISTRIBUTED} {self.period_phrase}"

    @property
    def hubs_left_out(self) -> str:
        return HUBS_LEFT_OUT

    @property
    def distributed_left_out(self) -> str:
        return DISTRIBUTED_LEFT_OUT.format(organisation=self.organisation.short)

    @property
    def hubs_day(self) -> str:
        """`today`, or `on 31 December 2005` for a period that ended before today."""
        return f"on {self.hubs_on.day} {self.hubs_on:%B %Y}" if self.hubs_on else "today"

    @property
    def hubs_on_hand_caption(self) -> str:
        return HUBS_ON_HAND.format(day=self.hubs_day)

    @property
    def waybills_heading(self) -> str:
        return f"waybills on the way {self.hubs_day}" if self.hubs_on else "waybills on the way"

    @property
    def hub_items_distributed(self) -> list[selectors.ItemFigure]:
        """The item rows of the hubs' table of what they handed over: the Distributed table's."""
        return self.distributions.items

    @property
    def hub_distributed_rows(self) -> list[tuple[selectors.ItemFigure, list[int]]]:
        """One row per item, one value per hub (in the order of `hubs`)."""
        return [(f, [h.distributed.get(f.item_id, 0) for h in self.hubs]) for f in self.hub_items_distributed]

    @property
    def hub_on_hand_rows(self) -> list[tuple[selectors.ItemFigure, list[int]]]:
        """One row per item, one value per hub (in the order of `hubs`)."""
        return [(f, [h.on_hand.get(f.item_id, 0) for h in self.hubs]) for f in self.hub_items_on_hand]

    @property
    def title(self) -> str:
        return f"{self.organisation.short} situation report"

    def file_name(self, extension: str) -> str:
        """Named after the days it covers: `sitrep-2005-12-01-to-2005-12-31.html`; a sitrep of the
        operation so far is dated by its last day (`sitrep-2005-12-31.md`, or the day it is written)."""
        last = (self.period.end or self.written_on).isoformat()  # the year in four digits, as %Y may not
        if self.period.start is None:
            return f"sitrep-{last}.{extension}"
        return f"sitrep-{self.period.start.isoformat()}-to-{last}.{extension}"

    @property
    def distributed_sentence(self) -> str:
        """`In total, IOM has distributed: 11,768 tents, … and 18,989 tarpaulins.`"""
        figures = [f for f in self.distributions.published if f.total]
        if not figures:
            return (
                f"{self.organisation.short} has distributed none of its reported items "
                f"{self.period.describe()}."
            )
        lead = "In total" if self.period.is_open else f"From {self.period.describe()}"
        return (
            f"{lead}, {self.organisation.short} has distributed: "
            f"{quantities([(f.total, f) for f in figures])}."
        )

    @property
    def other_items_sentence(self) -> str:
        others = [f for f in self.distributions.others if f.total]
        if not others:
            return ""
        return f"It also distributed {quantities([(f.total, f) for f in others])}."

    @property
    def partners_sentence(self) -> str:
        handed = [f for f in self.distributions.items if f.to_partners]
        if not handed:
            return ""
        return (
            "These totals include what was handed to partner organisations to distribute: "
            f"{quantities([(f.to_partners, f) for f in handed])}."
        )

    @property
    def cluster_sentence(self) -> str:
        reached = [t for t in self.cluster.totals if t.quantity_reached]
        # The partners report by month: a period of days reads every month it touches, whole, and
        # the sentence names those months rather than the period's days.
        months = self.cluster.for_the_months
        if not reached:
            return f"The cluster's partners have reported no completed activity{months}."
        return (
            f"The Emergency Shelter Cluster's partners report{months}, once double counting is removed: "
            + "; ".join(
                f"{in_a_sentence(t.name)}: {unit_phrase(t.quantity_reached, t.unit)}" for t in reached
            )
            + "."
        )

    @property
    def activity_words(self) -> str:
        activity = self.cluster.activity
        return in_a_sentence(activity.name) if activity is not None else ""

    @property
    def gap_rows(self) -> list[GapRow]:
        rows = [r for r in self.cluster.district_rows if r.gap]
        return sorted(rows, key=lambda r: (-(r.gap or 0), r.name))[:GAP_DISTRICTS]

    def markdown(self) -> str:
        return render_markdown(self)

    def html(self) -> str:
        """A standalone printable HTML document (its own styles, no script, nothing from a network)."""
        return render_to_string("reports/sitrep_standalone.html", {"sitrep": self})


# What a hub's "points and camps served" counts: not the hubs a warehouse supplies.
SERVED_KINDS = (SiteKind.DISTRIBUTION_POINT, SiteKind.CAMP)


def _hubs(
    distributions: selectors.Distributions, on: dt.date | None
) -> tuple[list[HubLine], list[selectors.ItemFigure]]:
    """Every open hub and warehouse with, item by item, what it and its points handed over in the
    period and what it holds on the day `on` (None: today), the trucks on their way to it that day,
    and the points and camps it supplies; and the items held, as the on-hand table's columns."""
    served = Q(served_sites__is_active=True, served_sites__kind__in=SERVED_KINDS)
    hubs = list(
        Site.objects.filter(kind__in=[SiteKind.HUB, SiteKind.WAREHOUSE], is_active=True)
        .select_related("admin_area")
        .annotate(n_served=Count("served_sites", filter=served))
        .order_by("name")
    )
    hub_ids = {hub.pk for hub in hubs}
    areas = cluster.Areas()
    distributed = {int(row.key): row.quantities for row in distributions.by_hub}
    on_hand: dict[int, dict[int, int]] = defaultdict(dict)
    for (site_id, item_id), total in stock.on_hand_on(day=on, site_ids=hub_ids).items():
        on_hand[site_id][item_id] = total
    if on is None:
        waybills_in = dict(
            Waybill.objects.filter(status=WaybillStatus.IN_TRANSIT, to_site__in=hubs)
            .order_by()
            .values_list("to_site_id")
            .annotate(n=Count("pk"))
        )
    else:
        # the trucks on the road at the end of the period's last day, as the dashboard counts them
        waybills_in = Counter(w.to_site_id for w in stock.in_transit_on(day=on, site_ids=hub_ids))
    held = selectors.item_figures({item_id for quantities in on_hand.values() for item_id in quantities})
    lines = [
        HubLine(
            site=hub,
            district=selectors.district_of(hub, areas)[1],
            served_sites=hub.n_served,
            distributed=dict(distributed.get(hub.pk, {})),
            on_hand=on_hand.get(hub.pk, {}),
            waybills_in=int(waybills_in.get(hub.pk, 0)),
        )
        for hub in hubs
    ]
    return lines, held


def _contacts(organisation: selectors.OperatingOrganisation) -> list[Contact]:
    """The operating organisation's coordinators and hub managers who have an e-mail address."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, profile__role__in=[Role.COORDINATOR, Role.HUB_MANAGER])
        .exclude(email="")
        .select_related("profile")
        .prefetch_related("profile__hubs")
        .order_by("profile__role", "last_name", "username")
    )
    if organisation.pk is not None:
        users = users.filter(
            Q(profile__organisation__isnull=True) | Q(profile__organisation_id=organisation.pk)
        )
    contacts = []
    for user in users:
        profile = user.profile
        hubs = ", ".join(h.name for h in profile.hubs.all())
        contacts.append(
            Contact(
                name=user.get_full_name() or user.get_username(),
                role=Role(profile.role).label,
                where=hubs or "the whole operation",
                email=user.email,
            )
        )
    return contacts


def build_sitrep(
    *, period: Period, today: dt.date, activity: str | None = None, with_stock: bool = True
) -> Sitrep:
    """The sitrep of a period, from the ledger and the 4W rows; the same for the page and the CLI.
    Without `with_stock` (a reader who may not see the stock of every site, as a partner reporter)
    nothing of the stock ledger is read (what was distributed, the hubs' stock and waybills), and
    the report says it is left out."""
    distributions = (
        selectors.distributions(period=period) if with_stock else selectors.Distributions([], [], [], [], [])
    )
    organisation = selectors.operating_organisation()
    on = selectors.past_day(period, today)
    hubs, held = _hubs(distributions, on) if with_stock else ([], [])
    return Sitrep(
        organisation=organisation,
        period=period,
        written_on=today,
        distributions=distributions,
        cluster=selectors.cluster_picture(period=period, activity=activity),
        hubs=hubs,
        contacts=_contacts(organisation),
        hub_items_on_hand=held,
        stock_shown=with_stock,
        hubs_on=on,
        scenario=_shown_scenario(with_stock),
    )


def _shown_scenario(with_stock: bool) -> ScenarioData:
    """The scenario's illustrative parts among those the report shows."""
    found = scenario_data()
    return ScenarioData(
        stock_history=found.stock_history and with_stock, cluster_reports=found.cluster_reports
    )


# --- Markdown -------------------------------------------------------------------------------------


_MARKDOWN_SIGNS = re.compile(r"([\\`*_\[\]<>|#!])")


def md(text: str) -> str:
    """A text as Markdown shows it, and nothing more: on one line, with the signs Markdown or HTML
    would read (links, tags, emphasis, table cells, headings) escaped. Names come from partners'
    files and forms: `<script>` or `[x](javascript:…)` in one must stay text."""
    return _MARKDOWN_SIGNS.sub(r"\\\1", " ".join(text.split()))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(md(cell) for cell in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in rows]
    return lines


def render_markdown(sitrep: Sitrep) -> str:
    out = [
        f"# {md(sitrep.title)}",
        "",
        f"{md(sitrep.organisation.name)}. Period: {sitrep.period.describe()}. "
        f"Written on {sitrep.written_on.day} {sitrep.written_on:%B %Y}.",  # as the page writes it
        "",
    ]
    if sitrep.illustrative_notice:
        out += [f"> {md(sitrep.illustrative_notice)}", ""]
    out += [
        "## Distributed",
        "",
        md(sitrep.distributed_sentence if sitrep.stock_shown else sitrep.distributed_left_out),
    ]
    for sentence in (sitrep.other_items_sentence, sitrep.partners_sentence):
        if sentence:
            out += ["", md(sentence)]
    if sitrep.distributions.items:
        out.append("")
        out += _table(
            ["item", "to households", "to partners", "total"],
            [
                [f.name, f"{f.to_households:,}", f"{f.to_partners:,}", f"{f.total:,}"]
                for f in sitrep.distributions.items
            ],
        )
    out += ["", "## The cluster", "", md(sitrep.cluster_sentence)]
    if sitrep.cluster.totals:
        out.append("")
        out += _table(
            ["activity", "reached", "households reached", "handed to partners", "as reported"],
            [
                [
                    t.name,
                    unit_phrase(t.quantity_reached, t.unit),
                    f"{t.households_reached:,}",
                    f"{t.quantity_to_partners:,}",
                    f"{t.quantity_as_reported:,}",
                ]
                for t in sitrep.cluster.totals
            ],
        )
    out += ["", "## Hubs", ""]
    if not sitrep.stock_shown:
        out.append(HUBS_LEFT_OUT)
    elif sitrep.hubs:
        out += _table(
            ["hub", "district", "points and camps served", sitrep.waybills_heading],
            [[h.site.name, h.district, str(h.served_sites), str(h.waybills_in)] for h in sitrep.hubs],
        )
        for caption, rows, none in (
            (sitrep.hubs_distributed_caption, sitrep.hub_distributed_rows, "nothing was handed over"),
            (sitrep.hubs_on_hand_caption, sitrep.hub_on_hand_rows, "no hub holds stock"),
        ):
            if not rows:
                out += ["", md(f"{caption}: {none}.")]
                continue
            out += ["", md(f"{caption}:"), ""]
            out += _table(
                ["item", *(h.site.name for h in sitrep.hubs)],
                [[f.name, *(f"{q:,}" for q in cells)] for f, cells in rows],
            )
    else:
        out.append("No hub is recorded.")
    out += ["", "## Gaps", ""]
    activity = sitrep.cluster.activity
    if activity is None or not sitrep.gap_rows:
        out.append(NO_GAPS)
    else:
        illustrative = (
            " (needs illustrative)" if sitrep.cluster.gaps and sitrep.cluster.gaps.illustrative else ""
        )
        widest = (
            f"Households still to reach, {sitrep.activity_words}{sitrep.cluster.for_the_months}, "
            f"widest gaps first{illustrative}:"
        )
        out.append(md(widest))
        out.append("")
        out += _table(
            ["district", "in need", "reached", "coverage", "gap"],
            [
                [r.name, f"{r.in_need or 0:,}", f"{r.reached:,}", r.coverage_percent, f"{r.gap or 0:,}"]
                for r in sitrep.gap_rows
            ],
        )
        if sitrep.cluster.gaps and sitrep.cluster.gaps.no_partner:
            names = [info.name for info, _ in sitrep.cluster.gaps.no_partner]
            out += ["", md(f"No partner reports this activity in: {series(names)}.")]
    out += ["", "## Contacts", ""]
    if sitrep.contacts:
        out += ["- " + md(f"{c.name}, {c.role.lower()} ({c.where}): {c.email}") for c in sitrep.contacts]
    else:
        out.append(NO_CONTACTS)
    out += ["", md(sitrep.closing_note), ""]
    return "\n".join(out)
