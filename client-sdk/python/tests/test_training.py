"""A recipe, a tiny training job waited for with a progress bar, the registry, and a small search."""

from __future__ import annotations

import pytest

import ouro as sdk



def test_recipe_fits_and_transforms_a_row(ouro, fitted):
    _, _, recipe = fitted
    assert recipe.fitted is not None and len(recipe.steps) == 3
    row = recipe.transform_row({"Species": "Adelie", "Island": "Biscoe", "Beak Length (mm)": None, "Beak Depth (mm)": 18.0, "Flipper Length (mm)": 190.0, "Body Mass (g)": 3700.0, "Sex": "MALE"})
    assert "Sex" not in row and row["Beak Length (mm)"] is not None
    assert any(k.startswith("Island") and k != "Island" for k in row)


def test_training_job_waits_with_a_progress_bar_and_registers_a_model(ouro, fitted, capfd):
    project, version, recipe = fitted
    job = ouro.train_model(version, "Species", "multiclass", recipe=recipe, model={"kind": "logistic", "epochs": 8}, run_name="tiny")
    done = job.wait(timeout=300, progress=True)
    assert done.status.value == "succeeded"
    assert done.result["metrics"]["accuracy"] > 0.8
    bar = capfd.readouterr().err
    assert done.kind in bar and "100%" in bar and "succeeded" in bar  # tqdm's line on stderr

    run = ouro.runs.get(done.result["runId"])
    assert run.status.value == "finished" and run.name == "tiny"
    assert {"loss", "val_loss"} <= {s.key for s in run.metrics}
    assert sdk.VegaLite  # run curves render like any run's
    assert run._repr_mimebundle_()["application/vnd.vegalite.v5+json"]["data"]["values"]

    v1 = ouro.models.register(run, "penguin-species", description="logistic on penguins")
    assert v1.version == 1 and v1.signature["target"] == "Species" and v1.recipe_id == recipe.id
    v1.set_alias("production")
    model = ouro.models.get(v1.model_id)
    assert model.version_by_alias("production").id == v1.id
    assert "penguin-species" in [m.name for m in ouro.models.list(project.id)]
    lineage = ouro.models.lineage(v1)
    assert {n.kind for n in lineage.nodes} >= {"datasetVersion", "recipe", "run", "modelVersion"}

    evaluation = ouro.training.evaluate(version, model_version=v1).wait(timeout=300)
    assert evaluation.result["metrics"]["accuracy"] > 0.8


def test_bad_training_input_is_refused_before_a_job_starts(ouro, fitted):
    project, version, recipe = fitted
    before = len(ouro.jobs.list(project.id))
    with pytest.raises(sdk.BadUserInputError, match="Nope"):
        ouro.train_model(version, "Nope", "multiclass", recipe=recipe)
    with pytest.raises(ValueError):
        ouro.train_model(version, "Species", "clustering")  # not a task: refused by the typed input
    assert len(ouro.jobs.list(project.id)) == before


def test_a_small_hyperparameter_search(ouro, fitted):
    project, version, recipe = fitted
    job = ouro.training.search(
        version, "Species", "multiclass",
        space=[{"name": "learningRate", "values": [0.05, 0.1]}],
        strategy="grid", metric="val_loss", max_concurrent=1, median_stopping=False,
        model={"kind": "logistic", "epochs": 4}, recipe=recipe,
    )
    done = job.wait(timeout=600)
    assert done.result["bestRunId"] and len(done.result["trials"]) == 2
    children = ouro.runs.get(done.result["bestRunId"])
    assert children.parent_run_id == done.result["parentRunId"]
    # The trials are listed by their search run; top-level runs leave them out.
    trials = ouro.runs.list(project.id, parent=done.result["parentRunId"])
    assert sorted(t.id for t in trials) == sorted(t["runId"] for t in done.result["trials"])
    top = ouro.runs.list(project.id, top_level=True)
    assert done.result["parentRunId"] in [r.id for r in top] and all(r.parent_run_id is None for r in top)
