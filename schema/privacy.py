"""Personal data: the notice (where it stands for the viewer, accepting a new version), and
the customer's requests: deleting the cabinet (with its grace period) and exporting its data.
Rules: services/privacy/."""

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
    description="The notice on how the company processes personal data (152-FZ), and what "
    "this cabinet accepted. While `accepted` is false, show the notice (`url`) and ask the "
    "customer to accept it (acceptPrivacyNotice): its version changed since they did."
)
class PrivacyNotice:
    version: str = strawberry.field(description="The current version, e.g. 2026-12-01.")
    url: str = strawberry.field(
        description="The notice as a web page; add ?lang=en for English (else the browser's "
        "Accept-Language decides)."
    )
    accepted: bool = strawberry.field(description="The cabinet accepted the current version.")
    accepted_version: str | None = strawberry.field(
        description="The version the cabinet accepted last; null if none."
    )
    accepted_at: dt.datetime | None = strawberry.field(
        description="When it accepted that version; null if never."
    )

    @classmethod
    def from_notice(cls, notice: Any) -> PrivacyNotice | None:
        if notice is None:
            return None
        return cls(
            version=notice.version,
            url=notice.url,
            accepted=notice.accepted,
            accepted_version=notice.accepted_version,
            accepted_at=notice.accepted_at,
        )


@strawberry.input(description="Accept the personal-data notice the client showed.")
class AcceptPrivacyNoticeInput:
    version: str = strawberry.field(
        description="The version shown (`privacyNotice.version`); it must be the current one."
    )


AcceptPrivacyNoticeError = error_type(
    "AcceptPrivacyNotice", [AuthError.PRIVACY_NOTICE_NOT_ACCEPTED]
)


@strawberry.type(description="The result of acceptPrivacyNotice.")
class AcceptPrivacyNoticePayload:
    privacy_notice: PrivacyNotice | None = strawberry.field(
        default=None, description="The notice, accepted now."
    )
    user_errors: list[AcceptPrivacyNoticeError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


async def current_notice(info: Info) -> PrivacyNotice:
    notice = PrivacyNotice.from_notice(await privacy_resolvers.current_notice(info))
    assert notice is not None
    return notice


async def privacy_notice(info: Info, cabinet_pk: int) -> PrivacyNotice | None:
    return PrivacyNotice.from_notice(await privacy_resolvers.privacy_notice(info, cabinet_pk))


async def accept_privacy_notice(
    info: Info, input: MutationInput[AcceptPrivacyNoticeInput]
) -> AcceptPrivacyNoticePayload:
    notice, errors = await attempt(
        privacy_resolvers.accept_privacy_notice(info, input),
        AcceptPrivacyNoticeError,
        info.context.language,
    )
    return AcceptPrivacyNoticePayload(
        privacy_notice=PrivacyNotice.from_notice(notice), user_errors=errors
    )


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
