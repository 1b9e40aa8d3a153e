"""The personal-data notice: where it stands for the viewer, and accepting a new version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from resolvers import privacy as privacy_resolvers
from resolvers.context import Context
from schema.errors import MutationInput, attempt, error_type
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
    "AcceptPrivacyNotice", [PrivacyError.PRIVACY_NOTICE_NOT_ACCEPTED]
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
