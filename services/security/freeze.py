"""\"This wasn't me\" after the fact (SECURITY.md 21): every security notice to the old
address carries a link (FREEZE_LINK_DAYS) that freezes the cabinet. Frozen, every session
ends, login, recovery and password reset answer CABINET_FROZEN, held changes are canceled,
and a question with the cabinet's security log waits for the specialists, who lift it
(`kabinet cabinet unfreeze EMAIL`, `unfreezeCabinet`) once they have checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from config import get_settings
from models.auth import HoldState, ProofHold, SecurityEvent, SecurityEventKind, TokenPurpose
from models.cabinets import Cabinet, Role
from models.questions import MessageAuthor, Question, QuestionMessage, QuestionStatus, QuestionTopic
from services.core import tokens
from services.core.clock import now
from services.core.emails import mask_email
from services.core.errors import CoreError, RuleError
from services.security import audit, sessions
from services.security.sessions import Client

QUESTION_SUBJECT = "Кабинет заморожен владельцем («это был не я»)"


async def issue_link(cabinet_id: int, to: str) -> str:
    """A freeze token for a notice to `to`; call inside the notice's transaction."""
    lifetime = dt.timedelta(days=get_settings().freeze_link_days)
    issued = await tokens.issue(cabinet_id, TokenPurpose.FREEZE, lifetime, email=to)
    return issued.token


@dataclass(frozen=True)
class Frozen:
    masked_email: str  # the address the notice went to
    already: bool  # it was frozen before this link


async def describe(token: str) -> Frozen:
    """What the link would freeze, for the confirmation page (a GET never acts)."""
    row = await tokens.peek(token, (TokenPurpose.FREEZE,))
    cabinet = await Cabinet.get(id=row.cabinet_id)  # type: ignore[attr-defined]
    return Frozen(mask_email(row.email), cabinet.frozen_at is not None)


async def freeze(token: str, client: Client) -> Frozen:
    """Freeze the cabinet of a link, at once and atomically."""
    row = await tokens.peek(token, (TokenPurpose.FREEZE,))
    async with in_transaction():
        await tokens.consume(token, (TokenPurpose.FREEZE,))
        cabinet = await Cabinet.filter(id=row.cabinet_id).select_for_update().get()  # type: ignore[attr-defined]
        if cabinet.frozen_at is not None:
            return Frozen(mask_email(row.email), True)
        moment = now()
        cabinet.frozen_at = moment
        await cabinet.save(update_fields=["frozen_at", "updated_at"])
        await sessions.revoke_all(cabinet.id)
        await tokens.void_outstanding(cabinet.id)
        await ProofHold.filter(cabinet_id=cabinet.id, state=HoldState.HELD).update(
            state=HoldState.CANCELED, outcome="frozen", done_at=moment
        )
        await audit.record(cabinet.id, SecurityEventKind.FROZEN, client, mask_email(row.email))
        await _open_question(cabinet, row.email, moment)
    return Frozen(mask_email(row.email), False)


async def _open_question(cabinet: Cabinet, reported_by: str, moment: dt.datetime) -> None:
    """A question in the specialists' queue, written by the system on the owner's
    behalf, with the cabinet's security log as its message."""
    zone = ZoneInfo(get_settings().timezone)
    events = await SecurityEvent.filter(cabinet_id=cabinet.id).order_by("-created_at", "-id")
    lines = [
        f"Владелец кабинета нажал «это был не я» в уведомлении на адрес {reported_by}. "
        "Кабинет заморожен: все сеансы завершены, вход и восстановление закрыты. Проверьте "
        "журнал, свяжитесь с владельцем и снимите заморозку: kabinet cabinet unfreeze EMAIL.",
        "",
        "Журнал безопасности (новые сверху):",
    ]
    for event in events[:200]:
        at = event.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{at} {event.kind} {event.detail} ip={event.ip} ua={event.user_agent}")
    question = await Question.create(
        cabinet_id=cabinet.id,
        topic=QuestionTopic.OTHER,
        subject=QUESTION_SUBJECT,
        status=QuestionStatus.OPEN,
        created_at=moment,
        updated_at=moment,
        waiting_since=moment,
    )
    await QuestionMessage.create(
        question_id=question.id,
        author_kind=MessageAuthor.CUSTOMER,
        author_id=cabinet.id,
        body="\n".join(lines)[:20000],
        created_at=moment,
    )


async def unfreeze(cabinet_id: int, client: Client) -> Cabinet:
    """Lift a freeze (a specialist, after checking). NOT_FOUND for no such cabinet; a
    cabinet not frozen is left as it is."""
    async with in_transaction():
        query = Cabinet.filter(id=cabinet_id, role=Role.CUSTOMER)
        cabinet = await query.select_for_update().first()
        if cabinet is None:
            raise RuleError(CoreError.NOT_FOUND, "cabinetId")
        if cabinet.frozen_at is not None:
            cabinet.frozen_at = None
            await cabinet.save(update_fields=["frozen_at", "updated_at"])
            await audit.record(cabinet.id, SecurityEventKind.UNFROZEN, client)
    return cabinet


async def unfreeze_by_email(email: str, client: Client) -> Cabinet:
    """`kabinet cabinet unfreeze EMAIL`."""
    cabinet = await Cabinet.filter(email=email.strip().lower(), role=Role.CUSTOMER).first()
    if cabinet is None:
        raise RuleError(CoreError.NOT_FOUND, "email")
    return await unfreeze(cabinet.id, client)
