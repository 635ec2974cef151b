"""Upload, ingest, preview and profile penguins.json on a real server."""

from __future__ import annotations

import pytest

import ouro as sdk
from conftest import assert_vegalite
from ouro.charts import VEGA_LITE_MIME


def test_upload_ingests_penguins_as_a_version_with_schema_and_preview(ouro, penguins):
    project, version = penguins
    assert version.version == 1 and version.row_count == 344
    assert version.project_id == project.id
    columns = {c.name: c.type for c in version.schema}
    assert columns["Beak Length (mm)"] == "Float64" and columns["Species"] == "String"

    page = version.head(5, offset=2)
    assert len(page.rows) == 5 and page.offset == 2 and page.total_rows == 344
    assert page.columns == [c.name for c in version.schema]
    assert page.rows[0]["Species"] == "Adelie"
    assert "<table>" in page._repr_html_()

    rows = list(version.rows(page=100))
    assert len(rows) == 344 and {r["Species"] for r in rows} == {"Adelie", "Chinstrap", "Gentoo"}
    frame = version.to_pandas()
    assert frame.shape == (344, len(version.schema)) and list(frame.columns) == page.columns

    dataset = ouro.datasets.get(version.dataset_id)
    assert dataset.name == "penguins" and dataset.latest_version.id == version.id
    assert dataset.latest_version.head(1).rows[0]["Species"] == "Adelie"  # nested objects work too
    assert [d.id for d in ouro.datasets.list(project.id)] == [dataset.id]


def test_same_content_again_is_the_same_version_and_ingest_by_server_path_works(ouro, penguins, data_dir):
    project, version = penguins
    again = ouro.datasets.upload(data_dir / "penguins.json", "penguins", project=project.id).wait(timeout=120)
    assert again.result["created"] is False and again.result["versionId"] == version.id
    by_path = ouro.datasets.ingest("weather", path=str(data_dir / "seattle-weather.csv"), project=project.id)
    weather = ouro.datasets.version_of(by_path, timeout=120)
    assert weather.row_count == 1461 and "precipitation" in {c.name for c in weather.schema}


def test_profile_has_histograms_and_renders_as_vega_lite(ouro, penguins):
    _, version = penguins
    profile = version.get_profile(timeout=120)
    assert profile["rowCount"] == 344
    beak = profile.column("Beak Length (mm)")
    assert beak["nulls"] == 2 and sum(beak["numeric"]["histogram"]["counts"]) == 342
    species = profile.column("Species")
    assert {e["value"] for e in species["categorical"]["top"]} == {"Adelie", "Chinstrap", "Gentoo"}

    bundle = profile._repr_mimebundle_()
    assert set(bundle) == {VEGA_LITE_MIME, "text/plain"}
    spec = bundle[VEGA_LITE_MIME]
    assert spec["$schema"].endswith("/vega-lite/v5.json")
    assert_vegalite(spec)
    numeric, categorical = spec["vconcat"]
    assert numeric["spec"]["mark"]["type"] == "bar" and numeric["spec"]["encoding"]["x"]["bin"] == {"binned": True}
    bins = [v for v in numeric["data"]["values"] if v["column"] == "Beak Length (mm)"]
    assert len(bins) == len(beak["numeric"]["histogram"]["counts"]) and sum(b["count"] for b in bins) == 342
    assert {v["value"] for v in categorical["data"]["values"] if v["column"] == "Species"} == {"Adelie", "Chinstrap", "Gentoo"}
    assert "344 rows" in bundle["text/plain"] and "Beak Length (mm)" in bundle["text/plain"]
    # Asking again reads the stored profile (no second job).
    jobs_before = len(ouro.jobs.list(version.project_id, kind=None))
    assert version.get_profile()["profiledAt"] == profile["profiledAt"]
    assert len(ouro.jobs.list(version.project_id)) == jobs_before


def test_bad_uploads_are_refused_cleanly(ouro, project, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(sdk.BadUserInputError, match="empty"):
        ouro.datasets.upload(empty, "empty")
    with pytest.raises(FileNotFoundError):
        ouro.datasets.upload(tmp_path / "missing.csv", "missing")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{ this is not json")
    job = ouro.datasets.upload(garbage, "garbage")
    with pytest.raises(sdk.OuroJobError) as info:
        job.wait(timeout=120)
    assert info.value.job.status.value == "failed" and info.value.job.error
    # Nothing half-written: no dataset version came out of the failed ingestion.
    assert all(d.latest_version is None for d in ouro.datasets.list())
