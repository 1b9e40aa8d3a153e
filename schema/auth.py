"""The cabinet's login (User), its sessions and security log, and the account mutations'
inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from models import auth as auth_models
from resolvers import accounts as account_resolvers
from resolvers import auth as auth_resolvers
from resolvers import privacy as privacy_resolvers
from resolvers import questions as question_resolvers
from resolvers.context import Context
from schema import notifications as notification_fields
from schema import privacy
from schema.accounts import PROOF_CODES, Account, After, First, ProofHold
from schema.enums import described_enum
from schema.errors import MutationInput, attempt, error_type, outcome
from schema.notifications import NotificationPreference, PushDevice
from schema.permissions import CustomersOnly
from schema.privacy import CabinetDeletion, PrivacyNotice
from schema.questions import CabinetRole, Question, QuestionStatus
from schema.relay import Connection, Node, encode_id, to_connection
from services.auth.errors import AuthError
from services.core import telemetry
from services.core.errors import CoreError
from services.recovery.errors import RecoveryError
from services.security.devices import describe_device
from services.security.errors import SecurityError

Info = strawberry.Info[Context]

SecurityEventKind = described_enum(
    auth_models.SecurityEventKind,
    REGISTERED="The cabinet was registered.",
    EMAIL_VERIFIED="Its e-mail address was confirmed with the e-mailed link.",
    LOGIN="Someone logged in with the right password.",
    LOGIN_FAILED="Someone tried to log in with a wrong password.",
    LOGOUT="A session ended by logging out.",
    LOGOUT_EVERYWHERE="Every session ended at once (logoutEverywhere), or every one "
    'but the current (logoutOtherDevices; `detail` is "others").',
    SESSION_REVOKED="A session was ended from another device (revokeSession).",
    # the names of events, not passwords:
    PASSWORD_RESET_REQUESTED="A link to set a new password was requested.",  # noqa: S106
    PASSWORD_CHANGED="The password was changed "  # noqa: S106
    '(`detail` "reset": set with a reset link).',
    EMAIL_CHANGE_REQUESTED="A move to a new address was asked for; `detail` is the "
    "new address, masked.",
    EMAIL_CHANGED="The cabinet moved to a new address; `detail` is that address, masked.",
    ACCOUNT_LINKED="An account was added; `detail` is its number.",
    ACCOUNT_UNLINKED="An account was removed; `detail` is its number.",
    RECOVERY_STARTED="Recovery without e-mail began with a proof of the account (`detail`).",
    RECOVERY_EMAIL_REQUESTED="Recovery named a new address (`detail`, masked) and sent it a link.",
    RECOVERY_COMPLETED="Recovery finished: the password was set from the link sent "
    "to the new address (`detail`, masked).",
    PRIVACY_NOTICE_ACCEPTED="The personal-data notice was accepted (at registration, or a "
    "new version later); `detail` is its version.",
    PROOF_HELD="A recovery to the address in `detail` (masked) was proven with a payment that "
    "could have been planted, so it is held (`setPassword.hold`) and this address was warned.",
    PROOF_HOLD_CANCELED="The held recovery to `detail` (masked) was canceled from the warning.",
    FROZEN='The owner answered "this wasn\'t me" to a security notice (sent to `detail`, '
    "masked): the cabinet is frozen until a specialist unfreezes it.",
    UNFROZEN="A specialist lifted the freeze.",
    STAFF_VIEWED="A specialist of the company saw the cabinet's accounts, readings, payments "
    "and receipts while answering one of its questions; `detail` is "
    "`<question id> <specialist's name>`. Written at most once an hour per specialist and "
    "question.",
    description="What happened to the cabinet.",
)


@strawberry.type(description="An entry of the cabinet's security log.")
class SecurityEvent(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    kind: SecurityEventKind = strawberry.field(description="What happened.")
    at: dt.datetime = strawberry.field(description="When.")
    ip: str = strawberry.field(description="Client IP address.")
    device: str = strawberry.field(description="Browser or app and system, from its user agent.")
    detail: str = strawberry.field(description="Account number or masked address, if any.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SecurityEvent:
        return cls(
            id=encode_id("SecurityEvent", row["id"]),
            kind=SecurityEventKind(row["kind"]),
            at=row["created_at"],
            ip=row["ip"],
            device=describe_device(row["user_agent"]),
            detail=row["detail"],
        )


@strawberry.type(name="Session", description="A device where the cabinet is logged in.")
class SessionInfo(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    created_at: dt.datetime = strawberry.field(description="When the login happened.")
    last_used_at: dt.datetime = strawberry.field(description="Last request, to the minute.")
    expires_at: dt.datetime = strawberry.field(description="When it ends if not used again.")
    ip: str = strawberry.field(description="IP address of the login.")
    device: str = strawberry.field(description="Browser or app and system.")
    current: bool = strawberry.field(description="The session making this request.")

    @classmethod
    def from_session(cls, session: Any, current: bool) -> SessionInfo:
        return cls(
            id=encode_id("Session", session.id),
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            expires_at=auth_resolvers.expires_at(session),
            ip=session.ip,
            device=describe_device(session.user_agent),
            current=current,
        )


@strawberry.type(description="A cabinet: the login (e-mail and password) of a customer.")
class User(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    email: str = strawberry.field(description="The cabinet's e-mail address.")
    email_verified: bool = strawberry.field(description="The address has been confirmed.")
    language: str = strawberry.field(description="Language of its e-mails: ru or en.")
    created_at: dt.datetime = strawberry.field(description="When it was registered.")
    role: CabinetRole = strawberry.field(
        description="CUSTOMER, or STAFF for the company's specialists."
    )
    display_name: str | None = strawberry.field(
        description="A specialist's name as customers see it; null for customers."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, cabinet: Any) -> User:
        return cls(
            id=encode_id("User", cabinet.id),
            email=cabinet.email,
            email_verified=cabinet.email_verified_at is not None,
            language=cabinet.language,
            created_at=cabinet.created_at,
            role=CabinetRole(cabinet.role),
            display_name=cabinet.display_name or None,
            pk=cabinet.id,
        )

    async def _own(self, info: strawberry.Info[Context]) -> None:
        await auth_resolvers.require_own(info, self.pk)

    @strawberry.field(
        description="The personal-data notice and whether the cabinet accepted its current "
        "version (ask for acceptance while not); null for specialists."
    )
    async def privacy_notice(self, info: strawberry.Info[Context]) -> PrivacyNotice | None:
        await self._own(info)
        return await privacy.privacy_notice(info, self.pk)

    @strawberry.field(description="The personal accounts the cabinet manages.")
    async def accounts(self, info: strawberry.Info[Context]) -> list[Account]:
        await self._own(info)
        return [Account.from_row(row) for row in await account_resolvers.accounts(info, self.pk)]

    @strawberry.field(description="Devices logged in, most recently used first.")
    async def sessions(self, info: strawberry.Info[Context]) -> list[SessionInfo]:
        await self._own(info)
        return [
            SessionInfo.from_session(s, current)
            for s, current in await auth_resolvers.sessions(info, self.pk)
        ]

    @strawberry.field(
        description="The deletion of the cabinet asked for with deleteCabinet and waiting "
        "for its grace period to end; null when none is. Show it, with a way to cancel."
    )
    async def deletion(self, info: strawberry.Info[Context]) -> CabinetDeletion | None:
        await self._own(info)
        return CabinetDeletion.of(await privacy_resolvers.pending_deletion(self.pk))

    @strawberry.field(
        description="App installations registered for push notifications (registerPushDevice) "
        "by the cabinet's live sessions, newest first."
    )
    async def devices(self, info: strawberry.Info[Context]) -> list[PushDevice]:
        await self._own(info)
        return await notification_fields.devices(self.pk)

    @strawberry.field(
        description="Which events the customer wants by e-mail and by push, one entry per "
        "event (setNotificationPreferences)."
    )
    async def notification_preferences(
        self, info: strawberry.Info[Context]
    ) -> list[NotificationPreference]:
        await self._own(info)
        return await notification_fields.notification_preferences(self.pk)

    @strawberry.field(description="The cabinet's security log, newest first.")
    async def security_events(
        self,
        info: strawberry.Info[Context],
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
    ) -> Connection[SecurityEvent]:
        await self._own(info)
        page = await auth_resolvers.security_events(self.pk, first, after)
        return to_connection(page, SecurityEvent.from_row)

    @strawberry.field(
        description="Questions the cabinet asked, newest first (customers only).",
        permission_classes=[CustomersOnly],
    )
    async def questions(
        self,
        info: strawberry.Info[Context],
        first: First = 20,
        after: After = None,
        status: Annotated[
            QuestionStatus | None,
            strawberry.argument(description="Only questions in this state; null for all."),
        ] = None,
    ) -> Connection[Question]:
        await self._own(info)
        page = await question_resolvers.own_questions(self.pk, first, after, status)
        return to_connection(page, Question.from_row)

    @strawberry.field(
        description="Specialists' answers not read yet, over every question: the apps' badge "
        "(customers only).",
        permission_classes=[CustomersOnly],
    )
    async def unread_answers(self, info: strawberry.Info[Context]) -> int:
        await self._own(info)
        return await question_resolvers.unread_answers(self.pk)


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input(description="Register a cabinet by proving ownership of an account.")
class RegisterInput:
    account_number: str = strawberry.field(description="Account number as on the bill.")
    payment_amount: str = strawberry.field(
        description='Amount of any payment to the account in the last year, e.g. "1 234,56".'
    )
    email: str = strawberry.field(description="E-mail address of the new cabinet.")
    password: str = strawberry.field(description="At least 8 characters.")
    accept_privacy_notice: str | None = strawberry.field(
        default=None,
        description="The version of the personal-data notice the customer read and accepted "
        "(`privacyNotice` of Query, shown from its `url`). Required in effect: without the "
        "current version registration answers PRIVACY_NOTICE_NOT_ACCEPTED.",
    )


RegisterError = error_type(
    "Register",
    [
        *PROOF_CODES,
        CoreError.ALREADY_REGISTERED,
        CoreError.EMAIL_TAKEN,
        CoreError.INVALID_EMAIL,
        SecurityError.WEAK_PASSWORD,
        AuthError.PRIVACY_NOTICE_NOT_ACCEPTED,
    ],
    retryable=True,
)


@strawberry.type(description="The result of register.")
class RegisterPayload:
    user: User | None = strawberry.field(default=None, description="The new cabinet.")
    hold: ProofHold | None = strawberry.field(
        default=None,
        description="Set when the proof's payment could have been planted: the cabinet "
        "exists and can log in, but the account joins it (and its data shows) only at "
        "`until`.",
    )
    user_errors: list[RegisterError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Confirm an e-mail address with the token from the link.")
class VerifyEmailInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")


VerifyEmailError = error_type(
    "VerifyEmail", [CoreError.INVALID_TOKEN, CoreError.EXPIRED_TOKEN, CoreError.EMAIL_TAKEN]
)


@strawberry.type(description="The result of verifyEmail.")
class VerifyEmailPayload:
    user: User | None = strawberry.field(default=None, description="The cabinet.")
    user_errors: list[VerifyEmailError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


ResendVerificationError = error_type(
    "ResendVerification",
    [AuthError.ALREADY_VERIFIED, CoreError.TOO_MANY_ATTEMPTS, CoreError.TOO_MANY_EMAILS],
    retryable=True,
)


@strawberry.type(description="The result of resendVerification.")
class ResendVerificationPayload:
    sent_to: str | None = strawberry.field(default=None, description="Where the link went.")
    user_errors: list[ResendVerificationError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Log in with e-mail and password.")
class LoginInput:
    email: str = strawberry.field(description="The cabinet's e-mail address.")
    password: str = strawberry.field(description="Its password.")


LoginError = error_type(
    "Login",
    [AuthError.INVALID_CREDENTIALS, CoreError.TOO_MANY_ATTEMPTS, SecurityError.CABINET_FROZEN],
    retryable=True,
)


@strawberry.type(
    description="The result of login. The web app gets the session as an "
    "HttpOnly cookie; mobile apps send `token` as `Authorization: Bearer`."
)
class LoginPayload:
    token: str | None = strawberry.field(default=None, description="The session token.")
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the session ends if unused."
    )
    user: User | None = strawberry.field(default=None, description="The cabinet.")
    user_errors: list[LoginError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


LogoutError = error_type("Logout", [CoreError.NOT_FOUND])


@strawberry.type(
    description="The result of logout, logoutEverywhere, logoutOtherDevices or revokeSession."
)
class LogoutPayload:
    ended_sessions: int = strawberry.field(default=0, description="How many sessions ended.")
    user_errors: list[LogoutError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="End one session of the cabinet (another device).")
class RevokeSessionInput:
    id: strawberry.ID = strawberry.field(description="Id of the session, from me.sessions.")


@strawberry.input(description="Ask for a link to set a new password.")
class RequestPasswordResetInput:
    email: str = strawberry.field(description="The cabinet's e-mail address.")


RequestPasswordResetError = error_type(
    "RequestPasswordReset", [CoreError.INVALID_EMAIL, CoreError.TOO_MANY_ATTEMPTS], retryable=True
)


@strawberry.type(
    description="The result of requestPasswordReset: the same whether or not "
    "the address has a cabinet."
)
class RequestPasswordResetPayload:
    accepted: bool = strawberry.field(
        default=False,
        description="A message is on its way: a link if the address has a cabinet, else "
        "word that no cabinet uses it.",
    )
    user_errors: list[RequestPasswordResetError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Set a new password with the token from an e-mailed link.")
class SetPasswordInput:
    token: str = strawberry.field(description="The `token` parameter of the link.")
    password: str = strawberry.field(description="The new password, at least 8 characters.")


SetPasswordError = error_type(
    "SetPassword",
    [
        CoreError.INVALID_TOKEN,
        CoreError.EXPIRED_TOKEN,
        SecurityError.WEAK_PASSWORD,
        CoreError.EMAIL_TAKEN,
        RecoveryError.PROOF_NO_LONGER_HOLDS,
        SecurityError.CABINET_FROZEN,
    ],
)


@strawberry.type(
    description="The result of setPassword. Every session of the cabinet has "
    "ended: log in with the new password. A recovery proven with a recent payment is "
    "held instead (`hold`): `user` is null and nothing has changed yet."
)
class SetPasswordPayload:
    user: User | None = strawberry.field(
        default=None, description="The cabinet; null while the recovery is on hold."
    )
    hold: ProofHold | None = strawberry.field(
        default=None, description="Set when the recovery is held: when it will complete."
    )
    user_errors: list[SetPasswordError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description='Lift the freeze of a cabinet whose owner said "this wasn\'t me".')
class UnfreezeCabinetInput:
    cabinet_id: strawberry.ID = strawberry.field(
        description="The customer's id as a question shows it (`Question.customer.id`)."
    )


UnfreezeCabinetError = error_type("UnfreezeCabinet", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of unfreezeCabinet.")
class UnfreezeCabinetPayload:
    unfrozen: bool = strawberry.field(
        default=False, description="The cabinet is not frozen now: login and recovery work."
    )
    user_errors: list[UnfreezeCabinetError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


async def unfreeze_cabinet(
    info: Info, input: MutationInput[UnfreezeCabinetInput]
) -> UnfreezeCabinetPayload:
    done, errors = await attempt(
        auth_resolvers.unfreeze_cabinet(info, input), UnfreezeCabinetError, info.context.language
    )
    return UnfreezeCabinetPayload(unfrozen=done is not None, user_errors=errors)


@strawberry.input(description="Change the password, knowing the current one.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password now.")
    new_password: str = strawberry.field(description="The new password.")


ChangePasswordError = error_type(
    "ChangePassword",
    [AuthError.WRONG_PASSWORD, SecurityError.WEAK_PASSWORD, CoreError.TOO_MANY_ATTEMPTS],
    retryable=True,
)


@strawberry.type(description="The result of changePassword. Other sessions have ended.")
class ChangePasswordPayload:
    user: User | None = strawberry.field(default=None, description="The cabinet.")
    user_errors: list[ChangePasswordError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Choose the language of the cabinet's e-mails.")
class SetMailLanguageInput:
    language: str = strawberry.field(description="ru or en.")


SetMailLanguageError = error_type("SetMailLanguage", [AuthError.UNSUPPORTED_LANGUAGE])


@strawberry.type(description="The result of setMailLanguage.")
class SetMailLanguagePayload:
    user: User | None = strawberry.field(
        default=None, description="The cabinet, with its new `language`."
    )
    user_errors: list[SetMailLanguageError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Move the cabinet to another e-mail address.")
class ChangeEmailInput:
    password: str = strawberry.field(description="The cabinet's password.")
    new_email: str = strawberry.field(description="The new address; a link goes there.")


ChangeEmailError = error_type(
    "ChangeEmail",
    [
        AuthError.WRONG_PASSWORD,
        CoreError.INVALID_EMAIL,
        AuthError.SAME_EMAIL,
        CoreError.TOO_MANY_ATTEMPTS,
        CoreError.TOO_MANY_EMAILS,
    ],
    retryable=True,
)


@strawberry.type(
    description="The result of changeEmail: the change happens when the link "
    "sent to the new address is followed (verifyEmail). The answer is the same when the "
    "address already has a cabinet: that address is told so by e-mail instead."
)
class ChangeEmailPayload:
    sent_to: str | None = strawberry.field(default=None, description="The new address.")
    user_errors: list[ChangeEmailError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields
# Each takes the mutation's input, calls its resolver (resolvers/auth.py) and turns the
# domain result, or the rules' errors, into the payload. Linking accounts: schema/accounts.py.


async def me(info: Info) -> User | None:
    viewer = await auth_resolvers.me(info)
    return User.from_model(viewer) if viewer is not None else None


def _user(cabinet: Any) -> User | None:
    return User.from_model(cabinet) if cabinet else None


async def register(info: Info, input: MutationInput[RegisterInput]) -> RegisterPayload:
    done, errors = await attempt(
        auth_resolvers.register(info, input), RegisterError, info.context.language
    )
    if done is None:
        return RegisterPayload(user_errors=errors)
    hold = ProofHold(until=done.hold_until) if done.hold_until is not None else None
    return RegisterPayload(user=_user(done.cabinet), hold=hold, user_errors=errors)


async def verify_email(info: Info, input: MutationInput[VerifyEmailInput]) -> VerifyEmailPayload:
    cabinet, errors = await attempt(
        auth_resolvers.verify_email(info, input), VerifyEmailError, info.context.language
    )
    return VerifyEmailPayload(user=_user(cabinet), user_errors=errors)


async def resend_verification(info: Info) -> ResendVerificationPayload:
    sent_to, errors = await attempt(
        auth_resolvers.resend_verification(info), ResendVerificationError, info.context.language
    )
    return ResendVerificationPayload(sent_to=sent_to, user_errors=errors)


async def login(info: Info, input: MutationInput[LoginInput]) -> LoginPayload:
    done, errors = await attempt(
        auth_resolvers.login(info, input), LoginError, info.context.language
    )
    telemetry.LOGINS.labels(outcome(errors)).inc()
    if done is None:
        return LoginPayload(user_errors=errors)
    return LoginPayload(
        token=done.token,
        expires_at=auth_resolvers.expires_at(done.session),
        user=User.from_model(done.cabinet),
    )


async def logout(info: Info) -> LogoutPayload:
    return LogoutPayload(ended_sessions=await auth_resolvers.logout(info))


async def logout_everywhere(info: Info) -> LogoutPayload:
    return LogoutPayload(ended_sessions=await auth_resolvers.logout_everywhere(info))


async def logout_other_devices(info: Info) -> LogoutPayload:
    return LogoutPayload(ended_sessions=await auth_resolvers.logout_other_devices(info))


async def revoke_session(info: Info, input: MutationInput[RevokeSessionInput]) -> LogoutPayload:
    ended, errors = await attempt(
        auth_resolvers.revoke_session(info, input), LogoutError, info.context.language
    )
    return LogoutPayload(ended_sessions=ended or 0, user_errors=errors)


async def request_password_reset(
    info: Info, input: MutationInput[RequestPasswordResetInput]
) -> RequestPasswordResetPayload:
    _, errors = await attempt(
        auth_resolvers.request_password_reset(info, input),
        RequestPasswordResetError,
        info.context.language,
    )
    return RequestPasswordResetPayload(accepted=not errors, user_errors=errors)


async def set_password(info: Info, input: MutationInput[SetPasswordInput]) -> SetPasswordPayload:
    done, errors = await attempt(
        auth_resolvers.set_password(info, input), SetPasswordError, info.context.language
    )
    if done is None:
        return SetPasswordPayload(user_errors=errors)
    hold = ProofHold(until=done.hold_until) if done.hold_until is not None else None
    return SetPasswordPayload(user=_user(done.cabinet), hold=hold, user_errors=errors)


async def set_mail_language(
    info: Info, input: MutationInput[SetMailLanguageInput]
) -> SetMailLanguagePayload:
    cabinet, errors = await attempt(
        auth_resolvers.set_mail_language(info, input),
        SetMailLanguageError,
        info.context.language,
    )
    return SetMailLanguagePayload(user=_user(cabinet), user_errors=errors)


async def change_password(
    info: Info, input: MutationInput[ChangePasswordInput]
) -> ChangePasswordPayload:
    cabinet, errors = await attempt(
        auth_resolvers.change_password(info, input), ChangePasswordError, info.context.language
    )
    return ChangePasswordPayload(user=_user(cabinet), user_errors=errors)


async def change_email(info: Info, input: MutationInput[ChangeEmailInput]) -> ChangeEmailPayload:
    address, errors = await attempt(
        auth_resolvers.change_email(info, input), ChangeEmailError, info.context.language
    )
    return ChangeEmailPayload(sent_to=address, user_errors=errors)
