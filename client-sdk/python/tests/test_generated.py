"""The generated types and the client's operations against the current schema.graphql."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graphql import build_schema, parse, validate

from ouro import _ops as ops

PACKAGE = Path(__file__).resolve().parents[1]
SCHEMA = PACKAGE.parent.parent / "schema.graphql"


def load_generator():
    spec = importlib.util.spec_from_file_location("ouro_generate", PACKAGE / "tools" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_generated_types_are_up_to_date():
    expected = load_generator().generate(SCHEMA.read_text(encoding="utf-8"))
    current = (PACKAGE / "src" / "ouro" / "_generated.py").read_text(encoding="utf-8")
    assert current == expected, "src/ouro/_generated.py is stale: run .venv/bin/python client-sdk/python/tools/generate.py"


def operations() -> dict[str, str]:
    return {name: value for name, value in vars(ops).items() if name.isupper() and isinstance(value, str) and value.split(" ", 1)[0] in ("query", "mutation", "subscription")}


def test_every_operation_is_valid_against_the_schema():
    schema = build_schema(SCHEMA.read_text(encoding="utf-8"))
    found = operations()
    assert len(found) > 40
    problems = {name: [e.message for e in validate(schema, parse(doc))] for name, doc in found.items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_a_broken_operation_is_caught():
    # The check above can fail: an operation asking for a field the schema lacks is reported.
    schema = build_schema(SCHEMA.read_text(encoding="utf-8"))
    errors = validate(schema, parse("query { viewer { id noSuchField } }"))
    assert errors and "noSuchField" in errors[0].message


def test_generated_models_use_snake_case_and_server_defaults():
    from ouro import types as g

    search = g.SearchInput(space=[g.DimensionInput(name="learningRate", min=1e-4, max=0.1, log=True)])
    wire = search.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert wire == {"maxConcurrent": 2, "maximize": False, "medianStopping": True, "metric": "val_loss", "space": [{"name": "learningRate", "min": 1e-4, "max": 0.1, "log": True}], "strategy": "random", "trials": 10}
    job = g.Job.model_validate({"attempt": 1, "createdAt": "2026-01-02T03:04:05Z", "cursor": "c", "id": "j", "kind": "k", "maxAttempts": 3, "progress": 0.5, "projectId": "p", "status": "running", "updatedAt": "2026-01-02T03:04:05Z"})
    assert job.max_attempts == 3 and job.status == g.JobStatus.running and job.created_at.year == 2026


def test_the_package_type_checks(tmp_path):
    # The client is typed for its users: mypy (with pydantic's plugin, see pyproject.toml) finds nothing.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "mypy", "src/ouro", "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=PACKAGE, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
