"""Pages of households and distributions, under /households/, by what they are for: the registry
(`registry`), registering and correcting a household (`registration`), registration files
(`imports`), the review of likely duplicates (`duplicates`), distribution rounds with their lists and
cards (`rounds`), and the handover at a point (`handovers`); `section` holds what they share.

Counts are for everyone; the registry, a household's page and the duplicate queue are for roles
that may see personal data, and every page that shows it records an audit event; distribution
lists and the handover page show names and card tokens of the user's own points only. Each view
checks access through core.access, calls one service or selector, and renders; a form that a
service refuses is shown again with the problems beside the fields, and a success redirects.
"""

# Page sizes of a round's printed cards and of its distribution list on screen. The round pages read
# them here at each request, so that a test can narrow a list to show its pagination.
CARDS_PER_PAGE = 48
LIST_PER_PAGE = 100
