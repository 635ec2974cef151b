"""Projects and members, the audit trail, API tokens."""

from __future__ import annotations

import builtins

from typing import Any

from . import _generated as g
from . import _ops as ops
from ._base import Context, id_of
from ._live import LiveStream
from .errors import ConflictError, NotFoundError


class ProjectsApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, name: str, description: str = "") -> g.Project:
        """A new project (you become its admin). Names: lowercase letters, digits, - and _."""
        return g.Project.model_validate(self._ctx.request(ops.CREATE_PROJECT, {"input": {"name": name, "description": description}})["createProject"])

    def get(self, project: Any = None, *, name: str | None = None) -> g.Project:
        """A project by id (or by `name=`); the client's default project when neither is given."""
        variables = {"name": name} if name else {"id": self._ctx.project_id(project)}
        return g.Project.model_validate(self._ctx.request(ops.PROJECT, variables)["project"])

    def get_or_create(self, name: str, description: str = "") -> g.Project:
        try:
            return self.get(name=name)
        except NotFoundError:
            try:
                return self.create(name, description)
            except ConflictError:  # created meanwhile by someone else
                return self.get(name=name)

    def list(self, *, limit: int | None = None) -> builtins.list[g.Project]:
        """Projects you are a member of (all of them for instance admins)."""
        return list(self._ctx.pages(ops.PROJECTS, "projects", {}, g.Project, limit))

    def set_membership(self, email: str, role: str, *, project: Any = None) -> g.Membership:
        """Adds a user to a project or changes their role (viewer, editor, admin)."""
        data = self._ctx.request(ops.SET_MEMBERSHIP, {"projectId": self._ctx.project_id(project), "email": email, "role": role})
        return g.Membership.model_validate(data["setMembership"])


class AuditApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def trail(self, project: Any = None, *, after: str | None = None, first: int | None = None) -> builtins.list[g.AuditEvent]:
        """Audit events in order; page with `after` = the last event's cursor."""
        data = self._ctx.request(ops.AUDIT_TRAIL, {"projectId": self._ctx.project_id(project), "after": after, "first": first})
        return [g.AuditEvent.model_validate(e) for e in data["auditTrail"]]

    def follow(self, project: Any = None, *, after: str | None = None, **options: Any) -> LiveStream[g.AuditEvent]:
        """Audit events after `after`, then live; reconnects and resumes from its cursor."""
        project_id = self._ctx.project_id(project)

        def extract(data: dict[str, Any]) -> tuple[builtins.list[g.AuditEvent], str, bool]:
            event = g.AuditEvent.model_validate(data["auditEvents"])
            return [event], event.cursor, False

        return self._ctx.live(ops.AUDIT_EVENTS, lambda cursor: {"projectId": project_id, "after": cursor}, extract, after=after, **options)


class TokensApi:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list(self) -> builtins.list[g.ApiToken]:
        return [g.ApiToken.model_validate(t) for t in self._ctx.request(ops.API_TOKENS)["apiTokens"]]

    def create(self, name: str, *, expires_in_days: int | None = None, user: Any = None) -> g.CreatedApiToken:
        """A new token; `.token` is shown once (Ouro keeps only its hash)."""
        payload = {"name": name, "expiresInDays": expires_in_days, "userId": id_of(user, "user") if user else None}
        return g.CreatedApiToken.model_validate(self._ctx.request(ops.CREATE_API_TOKEN, {"input": payload})["createApiToken"])

    def revoke(self, token: Any) -> g.ApiToken:
        """Revokes a token at once; its open subscriptions are closed."""
        return g.ApiToken.model_validate(self._ctx.request(ops.REVOKE_API_TOKEN, {"id": id_of(token, "token")}, retry=True)["revokeApiToken"])
