"""Event-fed feature sets (seattle-weather as a stream of events) and a labelling task over penguins."""

from __future__ import annotations

import csv

import pytest

import ouro as sdk


def test_events_feed_window_features_and_resends_count_once(ouro, project, data_dir):
    with (data_dir / "seattle-weather.csv").open() as fh:
        rows = list(csv.DictReader(fh))[-30:]  # the last 30 days, oldest first (a batch spans at most 32 days)
    events = [{"id": f"w{i}", "weather": r["weather"], "wind": float(r["wind"]), "ts": f"{r['date']}T12:00:00Z"} for i, r in enumerate(rows)]
    source = ouro.features.create_from_events(
        "weather_events", ["weather"], {"weather": "string", "wind": "float"},
        [{"name": "n_30d", "function": "count", "window": "30d"}, {"name": "wind_30d", "function": "mean", "field": "wind", "window": "30d"}],
        event_time_column="ts", event_id_column="id", allowed_lateness_seconds=86_400 * 30,
    )
    assert [a.name for a in source.aggregations] == ["n_30d", "wind_30d"] and source.feature_set.features == ["n_30d", "wind_30d"]

    first = ouro.features.ingest_events(source.feature_set_id, events)
    assert first.accepted == 30 and first.duplicates == 0 and first.rejected == []
    again = ouro.features.ingest_events(source.feature_set_id, events[-10:])  # a resend, within the lateness
    assert again.accepted == 0 and again.duplicates == 10
    bad = ouro.features.ingest_events(source.feature_set_id, [{"id": "x1", "weather": "sun", "ts": events[-1]["ts"]}])  # no wind
    assert bad.accepted == 0 and bad.rejected[0].index == 0 and "wind" in bad.rejected[0].reason

    top = max({r["weather"] for r in rows}, key=lambda w: sum(r["weather"] == w for r in rows))
    online = ouro.features.online(source.feature_set_id, [top, "hail"])
    assert online[0].values["n_30d"] >= 1 and online[0].values["wind_30d"] > 0
    assert online[1].values is None
    assert ouro.features.event_source(source.feature_set_id).watermark is not None


def test_labelling_task_labels_progress_and_export(ouro, penguins):
    project, version = penguins
    task = ouro.labelling.create_task("species-check", source_version=version, size=5, classes=["Adelie", "Chinstrap", "Gentoo"], project=project.id)
    task = ouro.labelling.wait_ready(task, timeout=120)
    assert task.status == "ready" and task.size == 5

    items = ouro.labelling.next_items(task.id, limit=5)
    assert len(items) == 5 and all("Species" in i.values for i in items)
    with ouro.labelling.progress(task.id) as progress:
        start = progress.next(timeout=30)
        assert start.labels == 0 and start.total_items == 5
        for item in items[:4]:
            ouro.labelling.submit(item, item.values["Species"])
        ouro.labelling.skip(items[4])
        seen = start
        while seen.labels < 4 or seen.skips < 1:
            seen = progress.next(timeout=30)
    assert seen.labelled_items == 4 and seen.fraction == pytest.approx(0.8)

    with pytest.raises(sdk.BadUserInputError):
        ouro.labelling.submit(items[0], "Emperor")  # not one of the classes

    exported = ouro.datasets.version_of(ouro.labelling.export(task.id, dataset="species-labels", labelled_only=True), timeout=120)
    assert exported.row_count == 4 and "label" in {c.name for c in exported.schema}
    assert {r["label"] for r in exported.rows()} <= {"Adelie", "Chinstrap", "Gentoo"}
    assert [t.id for t in ouro.labelling.list(project.id)] == [task.id]
