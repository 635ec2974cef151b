"""The Vega-Lite charts, validated against the official v5 schema (no server needed)."""

from __future__ import annotations

import pytest

from conftest import assert_vegalite
from ouro.charts import VEGA_LITE_MIME, drift_chart, metrics_chart, profile_chart


def test_the_schema_check_can_fail():
    with pytest.raises(AssertionError, match="invalid Vega-Lite"):
        assert_vegalite({"mark": "not-a-mark", "data": {"values": []}})


def test_empty_inputs_still_give_valid_charts_and_text():
    for chart in (metrics_chart([]), profile_chart({"rowCount": 0, "columns": []}), drift_chart([])):
        bundle = chart._repr_mimebundle_()
        assert set(bundle) == {VEGA_LITE_MIME, "text/plain"} and bundle["text/plain"]
        assert_vegalite(bundle[VEGA_LITE_MIME])


def test_drift_chart_draws_scores_per_window_and_the_thresholds():
    results = [
        {"windowKey": "count:1", "evaluatedAt": "2026-01-01T00:00:00Z", "status": "ok", "driftScore": 0.1, "features": [{"name": "wind", "score": 0.1, "status": "ok"}]},
        {"windowKey": "count:2", "evaluatedAt": "2026-01-02T00:00:00Z", "status": "detected", "driftScore": 0.9, "features": [{"name": "wind", "score": 0.9, "status": "detected"}], "prediction": {"score": 0.4, "status": "ok"}},
    ]
    chart = drift_chart(results, potential=0.4, detected=0.8, title="weather")
    assert_vegalite(chart.spec)
    line, rules = chart.spec["layer"]
    assert [(v["window"], v["feature"], v["score"]) for v in line["data"]["values"]] == [(1, "wind", 0.1), (2, "wind", 0.9), (2, "(prediction)", 0.4)]
    assert [r["threshold"] for r in rules["data"]["values"]] == [0.4, 0.8]
    assert "count:2: detected" in chart.text and "wind" in chart.text
