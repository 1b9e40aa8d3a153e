"""Getting into a cabinet and keeping it safe: registration, e-mail verification, login,
logout, password reset and change, e-mail change (SECURITY.md 1-5, 9-15)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from config import get_settings
from models import sql
from models.auth import ProofPurpose, SecurityEventKind, Session, TokenPurpose
from models.cabinets import Cabinet, CabinetAccount
from services.accounts import holds, proof
from services.auth import consent
from services.auth.errors import AuthError
from services.core import throttle, tokens
from services.core.clock import now
from services.core.emails import mask_email, normalize_email
from services.core.errors import CoreError, RuleError, RuleErrors, raise_all
from services.core.ids import encode_id
from services.notifications.events import NotificationEvent
from services.notifications.notices import (
    charge_mail_budget,
    link_lifetime,
    mail_link,
    mail_token,
    notify,
    notify_address,
    notify_old_address,
)
from services.notifications.push import announce
from services.recovery import rules as recovery
from services.security import audit, sessions
from services.security.devices import Device, describe_device, new_device
from services.security.errors import SecurityError
from services.security.passwords import (
    cabinet_context_words,
    check_policy,
    context_words,
    hash_password,
    verify_password,
)
from services.security.sessions import Client

LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class Registered:
    cabinet: Cabinet
    hold_until: dt.datetime | None = None  # the account joins the cabinet then


@dataclass(frozen=True)
class LoggedIn:
    token: str
    session: Session
    cabinet: Cabinet
    device: Device  # the device, now known to the cabinet: the caller sets its cookie


def _login_policies() -> tuple[throttle.Backoff, throttle.Backoff, throttle.Backoff]:
    settings = get_settings()
    per_client = throttle.Backoff(
        free=settings.login_free_failures,
        base=dt.timedelta(seconds=30),
        cap=dt.timedelta(minutes=15),
        forget_after=dt.timedelta(hours=24),
    )
    per_email = dataclasses.replace(per_client, free=settings.login_free_failures_per_email)
    per_ip = throttle.Backoff(
        free=settings.login_free_failures_per_ip,
        base=dt.timedelta(seconds=30),
        cap=dt.timedelta(minutes=15),
        forget_after=dt.timedelta(hours=1),
        success_resets=False,
    )
    return per_client, per_email, per_ip


def client_key(client: Client) -> str:
    """The client's network address as throttle keys name it (an IPv6 client by its /64)."""
    return client.limit_key


def _login_limits(
    email: str, client: Client, device: Device | None, cabinet: Cabinet | None
) -> tuple[throttle.Limit, ...]:
    """Failures back off per (address, client), so a stranger's wrong guesses never make
    the owner wait (SECURITY.md 11, 24). The client is a device that has logged into this
    cabinet before, else the client IP. Unknown devices also share a high per-address
    ceiling, against guessing from many IPs, and the per-IP limit, against one IP trying
    many addresses; a known device answers to neither, as no one but the cabinet's owner
    can have made it known."""
    per_client, per_email, per_ip = _login_policies()
    if device is not None and cabinet is not None and device.knows(cabinet.id):
        return ((_pair_key(email, f"device:{device.id}"), per_client),)
    ip = client_key(client)
    return (
        (_pair_key(email, f"ip:{ip}"), per_client),
        (f"login:email:{email}", per_email),
        (f"login:ip:{ip}", per_ip),
    )


def _pair_key(email: str, client_part: str) -> str:
    # The e-mail comes last: an unnormalised one may hold any character, ":" too.
    key = f"login:client:{client_part}:email:{email}"
    if len(key) <= 300:  # RateCounter.key
        return key
    return f"login:client:{client_part}:email-sha256:{hashlib.sha256(email.encode()).hexdigest()}"


async def _guess_password(
    email: str,
    password: str,
    client: Client,
    cabinet: Cabinet | None,
    device: Device | None,
) -> bool:
    """Check a password under the login throttle; a right one gives its attempts back."""
    limits = _login_limits(email, client, device, cabinet)
    try:
        await throttle.attempt(*limits)
    except throttle.Throttled as throttled:
        raise RuleError(
            CoreError.TOO_MANY_ATTEMPTS, None, retry_after=throttled.retry_after
        ) from None
    matches, needs_rehash = await verify_password(
        cabinet.password_hash if cabinet else None, password
    )
    if not matches:
        return False
    await throttle.give_back(*limits)
    if needs_rehash and cabinet is not None:
        cabinet.password_hash = await hash_password(password)
        await Cabinet.filter(id=cabinet.id).update(password_hash=cabinet.password_hash)
    return True


async def confirm_password(
    cabinet: Cabinet, password: str, client: Client, device: Device | None = None
) -> bool:
    """Whether `password` is the cabinet's, checked under the login throttle: what a rule
    of another domain asks before a grave step (deleting the cabinet)."""
    return await _guess_password(cabinet.email, password or "", client, cabinet, device)


# ---------------------------------------------------------------- registration


async def register(
    *,
    account_number: str,
    payment_amount: str,
    email: str,
    password: str,
    language: str,
    client: Client,
    privacy_notice: str | None = None,
) -> Registered:
    """A new cabinet for the holder of an account. `privacy_notice`: the version of the
    personal-data notice the customer accepted, which must be the current one. With a
    proof whose payment could have been planted, the cabinet is created but the account
    joins it only when the hold ends (services.accounts.holds)."""
    errors: list[RuleError] = []
    address = number = amount = None
    try:
        address = normalize_email(email)
    except RuleError as error:
        errors.append(error)
    try:
        number, amount = proof.read_proof(account_number, payment_amount)
    except RuleError as error:
        errors.append(error)
    except RuleErrors as several:
        errors.extend(several.errors)
    try:
        check_policy(
            password,
            field="password",
            context_words=context_words(address or email, [number or ""]),
        )
    except RuleError as error:
        errors.append(error)
    try:
        notice_version = consent.check_version(privacy_notice, "acceptPrivacyNotice")
    except RuleError as error:
        errors.append(error)
    raise_all(errors)  # before the proof: a form refused anyway uses up no attempt
    assert address is not None and number is not None and amount is not None

    proven = await proof.prove(number, amount, purpose=ProofPurpose.REGISTER, client=client)
    if await CabinetAccount.filter(account_id=proven.account.id).exists():
        raise RuleError(CoreError.ALREADY_REGISTERED, "accountNumber")
    if await Cabinet.filter(email=address).exists():
        raise RuleError(CoreError.EMAIL_TAKEN, "email")
    password_hash = await hash_password(password)
    held = await holds.needs_hold(proven)
    hold_until = None
    try:
        async with in_transaction():
            cabinet = await Cabinet.create(
                email=address,
                password_hash=password_hash,
                language=language if language in LANGUAGES else "ru",
                created_at=now(),  # the rules' clock: retention counts from it
            )
            await audit.record(cabinet.id, SecurityEventKind.REGISTERED, client)
            if held:
                hold = await holds.hold(cabinet.id, ProofPurpose.REGISTER, proven, client)
                hold_until = hold.until
            else:
                await CabinetAccount.create(cabinet=cabinet, account=proven.account)
                await audit.record(
                    cabinet.id, SecurityEventKind.ACCOUNT_LINKED, client, proven.account.number
                )
            await consent.record(cabinet, notice_version, client)
            await _send_verification(cabinet)
    except IntegrityError:
        # A concurrent registration won the race for the account or the address.
        if await CabinetAccount.filter(account_id=proven.account.id).exists():
            raise RuleError(CoreError.ALREADY_REGISTERED, "accountNumber") from None
        raise RuleError(CoreError.EMAIL_TAKEN, "email") from None
    return Registered(cabinet, hold_until)


async def _send_verification(cabinet: Cabinet) -> None:
    await mail_link(cabinet, TokenPurpose.VERIFY_EMAIL, "verify_email", to=cabinet.email)


async def resend_verification(cabinet: Cabinet, client: Client) -> None:
    if cabinet.email_verified_at is not None:
        raise RuleError(AuthError.ALREADY_VERIFIED)
    policy = throttle.Window(5, dt.timedelta(hours=1))
    try:
        await throttle.attempt((f"verify:resend:{cabinet.id}", policy))
    except throttle.Throttled as throttled:
        raise RuleError(CoreError.TOO_MANY_ATTEMPTS, retry_after=throttled.retry_after) from None
    await charge_mail_budget(cabinet.id)
    async with in_transaction():
        await tokens.void_outstanding(cabinet.id, (TokenPurpose.VERIFY_EMAIL,))
        await _send_verification(cabinet)


async def verify_email(token: str, client: Client) -> Cabinet:
    """Confirm an address: the first one after registration, or a new one (changeEmail)."""
    row = await tokens.peek(token, (TokenPurpose.VERIFY_EMAIL, TokenPurpose.CHANGE_EMAIL))
    async with in_transaction():
        await tokens.consume(token, (row.purpose,))
        cabinet = await Cabinet.filter(id=row.cabinet_id).select_for_update().get()  # type: ignore[attr-defined]
        moment = now()
        if row.purpose == TokenPurpose.VERIFY_EMAIL:
            if cabinet.email != row.email:
                raise RuleError(CoreError.INVALID_TOKEN, "token")
            if cabinet.email_verified_at is None:
                cabinet.email_verified_at = moment
                await cabinet.save(update_fields=["email_verified_at", "updated_at"])
                await audit.record(cabinet.id, SecurityEventKind.EMAIL_VERIFIED, client)
            return cabinet
        if await Cabinet.filter(email=row.email).exclude(id=cabinet.id).exists():
            raise RuleError(CoreError.EMAIL_TAKEN, "token")
        old = cabinet.email
        cabinet.email, cabinet.email_verified_at = row.email, moment
        try:
            await cabinet.save(update_fields=["email", "email_verified_at", "updated_at"])
        except IntegrityError:
            raise RuleError(CoreError.EMAIL_TAKEN, "token") from None
        await tokens.void_outstanding(cabinet.id)
        await audit.record(
            cabinet.id, SecurityEventKind.EMAIL_CHANGED, client, mask_email(row.email)
        )
        await notify_old_address(cabinet, "email_changed", to=old, new_email=mask_email(row.email))
        await announce(
            cabinet.id,
            NotificationEvent.EMAIL_CHANGED,
            node_id=encode_id("User", cabinet.id),
            key=f"email_changed:{row.id}",
            new_email=mask_email(row.email),
            support_phone=get_settings().support_phone,
        )
    return cabinet


# ---------------------------------------------------------------- login and sessions


async def _cabinet_of(address: str) -> Cabinet | None:
    """The cabinet of an address, in one plain statement: every login asks, and the ORM's
    query building cost a login's loop more than the statement itself."""
    row = await sql.fetch_one(
        sql.connection(),
        f"SELECT {sql.columns(Cabinet)[0]} FROM cabinet WHERE email = ?",  # noqa: S608 - the model's columns
        [address],
    )
    return sql.instance(Cabinet, row) if row is not None else None


async def login(
    email: str, password: str, client: Client, device: Device | None = None
) -> LoggedIn:
    """Start a session; `device` is the one the request's device cookie names, if any."""
    try:
        address = normalize_email(email)
    except RuleError:
        address = (email or "").strip().lower()[:254]
    cabinet = await _cabinet_of(address)
    # A closed cabinet fails exactly as a wrong password does, under the same throttle.
    usable = cabinet if cabinet is not None and cabinet.disabled_at is None else None
    if not await _guess_password(address, password or "", client, usable, device):
        if cabinet is not None:
            await audit.record(cabinet.id, SecurityEventKind.LOGIN_FAILED, client)
        raise RuleError(AuthError.INVALID_CREDENTIALS)
    assert cabinet is not None
    if cabinet.frozen_at is not None:  # told only to whoever knows the password
        raise RuleError(SecurityError.CABINET_FROZEN)
    async with in_transaction():
        token, session = await sessions.create(cabinet, client)
        await audit.record(cabinet.id, SecurityEventKind.LOGIN, client)
        if device is None or not device.knows(cabinet.id):
            # A security notice to the apps already logged in (the new session has none).
            await announce(
                cabinet.id,
                NotificationEvent.NEW_LOGIN,
                node_id=encode_id("Session", session.id),
                device=describe_device(client.user_agent),
                ip=client.ip or "?",
            )
    return LoggedIn(token, session, cabinet, (device or new_device()).remembering(cabinet.id))


async def logout(session: Session, client: Client) -> None:
    await sessions.revoke(session.cabinet_id, session.id)  # type: ignore[attr-defined]
    await audit.record(session.cabinet_id, SecurityEventKind.LOGOUT, client)  # type: ignore[attr-defined]


async def logout_everywhere(cabinet: Cabinet, client: Client) -> int:
    ended = await sessions.revoke_all(cabinet.id)
    await audit.record(cabinet.id, SecurityEventKind.LOGOUT_EVERYWHERE, client)
    return ended


async def logout_other_devices(session: Session, client: Client) -> int:
    """End every session of the cabinet but this one (a lost phone, a shared computer)."""
    cabinet_id = session.cabinet_id  # type: ignore[attr-defined]
    async with in_transaction():
        ended = await sessions.revoke_all(cabinet_id, keep=session.id)
        await audit.record(cabinet_id, SecurityEventKind.LOGOUT_EVERYWHERE, client, "others")
        if ended:  # a security notice to the devices of the session that stays
            await announce(
                cabinet_id,
                NotificationEvent.SESSIONS_ENDED,
                node_id=encode_id("Session", session.id),
                key=f"sessions_ended:{session.id}:{now().isoformat()}",
                ended=ended,
            )
    return ended


async def revoke_session(cabinet: Cabinet, session_id: int, client: Client) -> None:
    if not await sessions.revoke(cabinet.id, session_id):
        raise RuleError(CoreError.NOT_FOUND, "id")
    await audit.record(cabinet.id, SecurityEventKind.SESSION_REVOKED, client)


# ---------------------------------------------------------------- passwords


async def request_password_reset(email: str, client: Client, language: str = "ru") -> None:
    """Mail a reset link if the address has a cabinet, else word that none uses it; answer
    the same either way, after the very same database statements (SECURITY.md 4): the token
    and the audit entry are written by INSERT ... SELECT statements that write nothing
    without a cabinet, so neither the answer nor its timing tells the two apart."""
    address = normalize_email(email)
    limits = (
        (f"reset:email:{address}", throttle.Window(5, dt.timedelta(hours=1))),
        (f"reset:ip:{client_key(client)}", throttle.Window(30, dt.timedelta(hours=1))),
    )
    try:
        await throttle.attempt(*limits)
    except throttle.Throttled as throttled:
        raise RuleError(CoreError.TOO_MANY_ATTEMPTS, retry_after=throttled.retry_after) from None
    cabinet = await Cabinet.filter(email=address, disabled_at__isnull=True).first()
    cabinet_id = cabinet.id if cabinet is not None else 0  # 0: no cabinet has that id
    async with in_transaction():
        await tokens.void_outstanding(cabinet_id, (TokenPurpose.RESET_PASSWORD,))
        issued = await tokens.issue_if_cabinet(
            cabinet_id, TokenPurpose.RESET_PASSWORD, link_lifetime(), email=address
        )
        if cabinet is not None and issued is not None:
            await mail_token(issued, "reset_password", to=address, language=cabinet.language)
        else:
            await notify_address(address, language, "reset_no_cabinet")
        await audit.record_if_cabinet(
            cabinet_id, SecurityEventKind.PASSWORD_RESET_REQUESTED, client
        )


async def _new_password_hash(cabinet: Cabinet, password: str, field: str, email: str) -> str:
    check_policy(
        password, field=field, context_words=await cabinet_context_words(cabinet.id, email)
    )
    return await hash_password(password)


async def set_password(token: str, password: str, client: Client) -> recovery.Completed:
    """Set a password from an e-mailed link: a password reset, or the last step of a
    recovery without e-mail (which may be held: `Completed.hold_until`). The link proved
    the mailbox, so it is verified too."""
    row = await tokens.peek(token, (TokenPurpose.RESET_PASSWORD, TokenPurpose.RECOVERY_LINK))
    if row.purpose == TokenPurpose.RECOVERY_LINK:
        return await recovery.complete(row, token, password, client)
    cabinet = await Cabinet.get(id=row.cabinet_id)  # type: ignore[attr-defined]
    password_hash = await _new_password_hash(cabinet, password, "password", cabinet.email)
    async with in_transaction():
        await tokens.consume(token, (TokenPurpose.RESET_PASSWORD,))
        cabinet = await Cabinet.filter(id=cabinet.id).select_for_update().get()
        if cabinet.email != row.email or cabinet.disabled_at is not None:
            raise RuleError(CoreError.INVALID_TOKEN, "token")
        if cabinet.frozen_at is not None:
            raise RuleError(SecurityError.CABINET_FROZEN, "token")
        cabinet.password_hash = password_hash
        cabinet.email_verified_at = cabinet.email_verified_at or now()
        await cabinet.save(update_fields=["password_hash", "email_verified_at", "updated_at"])
        await sessions.revoke_all(cabinet.id)
        await tokens.void_outstanding(cabinet.id)
        await audit.record(cabinet.id, SecurityEventKind.PASSWORD_CHANGED, client, "reset")
        await notify_old_address(cabinet, "password_changed")
    return recovery.Completed(cabinet)


async def change_password(
    cabinet: Cabinet,
    session: Session,
    current: str,
    new: str,
    client: Client,
    device: Device | None = None,
) -> None:
    if not await _guess_password(cabinet.email, current or "", client, cabinet, device):
        raise RuleError(AuthError.WRONG_PASSWORD, "currentPassword")
    password_hash = await _new_password_hash(cabinet, new, "newPassword", cabinet.email)
    async with in_transaction():
        cabinet.password_hash = password_hash
        await cabinet.save(update_fields=["password_hash", "updated_at"])
        await sessions.revoke_all(cabinet.id, keep=session.id)
        await tokens.void_outstanding(cabinet.id)
        await audit.record(cabinet.id, SecurityEventKind.PASSWORD_CHANGED, client)
        await notify_old_address(cabinet, "password_changed")
        # The devices of the other sessions are gone with them: this one is told.
        await announce(
            cabinet.id,
            NotificationEvent.PASSWORD_CHANGED,
            node_id=encode_id("User", cabinet.id),
            key=f"password_changed:{session.id}:{now().isoformat()}",
            support_phone=get_settings().support_phone,
        )


async def change_email(
    cabinet: Cabinet, password: str, new_email: str, client: Client, device: Device | None = None
) -> str:
    """Mail a confirmation link to the new address and tell the old one; the change
    happens when the link is followed (verifyEmail). Returns the new address.

    An address that has a cabinet already gets word of that instead of a link, and the
    caller the same answer as for a free one: changeEmail tells no one which addresses
    have cabinets. Every call that gets this far counts against the mail budget."""
    address = normalize_email(new_email, field="newEmail")
    if address == cabinet.email:
        raise RuleError(AuthError.SAME_EMAIL, "newEmail")
    if not await _guess_password(cabinet.email, password or "", client, cabinet, device):
        raise RuleError(AuthError.WRONG_PASSWORD, "password")
    await charge_mail_budget(cabinet.id)
    taken = await Cabinet.filter(email=address).exists()
    async with in_transaction():
        await tokens.void_outstanding(cabinet.id, (TokenPurpose.CHANGE_EMAIL,))
        if taken:
            await notify_address(address, cabinet.language, "email_taken")
        else:
            await mail_link(cabinet, TokenPurpose.CHANGE_EMAIL, "email_change_confirm", to=address)
        await notify(cabinet, "email_change_requested", new_email=mask_email(address))
        await audit.record(
            cabinet.id, SecurityEventKind.EMAIL_CHANGE_REQUESTED, client, mask_email(address)
        )
    return address


async def set_mail_language(cabinet: Cabinet, language: str) -> Cabinet:
    """The language of every e-mail (and push) to the cabinet from now on: ru or en."""
    value = (language or "").strip().lower()
    if value not in LANGUAGES:
        raise RuleError(AuthError.UNSUPPORTED_LANGUAGE, "language")
    if cabinet.language != value:
        cabinet.language = value
        await cabinet.save(update_fields=["language"])
    return cabinet
