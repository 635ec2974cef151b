"""Fixtures for tests against a real, running Ouro server (with a worker).

`npm test` runs them through test/python-client.e2e.test.ts, which starts a test Ouro on a
database of its own and passes OURO_URL and OURO_TOKEN (an admin token). To run them by hand,
point both at a server started with OURO_INGEST_ROOTS including node_modules/vega-datasets/data.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ouro import Ouro

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def server() -> tuple[str, str]:
    url, token = os.environ.get("OURO_URL"), os.environ.get("OURO_TOKEN")
    if not url or not token:
        pytest.fail("OURO_URL and OURO_TOKEN must point at a running Ouro (npm test starts one: test/python-client.e2e.test.ts)", pytrace=False)
    return url, token


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("OURO_TEST_DATA") or REPO / "node_modules" / "vega-datasets" / "data")
    assert (path / "penguins.json").is_file(), f"vega-datasets not found at {path} (npm ci installs it)"
    return path


@pytest.fixture(scope="session")
def ouro(server: tuple[str, str]) -> Ouro:
    client = Ouro(server[0], server[1])
    yield client
    client.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def project(ouro: Ouro):
    """A new project per test, also the client's default project during the test."""
    created = ouro.projects.create(unique("py"))
    ouro.project = created.id
    yield created
    ouro.project = None


@pytest.fixture(scope="session")
def penguins(ouro: Ouro, data_dir: Path):
    """One project with penguins.json uploaded and ingested (version 1), shared by the slow tests."""
    proj = ouro.projects.create(unique("penguins"))
    job = ouro.datasets.upload(data_dir / "penguins.json", "penguins", project=proj.id)
    version = ouro.datasets.version_of(job, timeout=120)
    return proj, version


PENGUIN_STEPS = [
    {"op": "drop", "columns": ["Sex"]},
    {"op": "fillNull", "columns": ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], "strategy": "mean"},
    {"op": "oneHot", "column": "Island"},
]


@pytest.fixture(scope="session")
def fitted(ouro: Ouro, penguins):
    """The penguins project and version, with a recipe fitted on it: (project, version, recipe)."""
    project, version = penguins
    recipe = ouro.recipes.create("penguin inputs", PENGUIN_STEPS, project=project.id)
    recipe.fit(version).wait(timeout=120)
    return project, version, ouro.recipes.get(recipe.id)


_VEGALITE_VALIDATOR = None


def assert_vegalite(spec: dict) -> None:
    """Fails unless `spec` is valid against the official Vega-Lite v5 JSON schema (shipped by altair 5)."""
    global _VEGALITE_VALIDATOR
    if _VEGALITE_VALIDATOR is None:
        import json

        import altair
        import jsonschema

        schema_file = Path(altair.__file__).parent / "vegalite" / "v5" / "schema" / "vega-lite-schema.json"
        schema = json.loads(schema_file.read_text(encoding="utf-8"))
        _VEGALITE_VALIDATOR = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(_VEGALITE_VALIDATOR.iter_errors(spec), key=lambda e: len(list(e.path)))
    assert not errors, f"invalid Vega-Lite: {errors[0].message} at {list(errors[0].path)}"


class TcpProxy:
    """A TCP proxy in front of the server whose connections a test can cut, as a network failure would."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, scheme: str = "ws") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/graphql"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.connections += [client, upstream]
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def kill_all(self) -> int:
        """Resets every open connection (no WebSocket close handshake); returns how many pairs there were."""
        with self._lock:
            conns, self.connections = self.connections, []
        for s in conns:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # shutdown wakes the pipe thread blocked in recv (close alone would wait for it).
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        return len(conns) // 2

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.kill_all()


@pytest.fixture()
def proxy(server: tuple[str, str]):
    p = TcpProxy(server[0])
    yield p
    p.close()
