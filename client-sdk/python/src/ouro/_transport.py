"""GraphQL over HTTP POST (JSON) and the REST upload, with retries for what is safe to repeat."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from .errors import OuroNetworkError, api_error, code_for_status, error_from_graphql, is_retryable

USER_AGENT = "ouro-python/0.1.0"


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Seconds before retry `attempt` (0-based): doubling, capped, ±50% jitter so clients do not retry in lockstep."""
    base = min(maximum, initial * 2 ** min(attempt, 30))
    return base * (0.5 + random.random() * 0.5)


def normalize_url(url: str) -> tuple[str, str]:
    """(GraphQL endpoint, server base URL). `http://host:4000` and `http://host:4000/graphql` both work."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Ouro URL must be http(s)://host[:port][/graphql], got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path = f"{path}/graphql"
    base_path = path[: -len("/graphql")]
    endpoint = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    base = urlunsplit((parts.scheme, parts.netloc, base_path, "", ""))
    return endpoint, base


def ws_url_for(endpoint: str) -> str:
    return "ws" + endpoint[4:] if endpoint.startswith("http") else endpoint


class Transport:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0, max_retries: int = 5, headers: dict[str, str] | None = None, verify: bool | str = True) -> None:
        self.endpoint, self.base_url = normalize_url(url)
        self.token = token
        self.max_retries = max_retries
        self._client = httpx.Client(
            timeout=timeout,
            verify=verify,
            headers={"authorization": f"Bearer {token}", "user-agent": USER_AGENT, **(headers or {})},
        )

    def close(self) -> None:
        self._client.close()

    def request(self, document: str, variables: dict[str, Any] | None = None, *, retry: bool | None = None, max_retries: int | None = None, on_retry: Callable[[BaseException, int], None] | None = None) -> dict[str, Any]:
        """Runs one operation and returns its `data`. Queries retry by default; mutations only when `retry=True`."""
        if retry is None:
            retry = not document.lstrip().startswith("mutation")
        tries = (self.max_retries if max_retries is None else max_retries) if retry else 0
        body = json.dumps({"query": document, "variables": variables or {}}, default=_json_default)
        attempt = 0
        while True:
            try:
                return self._send(body)
            except Exception as err:  # noqa: BLE001 - re-raised unless retryable
                if attempt >= tries or not is_retryable(err):
                    raise
                if on_retry:
                    on_retry(err, attempt + 1)
                time.sleep(backoff_delay(attempt, 0.2, 10.0))
                attempt += 1

    def _send(self, body: str) -> dict[str, Any]:
        try:
            res = self._client.post(
                self.endpoint,
                content=body,
                headers={"content-type": "application/json", "accept": "application/graphql-response+json, application/json"},
            )
        except httpx.TimeoutException as err:
            raise OuroNetworkError(f"could not reach Ouro at {self.endpoint}: timed out") from err
        except httpx.HTTPError as err:
            raise OuroNetworkError(f"could not reach Ouro at {self.endpoint}: {err}") from err
        request_id = res.headers.get("x-request-id")
        try:
            payload = res.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
            ctype = res.headers.get("content-type", "no content type")
            raise OuroNetworkError(
                f"{self.endpoint} answered HTTP {res.status_code} ({ctype}), not a GraphQL response; is it Ouro's /graphql endpoint?",
                status=res.status_code,
                retryable=res.status_code in (502, 503, 504),
            )
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            raise error_from_graphql(errors, status=res.status_code, request_id=request_id)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise OuroNetworkError(f"{self.endpoint} answered HTTP {res.status_code} without data or errors", status=res.status_code, retryable=False)
        return data

    def post_json(self, path: str, body: Any, *, params: dict[str, str] | None = None) -> Any:
        """A REST call under the server's base URL (e.g. /v1/endpoints/{name}/predict); errors typed as for GraphQL."""
        url = f"{self.base_url}{path}"
        try:
            res = self._client.post(url, content=json.dumps(body, default=_json_default), params=params, headers={"content-type": "application/json"})
        except httpx.HTTPError as err:
            raise OuroNetworkError(f"could not reach Ouro at {url}: {err}") from err
        try:
            payload = res.json()
        except ValueError:
            payload = None
        if res.is_success and payload is not None:
            return payload
        if isinstance(payload, dict) and isinstance(payload.get("errors"), list) and payload["errors"]:
            raise error_from_graphql(payload["errors"], status=res.status_code, request_id=res.headers.get("x-request-id"))
        raise OuroNetworkError(f"{url} answered HTTP {res.status_code} without an Ouro answer", status=res.status_code, retryable=res.status_code in (502, 503, 504))

    def upload(self, project_id: str, path: str | os.PathLike[str], *, filename: str | None = None, content_type: str = "application/octet-stream", on_bytes: Callable[[int], None] | None = None, chunk_size: int = 1 << 20) -> dict[str, Any]:
        """Streams a local file to POST /v1/uploads; returns `{uploadId, name, sha256, byteSize}`.

        Not retried: a second try would store the bytes again (under a new upload id)."""
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"no such file: {file}")
        size = file.stat().st_size
        name = filename or file.name

        def chunks() -> Iterator[bytes]:
            with file.open("rb") as fh:
                while True:
                    chunk = fh.read(chunk_size)
                    if not chunk:
                        return
                    if on_bytes:
                        on_bytes(len(chunk))
                    yield chunk

        url = f"{self.base_url}/v1/uploads?projectId={quote(project_id)}&filename={quote(name)}"
        try:
            res = self._client.post(url, content=chunks(), headers={"content-type": content_type, "content-length": str(size)})
        except httpx.HTTPError as err:
            raise OuroNetworkError(f"could not upload to {url.split('?')[0]}: {err}", retryable=False) from err
        try:
            payload = res.json()
        except ValueError:
            payload = None
        if res.status_code == 201 and isinstance(payload, dict) and "uploadId" in payload:
            return payload
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            refusal = payload["error"]
            raise api_error(str(refusal.get("code") or code_for_status(res.status_code)), str(refusal.get("message", "upload refused")), status=res.status_code, request_id=refusal.get("requestId") or res.headers.get("x-request-id"))
        if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
            raise error_from_graphql(payload["errors"], status=res.status_code, request_id=res.headers.get("x-request-id"))
        raise OuroNetworkError(f"{url.split('?')[0]} answered HTTP {res.status_code}, not an upload result; is {self.base_url} an Ouro server?", status=res.status_code, retryable=False)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    raise TypeError(f"cannot send {type(value).__name__} as JSON")
