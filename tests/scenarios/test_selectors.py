"""The notice that marks illustrative figures speaks of the parts loaded, in agreement with them."""

from __future__ import annotations

import pytest

from reliefops.scenarios.selectors import ScenarioData


@pytest.mark.parametrize(
    ("stock_history", "cluster_reports", "said"),
    [
        pytest.param(True, False, "losses) is seeded so as", id="history-is"),
        pytest.param(False, True, "Its partners' 4W rows are seeded so as", id="rows-are"),
        pytest.param(True, True, "losses) and partners' 4W rows are seeded so as", id="both-are"),
    ],
)
def test_the_notice_agrees_with_the_parts_it_names(stock_history, cluster_reports, said):
    notice = ScenarioData(stock_history=stock_history, cluster_reports=cluster_reports).notice
    assert said in notice
    assert notice.startswith("Illustrative data: these figures are the ")


def test_a_real_operations_data_carries_no_notice():
    assert ScenarioData().notice == ""
