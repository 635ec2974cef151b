"""Vega-Lite charts that Jupyter renders inline, with no plotting library.

A `VegaLite` object has `_repr_mimebundle_`, so ending a cell with it (or with a run, a
profile...) shows the chart. JupyterLab renders `application/vnd.vegalite.v5+json` itself;
other front ends show the `text/plain` summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

VEGA_LITE_MIME = "application/vnd.vegalite.v5+json"
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v5.json"


class VegaLite:
    """A Vega-Lite v5 spec plus a text fallback."""

    def __init__(self, spec: dict[str, Any], text: str) -> None:
        self.spec = {"$schema": SCHEMA_URL, **spec}
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {VEGA_LITE_MIME: self.spec, "text/plain": self.text}

    def to_dict(self) -> dict[str, Any]:
        return self.spec

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.spec, indent=indent)

    def __repr__(self) -> str:
        return self.text


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def metrics_chart(series: Iterable[Mapping[str, Any]], *, title: str | None = None, columns: int = 3) -> VegaLite:
    """Line charts of metric series, one panel per key.

    `series`: `{key, points: [{step, value, min?, max?}], downsampled?, total?}` per key, as
    `run.metrics` gives them (snake_case or camelCase both work)."""
    values: list[dict[str, Any]] = []
    lines: list[str] = []
    for s in series:
        key = s["key"]
        points = list(s.get("points") or [])
        for p in points:
            values.append({"key": key, "step": p["step"], "value": p["value"]})
        last = points[-1]["value"] if points else None
        best = min((p["value"] for p in points), default=None)
        lines.append(f"  {key:<24} points={s.get('total', len(points))!s:<6} last={_fmt(last):<10} min={_fmt(best)}")
    header = title or "metrics"
    text = "\n".join([f"{header} ({len(lines)} series)", *lines]) if lines else f"{header}: no points yet"
    layer = {
        "mark": {"type": "line", "point": len(values) <= 60, "tooltip": True},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "step"},
            "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}},
            "color": {"field": "key", "type": "nominal", "legend": None},
        },
    }
    spec: dict[str, Any] = {
        "data": {"values": values},
        "facet": {"field": "key", "type": "nominal", "title": None},
        "columns": columns,
        "spec": {"width": 220, "height": 140, **layer},
        "resolve": {"scale": {"y": "independent", "x": "independent"}},
    }
    if title:
        spec["title"] = title
    return VegaLite(spec, text)


def profile_chart(profile: Mapping[str, Any], *, title: str | None = None, columns: int = 4) -> VegaLite:
    """Histograms of numeric columns and top-value bars of categorical ones, from a dataset profile."""
    numeric: list[dict[str, Any]] = []
    categorical: list[dict[str, Any]] = []
    lines: list[str] = []
    for col in profile.get("columns", []):
        name = col["name"]
        nulls = f"{col.get('nullFraction', 0) * 100:.1f}% null"
        num = col.get("numeric")
        cat = col.get("categorical")
        if num and num.get("histogram", {}).get("counts"):
            edges = num["histogram"]["edges"]
            for i, count in enumerate(num["histogram"]["counts"]):
                numeric.append({"column": name, "start": edges[i], "end": edges[i + 1], "count": count})
            lines.append(f"  {name:<28} {col['type']:<9} {nulls:<11} min={_fmt(num.get('min'))} mean={_fmt(num.get('mean'))} max={_fmt(num.get('max'))}")
        elif cat:
            for entry in cat.get("top", [])[:10]:
                categorical.append({"column": name, "value": entry["value"], "count": entry["count"]})
            top = ", ".join(f"{e['value']} ({e['count']})" for e in cat.get("top", [])[:3])
            lines.append(f"  {name:<28} {col['type']:<9} {nulls:<11} distinct={col.get('distinct')} top: {top}")
        else:
            lines.append(f"  {name:<28} {col['type']:<9} {nulls:<11} distinct={col.get('distinct')}")
    charts: list[dict[str, Any]] = []
    if numeric:
        charts.append({
            "data": {"values": numeric},
            "facet": {"field": "column", "type": "nominal", "title": None},
            "columns": columns,
            "spec": {
                "width": 160,
                "height": 100,
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {"field": "start", "type": "quantitative", "bin": {"binned": True}, "title": None},
                    "x2": {"field": "end"},
                    "y": {"field": "count", "type": "quantitative", "title": None},
                },
            },
            "resolve": {"scale": {"x": "independent", "y": "independent"}},
        })
    if categorical:
        charts.append({
            "data": {"values": categorical},
            "facet": {"field": "column", "type": "nominal", "title": None},
            "columns": columns,
            "spec": {
                "width": 160,
                "height": 100,
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "y": {"field": "value", "type": "nominal", "sort": "-x", "title": None},
                    "x": {"field": "count", "type": "quantitative", "title": None},
                },
            },
            "resolve": {"scale": {"y": "independent", "x": "independent"}},
        })
    rows = profile.get("rowCount")
    header = f"{title or 'profile'}: {rows} rows, {len(lines)} columns"
    spec: dict[str, Any] = {"vconcat": charts} if charts else {"data": {"values": []}, "mark": "text"}
    if title:
        spec["title"] = title
    return VegaLite(spec, "\n".join([header, *lines]))


def drift_chart(results: Iterable[Mapping[str, Any]], *, potential: float = 0.5, detected: float = 0.7, title: str | None = None) -> VegaLite:
    """Per-feature drift score over a monitor's windows, with the potential/detected thresholds as rules.

    `results`: monitor results oldest first, `{windowKey, windowEnd?, evaluatedAt, status, features: [{name, score, status}], prediction?}`."""
    values: list[dict[str, Any]] = []
    results = list(results)
    for i, r in enumerate(results):
        when = r.get("windowEnd") or r.get("evaluatedAt")
        window = {"window": i + 1, "windowKey": r.get("windowKey"), "at": str(when) if when else None}
        for f in r.get("features") or []:
            if f.get("score") is not None:
                values.append({**window, "feature": f["name"], "score": f["score"], "status": f.get("status")})
        pred = r.get("prediction")
        if pred and pred.get("score") is not None:
            values.append({**window, "feature": "(prediction)", "score": pred["score"], "status": pred.get("status")})
    lines = [f"{title or 'drift'}: {len(results)} windows (potential ≥ {potential}, detected ≥ {detected})"]
    if results:
        last = results[-1]
        lines.append(f"  latest window {last.get('windowKey')}: {last.get('status')}, drift score {_fmt(last.get('driftScore'))}")
        for f in last.get("features") or []:
            lines.append(f"    {f['name']:<28} {str(f.get('status')):<16} score={_fmt(f.get('score'))}")
    spec: dict[str, Any] = {
        "width": 480,
        "height": 220,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "line", "point": True, "tooltip": True},
                "encoding": {
                    "x": {"field": "window", "type": "ordinal", "title": "window"},
                    "y": {"field": "score", "type": "quantitative", "title": "drift score", "scale": {"domain": [0, 1]}},
                    "color": {"field": "feature", "type": "nominal"},
                },
            },
            {
                "data": {"values": [{"threshold": potential, "level": "potential drift"}, {"threshold": detected, "level": "drift detected"}]},
                "mark": {"type": "rule", "strokeDash": [4, 4]},
                "encoding": {"y": {"field": "threshold", "type": "quantitative"}, "color": {"value": "#b45309"}, "tooltip": [{"field": "level"}, {"field": "threshold"}]},
            },
        ],
    }
    if title:
        spec["title"] = title
    return VegaLite(spec, "\n".join(lines))
