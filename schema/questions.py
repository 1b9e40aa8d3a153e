"""Questions to the company's specialists: the types customers and specialists share,
the staff-only fields (FORBIDDEN to customers), and the mutations' inputs and payloads."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

import strawberry

from models import questions as models
from models.cabinets import Role
from resolvers import lists
from resolvers import questions as question_resolvers
from resolvers.context import Context
from schema.accounts import Account, After, First
from schema.enums import described_enum
from schema.errors import MutationInput, attempt, error_type
from schema.permissions import StaffOnly
from schema.relay import Connection, Node, encode_id, to_connection
from services.core.errors import CoreError
from services.questions import read_model
from services.questions.errors import QuestionError

Info = strawberry.Info[Context]
P = TypeVar("P")

QuestionTopic = described_enum(
    models.QuestionTopic,
    BILLING="Bills and charges.",
    READINGS="Meter readings.",
    PAYMENTS="Payments.",
    METER="The meter itself: faults, replacement, verification.",
    E_RECEIPT="Bills by e-mail.",
    OTHER="Anything else.",
    description="What a question is about: BILLING (bills and charges), READINGS (meter "
    "readings), PAYMENTS, METER (the meter itself: faults, replacement, verification), "
    "E_RECEIPT (bills by e-mail), OTHER.",
)
QuestionStatus = described_enum(
    models.QuestionStatus,
    OPEN="The customer waits for a specialist.",
    ANSWERED="A specialist wrote last.",
    CLOSED="Finished: nobody can write to it.",
    description="OPEN: the customer waits for a specialist. ANSWERED: a specialist wrote "
    "last. CLOSED: finished; nobody can write to it.",
)
MessageAuthor = described_enum(
    models.MessageAuthor,
    CUSTOMER="The customer who asked the question.",
    SPECIALIST="A specialist of the company.",
    description="Who wrote a message: the customer or a specialist.",
)
CabinetRole = described_enum(
    Role,
    CUSTOMER="A customer's cabinet, holding their accounts.",
    STAFF="A specialist of the company, answering customers' questions.",
    name="Role",
    description="CUSTOMER: a customer's cabinet. STAFF: a specialist of the company.",
)


AssigneeFilter = described_enum(
    read_model.AssigneeFilter,
    description="Whose questions the staff queue shows.",
    ANYONE="Every question, assigned or not.",
    ME="The questions assigned to the viewer.",
    NOBODY="The questions nobody is assigned to.",
)


@strawberry.type(
    description="A photo attached to a message. Fetch its bytes from `url` with the same "
    "session (cookie or bearer token); only the question's customer and specialists may."
)
class Attachment(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    content_type: str = strawberry.field(description="image/jpeg or image/png.")
    size: int = strawberry.field(description="Size in bytes.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    url: str = strawberry.field(description="Path of the image on this API server.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Attachment:
        id_ = encode_id("Attachment", row["id"])
        return cls(
            id=id_,
            content_type=row["content_type"],
            size=row["size"],
            width=row["width"],
            height=row["height"],
            url=f"/attachments/{id_}",
        )


@strawberry.type(name="Message", description="A message of a question.")
class Message(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    author: MessageAuthor = strawberry.field(description="The customer or a specialist.")
    author_name: str | None = strawberry.field(
        description="A specialist's display name, the only thing shown of them; null on the "
        "customer's own messages (and for a specialist without one)."
    )
    body: str = strawberry.field(description="The text.")
    created_at: dt.datetime = strawberry.field(description="When it was sent.")
    read_at: dt.datetime | None = strawberry.field(
        description="A specialist's message: when the customer read it (markQuestionRead). "
        "A customer's message: when a specialist answered it."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Message:
        return cls(
            id=encode_id("Message", row["id"]),
            author=MessageAuthor(row["author_kind"]),
            author_name=row.get("author_name") or None,
            body=row["body"],
            created_at=row["created_at"],
            read_at=row["read_at"],
            pk=row["id"],
        )

    @strawberry.field(description="Photos attached to the message (at most 3).")
    def attachments(self, info: Info) -> list[Attachment]:
        return lists.when_ready(  # type: ignore[return-value]
            question_resolvers.attachments(info, self.pk),
            lambda rows: [Attachment.from_row(row) for row in rows],
        )


@strawberry.type(description="A specialist of the company (visible to specialists only).")
class Specialist(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    email: str = strawberry.field(description="Their login.")
    display_name: str = strawberry.field(description="The name customers see.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Specialist:
        return cls(
            id=encode_id("Specialist", row["id"]),
            email=row["email"],
            display_name=row["display_name"],
        )


@strawberry.type(description="Who asked a question, for the specialist who answers it.")
class Customer(Node):
    id: strawberry.ID = strawberry.field(
        description="Opaque id of the customer for specialists (not the id of their User); "
        "pass it back as is."
    )
    email: str = strawberry.field(description="The cabinet's e-mail address.")
    language: str = strawberry.field(description="The language to answer in: ru or en.")
    frozen_at: dt.datetime | None = strawberry.field(
        default=None,
        description='When the owner froze the cabinet ("this wasn\'t me"): no login or '
        "recovery until a specialist calls unfreezeCabinet; null when it is not frozen.",
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Customer:
        return cls(
            id=encode_id("Customer", row["id"]),
            email=row["email"],
            language=row["language"],
            frozen_at=row.get("frozen_at"),
            pk=row["id"],
        )

    @strawberry.field(description="Every account the cabinet holds, with its balance.")
    async def accounts(self, info: Info) -> list[Account]:
        rows = await question_resolvers.customer_accounts(info, self.pk)
        return [Account.from_row(row) for row in rows]


@strawberry.type(description="A question a customer asked the company's specialists.")
class Question(Node):
    id: strawberry.ID = strawberry.field(description="Opaque id; pass it back as is.")
    subject: str = strawberry.field(description="The subject, one line.")
    topic: QuestionTopic = strawberry.field(description="What it is about.")
    status: QuestionStatus = strawberry.field(description="Who is expected to write next.")
    created_at: dt.datetime = strawberry.field(description="When it was asked.")
    updated_at: dt.datetime = strawberry.field(description="The last change.")
    closed_at: dt.datetime | None = strawberry.field(description="When it was closed.")
    row: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Question:
        return cls(
            id=encode_id("Question", row["id"]),
            subject=row["subject"],
            topic=QuestionTopic(row["topic"]),
            status=QuestionStatus(row["status"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            closed_at=row["closed_at"],
            row=row,
        )

    @classmethod
    def from_model(cls, question: models.Question) -> Question:
        return cls.from_row(read_model.row_of(question))

    @strawberry.field(
        description="The account the question is about; null when it is about none (or, for "
        "the customer, about an account no longer in the cabinet)."
    )
    async def account(self, info: Info) -> Account | None:
        row = await question_resolvers.account_of_question(info, self.row)
        return Account.from_row(row) if row else None

    @strawberry.field(description="The conversation, newest message first.")
    def messages(self, info: Info, first: First = 20, after: After = None) -> Connection[Message]:
        page = question_resolvers.messages(info, self.row["id"], first, after)
        return lists.when_ready(  # type: ignore[return-value]
            page, lambda page: to_connection(page, Message.from_row)
        )

    @strawberry.field(description="Specialists' messages the customer has not read yet.")
    def unread_count(self, info: Info) -> int:
        return question_resolvers.unread_count(info, self.row["id"])  # type: ignore[return-value]

    # ------------------------------------------------------------ staff only

    @strawberry.field(
        description="Specialists only: since when the customer has waited for an answer.",
        permission_classes=[StaffOnly],
    )
    def waiting_since(self) -> dt.datetime | None:
        return self.row["waiting_since"]

    @strawberry.field(
        description="Specialists only: the specialist who took the question.",
        permission_classes=[StaffOnly],
    )
    async def assignee(self, info: Info) -> Specialist | None:
        if self.row["assignee_id"] is None:
            return None
        row = await question_resolvers.person(info, self.row["assignee_id"])
        return Specialist.from_row(row) if row else None

    @strawberry.field(
        description="Specialists only: who asked, with every account of their cabinet. "
        "Asking for it (or for `account`) is written to the customer's security log as "
        "STAFF_VIEWED, at most once an hour per specialist and question.",
        permission_classes=[StaffOnly],
    )
    async def customer(self, info: Info) -> Customer | None:
        row = await question_resolvers.customer(info, self.row)
        return Customer.from_row(row) if row else None


# ---------------------------------------------------------------- inputs and payloads

TEXT_CODES = [QuestionError.BODY_REQUIRED, QuestionError.BODY_TOO_LONG]
ATTACHMENT_CODES = [
    QuestionError.ATTACHMENT_NOT_FOUND,
    QuestionError.TOO_MANY_ATTACHMENTS,
    QuestionError.TOO_MANY_MESSAGES,
]
BODY_DOC = f"The text, at most {models.BODY_MAX_CHARS} characters."
ATTACHMENTS_DOC = (
    "Ids of photos uploaded with `POST /attachments` (at most 3), not yet sent with "
    "another message."
)


@strawberry.input(description="Ask the company's specialists a question.")
class AskQuestionInput:
    topic: QuestionTopic = strawberry.field(description="What it is about.")
    subject: str = strawberry.field(
        description=f"One line, at most {models.SUBJECT_MAX_CHARS} characters."
    )
    body: str = strawberry.field(description=BODY_DOC)
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the cabinet's accounts it is about; null for none."
    )
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description=ATTACHMENTS_DOC
    )


AskQuestionError = error_type(
    "AskQuestion",
    [
        QuestionError.SUBJECT_REQUIRED,
        QuestionError.SUBJECT_TOO_LONG,
        *TEXT_CODES,
        QuestionError.ACCOUNT_NOT_FOUND,
        *ATTACHMENT_CODES,
    ],
    retryable=True,
)


@strawberry.type(description="The result of askQuestion.")
class AskQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The new question.")
    user_errors: list[AskQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Write again in one of the cabinet's questions.")
class ReplyToQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Id of the question.")
    body: str = strawberry.field(description=BODY_DOC)
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description=ATTACHMENTS_DOC
    )


ReplyToQuestionError = error_type(
    "ReplyToQuestion",
    [CoreError.NOT_FOUND, QuestionError.QUESTION_CLOSED, *TEXT_CODES, *ATTACHMENT_CODES],
    retryable=True,
)


@strawberry.type(description="The result of replyToQuestion.")
class ReplyToQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    message: Message | None = strawberry.field(default=None, description="The new message.")
    user_errors: list[ReplyToQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Name a question by its id.")
class QuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Id of the question.")


CloseQuestionError = error_type("CloseQuestion", [CoreError.NOT_FOUND])
ReopenQuestionError = error_type("ReopenQuestion", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of reopenQuestion.")
class ReopenQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    user_errors: list[ReopenQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.type(description="The result of closeQuestion.")
class CloseQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    user_errors: list[CloseQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


MarkQuestionReadError = error_type("MarkQuestionRead", [CoreError.NOT_FOUND])


@strawberry.type(description="The result of markQuestionRead.")
class MarkQuestionReadPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    unread_answers: int | None = strawberry.field(
        default=None, description="Unread answers left over all questions (the badge)."
    )
    user_errors: list[MarkQuestionReadError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="A specialist answers a question.")
class AnswerQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Id of the question.")
    body: str = strawberry.field(description=BODY_DOC)
    attachment_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Ids of photos the specialist uploaded with `POST /attachments` (at "
        "most 3), not yet sent with another message.",
    )


AnswerQuestionError = error_type(
    "AnswerQuestion",
    [
        CoreError.NOT_FOUND,
        QuestionError.QUESTION_CLOSED,
        *TEXT_CODES,
        QuestionError.ATTACHMENT_NOT_FOUND,
        QuestionError.TOO_MANY_ATTACHMENTS,
    ],
)


@strawberry.type(description="The result of answerQuestion; the customer is told by e-mail.")
class AnswerQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    message: Message | None = strawberry.field(default=None, description="The answer.")
    user_errors: list[AnswerQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


@strawberry.input(description="Give a question to a specialist.")
class AssignQuestionInput:
    question_id: strawberry.ID = strawberry.field(description="Id of the question.")
    specialist_id: strawberry.ID | None = strawberry.field(
        default=None, description="Id of a specialist (see `specialists`); null for yourself."
    )


AssignQuestionError = error_type(
    "AssignQuestion", [CoreError.NOT_FOUND, CoreError.SPECIALIST_NOT_FOUND]
)


@strawberry.type(description="The result of assignQuestion.")
class AssignQuestionPayload:
    question: Question | None = strawberry.field(default=None, description="The question.")
    user_errors: list[AssignQuestionError] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list, description="Why it was refused."
    )


# ---------------------------------------------------------------- the fields


async def question(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Its id.")]
) -> Question | None:
    row = await question_resolvers.question(info, id)
    return Question.from_row(row) if row else None


async def staff_questions(
    info: Info,
    status: Annotated[
        QuestionStatus | None,
        strawberry.argument(
            description="Only questions in this state (default OPEN: awaiting an answer); "
            "null for every state."
        ),
    ] = models.QuestionStatus.OPEN,
    topic: Annotated[
        QuestionTopic | None, strawberry.argument(description="Only questions of this topic.")
    ] = None,
    assignee: Annotated[
        AssigneeFilter, strawberry.argument(description="Everyone's, mine, or unassigned.")
    ] = AssigneeFilter.ANYONE,
    first: First = 20,
    after: After = None,
    frozen: Annotated[
        bool | None,
        strawberry.argument(
            description="true: only questions of cabinets their owner froze (\"this wasn't "
            "me\"; the system's question carries the security log), the queue to check and "
            "unfreezeCabinet; false: only of others; null: both."
        ),
    ] = None,
) -> Connection[Question]:
    """The staff queue: the customer who has waited longest first."""
    page = await question_resolvers.staff_questions(
        info, status, topic, assignee, first, after, frozen
    )
    return to_connection(page, Question.from_row)


async def specialists(info: Info) -> list[Specialist]:
    return [Specialist.from_row(row) for row in await question_resolvers.specialists(info)]


def _posted(payload: type[P], done: Any, errors: list[Any]) -> P:
    """The payload of a mutation that posts a message: the question and the message."""
    if done is None:
        return payload(user_errors=errors)  # type: ignore[call-arg]
    question, message = done
    return payload(  # type: ignore[call-arg]
        question=Question.from_model(question), message=Message.from_row(message)
    )


def _question(question: models.Question | None) -> Question | None:
    return Question.from_model(question) if question else None


async def ask_question(info: Info, input: MutationInput[AskQuestionInput]) -> AskQuestionPayload:
    asked, errors = await attempt(
        question_resolvers.ask_question(info, input), AskQuestionError, info.context.language
    )
    return AskQuestionPayload(question=_question(asked), user_errors=errors)


async def reply_to_question(
    info: Info, input: MutationInput[ReplyToQuestionInput]
) -> ReplyToQuestionPayload:
    done, errors = await attempt(
        question_resolvers.reply_to_question(info, input),
        ReplyToQuestionError,
        info.context.language,
    )
    return _posted(ReplyToQuestionPayload, done, errors)


async def close_question(info: Info, input: MutationInput[QuestionInput]) -> CloseQuestionPayload:
    closed, errors = await attempt(
        question_resolvers.close_question(info, input), CloseQuestionError, info.context.language
    )
    return CloseQuestionPayload(question=_question(closed), user_errors=errors)


async def reopen_question(info: Info, input: MutationInput[QuestionInput]) -> ReopenQuestionPayload:
    reopened, errors = await attempt(
        question_resolvers.reopen_question(info, input),
        ReopenQuestionError,
        info.context.language,
    )
    return ReopenQuestionPayload(question=_question(reopened), user_errors=errors)


async def mark_question_read(
    info: Info, input: MutationInput[QuestionInput]
) -> MarkQuestionReadPayload:
    done, errors = await attempt(
        question_resolvers.mark_question_read(info, input),
        MarkQuestionReadError,
        info.context.language,
    )
    if done is None:
        return MarkQuestionReadPayload(user_errors=errors)
    read, unread = done
    return MarkQuestionReadPayload(question=Question.from_model(read), unread_answers=unread)


async def answer_question(
    info: Info, input: MutationInput[AnswerQuestionInput]
) -> AnswerQuestionPayload:
    done, errors = await attempt(
        question_resolvers.answer_question(info, input),
        AnswerQuestionError,
        info.context.language,
    )
    return _posted(AnswerQuestionPayload, done, errors)


async def assign_question(
    info: Info, input: MutationInput[AssignQuestionInput]
) -> AssignQuestionPayload:
    assigned, errors = await attempt(
        question_resolvers.assign_question(info, input),
        AssignQuestionError,
        info.context.language,
    )
    return AssignQuestionPayload(question=_question(assigned), user_errors=errors)
