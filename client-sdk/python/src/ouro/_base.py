"""What every API area shares: the transport, subscriptions, the default project, paging."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from . import _ops as ops
from ._live import Extract, LiveStream
from ._transport import Transport

if TYPE_CHECKING:
    from .client import Ouro

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
PAGE_SIZE = 100  # the server's largest page


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def id_of(value: Any, what: str = "id") -> str:
    """An id from an id string or any object with an `id`."""
    if isinstance(value, str) and value:
        return value
    ident = getattr(value, "id", None)
    if isinstance(ident, str) and ident:
        return ident
    raise TypeError(f"expected a {what} (a string or an object with .id), got {type(value).__name__}")


def dump(value: Any) -> Any:
    """Pydantic inputs as the server's JSON (camelCase, no unset optionals); other values unchanged."""
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True, mode="json")
    return value


class Context:
    def __init__(self, client: Ouro, transport: Transport, ws_url: str, token: str, default_project: str | None) -> None:
        self.client = client
        self.transport = transport
        self.ws_url = ws_url
        self.token = token
        self.default_project = default_project
        self._project_ids: dict[str, str] = {}

    def request(self, document: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.transport.request(document, variables, **kw)

    def bind(self, cls: type[M], data: Any) -> M:
        """Parses `data` into `cls` and gives it this client (for methods like job.wait())."""
        obj = cls.model_validate(data)
        self.attach(obj)
        return obj

    def attach(self, value: Any) -> None:
        """Gives this client to a model and to every model nested in it (e.g. a dataset's latest version)."""
        if isinstance(value, BaseModel):
            if hasattr(value, "_client"):
                value._client = self.client  # type: ignore[attr-defined]
            for name in type(value).model_fields:
                self.attach(getattr(value, name))
        elif isinstance(value, list):
            for item in value:
                self.attach(item)

    def project_id(self, project: Any = None) -> str:
        """A project id from an id, a name, a Project, or the client's default project."""
        project = project if project is not None else self.default_project
        if project is None:
            raise ValueError("no project given: pass project=... or create the client with Ouro(project=...) / OURO_PROJECT")
        if not isinstance(project, str):
            return id_of(project, "project")
        if is_uuid(project):
            return project
        if project not in self._project_ids:
            data = self.request(ops.PROJECT, {"name": project})
            self._project_ids[project] = data["project"]["id"]
        return self._project_ids[project]

    def live(self, query: str, variables: Callable[[str | None], dict[str, Any]], extract: Extract[T], **options: Any) -> LiveStream[T]:
        return LiveStream(self.ws_url, self.token, query, variables, extract, **options)

    def pages(self, document: str, field: str, variables: dict[str, Any], cls: type[M], limit: int | None = None) -> Iterator[M]:
        """Every node of a connection, page after page (at most `limit`)."""
        after = variables.get("after")
        seen = 0
        while True:
            first = PAGE_SIZE if limit is None else max(1, min(PAGE_SIZE, limit - seen))
            conn = self.request(document, {**variables, "first": first, "after": after})[field]
            for node in conn["nodes"]:
                yield self.bind(cls, node)
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not conn["pageInfo"]["hasNextPage"]:
                return
            after = conn["pageInfo"]["endCursor"]
