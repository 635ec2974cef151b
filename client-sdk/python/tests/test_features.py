"""A feature set over airports.csv: materialized offline and online, read back by entity key."""

from __future__ import annotations

import pytest

import ouro as sdk


def test_feature_set_materializes_and_serves_online_values(ouro, project, data_dir):
    airports = ouro.datasets.version_of(ouro.datasets.upload(data_dir / "airports.csv"), timeout=120)
    assert airports.row_count == 3376
    dataset = ouro.datasets.get(airports.dataset_id)
    assert dataset.name == "airports"

    fs = ouro.features.create("airport_geo", dataset, ["iata"], features=["latitude", "longitude", "state"])
    assert fs.entity_keys == ["iata"] and fs.materialized_at is None
    done = fs.materialize().wait(timeout=120)
    assert done.result["rows"] == 3376

    got = fs.online(["00M", "LAX", "no-such-airport"])
    assert [o.key for o in got] == ["00M", "LAX", "no-such-airport"]
    assert got[0].values == {"latitude": pytest.approx(31.95376472), "longitude": pytest.approx(-89.23450472), "state": "MS"}
    assert got[1].values["state"] == "CA" and got[2].values is None

    again = ouro.features.get(fs.id)
    assert again.materialized_at is not None and again.offline_dataset_id
    offline = ouro.datasets.version(again.materialized_version_id)
    assert offline.row_count == 3376 and {c.name for c in offline.schema} >= {"iata", "latitude", "longitude", "state"}
    assert [f.name for f in ouro.features.list()] == ["airport_geo"]

    with pytest.raises(sdk.BadUserInputError):
        ouro.features.create("Bad Name", dataset, ["iata"])
