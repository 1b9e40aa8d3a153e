"""Who may use a field, declared on the field: `permission_classes=[StaffOnly]`.

Nobody logged in: UNAUTHENTICATED. Logged in with the wrong role: FORBIDDEN, a
top-level error, and the field resolves to nothing. Which *objects* a viewer reaches
(their own questions, their own accounts) is the rules' business, not this module's.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from models.cabinets import Role
from resolvers.context import Context, Forbidden


class _RoleOnly(BasePermission):
    role: Role
    message = "Not allowed."

    async def has_permission(
        self, source: Any, info: strawberry.Info[Context], **kwargs: Any
    ) -> bool:
        viewer = await info.context.require_viewer()
        return viewer.role == self.role

    def on_unauthorized(self) -> None:
        raise Forbidden()


class StaffOnly(_RoleOnly):
    """The company's specialists only (cabinets with the staff role)."""

    role = Role.STAFF


class CustomersOnly(_RoleOnly):
    """Customers only: a specialist's cabinet holds no accounts and asks nothing."""

    role = Role.CUSTOMER
