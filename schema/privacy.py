"""The customer's personal-data requests: deleting the cabinet (with its grace period)
and exporting its data. Rules: services/privacy/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import privacy as privacy_resolvers
from resolvers.context import Context
from schema.errors import MutationInput, attempt, error_type
from services.auth.errors import AuthError
from services.core.errors import CoreError
from services.privacy.errors import PrivacyError

Info = strawberry.Info[Context]


@strawberry.type(
    description="A deletion of the cabinet waiting for its grace period to end "
    "(CABINET_DELETION_GRACE_DAYS). Until `erasesAt`, cancelCabinetDeletion keeps the cabinet."
)
class CabinetDeletion:
    requested_at: dt.datetime = strawberry.field(description="When deleteCabinet was called.")
    erases_at: dt.datetime = strawberry.field(
        description="When the cabinet will be erased, unless the deletion is cancelled first."
    )

    @classmethod
    def of(cls, pending: Any) -> CabinetDeletion | None:
        return (
            cls(requested_at=pending.requested_at, erases_at=pending.erases_at) if pending else None
        )


@strawberry.input(description="Delete the cabinet, after a grace period; the password confirms.")
class DeleteCabinetInput:
    password: str = strawberry.field(description="The cabinet's password.")


DeleteCabinetError = error_type(
    "DeleteCabinet",
    [AuthError.WRONG_PASSWORD, CoreError.TOO_MANY_ATTEMPTS, CoreError.TOO_MANY_EMAILS],
    retryable=True,
)


@strawberry.type(
    description="The result of deleteCabinet. Every session of the cabinet has ended, this "
    "one too; a notice with the date and how to cancel went to the cabinet's address. "
    "Logging in before `erasesAt` and calling cancelCabinetDeletion keeps the cabinet."
)
class DeleteCabinetPayload:
    deletion: CabinetDeletion | None = strawberry.field(
        default=None, description="The pending deletion."
    )
    user_errors: list[DeleteCabinetError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


CancelCabinetDeletionError = error_type(
    "CancelCabinetDeletion", [PrivacyError.DELETION_NOT_REQUESTED]
)


@strawberry.type(description="The result of cancelCabinetDeletion.")
class CancelCabinetDeletionPayload:
    canceled: bool = strawberry.field(
        default=False, description="The cabinet stays; its address was told."
    )
    user_errors: list[CancelCabinetDeletionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.type(description="An export of the cabinet's data, being prepared.")
class DataExportRequest:
    requested_at: dt.datetime = strawberry.field(description="When it was asked for.")


RequestDataExportError = error_type(
    "RequestDataExport", [PrivacyError.TOO_MANY_EXPORTS, CoreError.TOO_MANY_EMAILS], retryable=True
)


@strawberry.type(
    description="The result of requestDataExport: the ZIP is prepared in the background and "
    "a link to it (valid DATA_EXPORT_LINK_HOURS) is mailed to the cabinet's address."
)
class RequestDataExportPayload:
    export: DataExportRequest | None = strawberry.field(
        default=None, description="The export asked for."
    )
    user_errors: list[RequestDataExportError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields


async def delete_cabinet(
    info: Info, input: MutationInput[DeleteCabinetInput]
) -> DeleteCabinetPayload:
    pending, errors = await attempt(
        privacy_resolvers.delete_cabinet(info, input), DeleteCabinetError, info.context.language
    )
    return DeleteCabinetPayload(deletion=CabinetDeletion.of(pending), user_errors=errors)


async def cancel_cabinet_deletion(info: Info) -> CancelCabinetDeletionPayload:
    kept, errors = await attempt(
        privacy_resolvers.cancel_cabinet_deletion(info),
        CancelCabinetDeletionError,
        info.context.language,
    )
    return CancelCabinetDeletionPayload(canceled=kept is not None, user_errors=errors)


async def request_data_export(info: Info) -> RequestDataExportPayload:
    requested, errors = await attempt(
        privacy_resolvers.request_data_export(info), RequestDataExportError, info.context.language
    )
    return RequestDataExportPayload(
        export=DataExportRequest(requested_at=requested.requested_at) if requested else None,
        user_errors=errors,
    )
