"""Why a question, a message in it, or a photo for it was refused."""

from __future__ import annotations

from services.core.errors import ErrorCode, Sentence, code


class QuestionError(ErrorCode):
    SUBJECT_REQUIRED = code(
        "The subject is empty.",
        Sentence(ru="Укажите тему вопроса.", en="Enter the subject of your question."),
    )
    SUBJECT_TOO_LONG = code(
        "The subject is longer than allowed (the message gives the limit).",
        Sentence(
            ru="Тема слишком длинная: не больше {max} символов.",
            en="The subject is too long: at most {max} characters.",
        ),
    )
    BODY_REQUIRED = code(
        "The text of the message is empty.",
        Sentence(ru="Напишите текст сообщения.", en="Write the text of your message."),
    )
    BODY_TOO_LONG = code(
        "The text of the message is longer than allowed (the message gives the limit).",
        Sentence(
            ru="Сообщение слишком длинное: не больше {max} символов.",
            en="The message is too long: at most {max} characters.",
        ),
    )
    ACCOUNT_NOT_FOUND = code(
        "`accountId` names no account of the viewer's cabinet.",
        Sentence(
            ru="Такого лицевого счёта нет в вашем кабинете.",
            en="There is no such account in your cabinet.",
        ),
    )
    QUESTION_CLOSED = code(
        "The question is closed: nobody can write to it any more; ask a new one.",
        Sentence(
            ru="Вопрос закрыт. Если нужна помощь, задайте новый вопрос.",
            en="This question is closed. If you need help, ask a new question.",
        ),
    )
    TOO_MANY_MESSAGES = code(
        "The cabinet has sent as many messages as a day allows: `retryAfter` says when the "
        "next is accepted.",
        Sentence(
            ru="Вы отправили много сообщений за сутки. Следующее можно отправить после "
            "{retry_after}.",
            en="You have sent many messages today. You can send the next one after {retry_after}.",
        ),
    )
    ATTACHMENT_NOT_FOUND = code(
        "An id of `attachmentIds` names no photo the viewer uploaded and has not sent yet "
        "(unknown, sent with another message, or deleted unsent): upload it again.",
        Sentence(
            ru="Фотография не найдена: загрузите её ещё раз.",
            en="The photo was not found: upload it again.",
        ),
    )
    TOO_MANY_ATTACHMENTS = code(
        "More photos than one message may carry.",
        Sentence(
            ru="К одному сообщению можно приложить не больше {limit} фотографий.",
            en="A message can carry at most {limit} photos.",
        ),
    )
    ATTACHMENT_TOO_LARGE = code(
        "The uploaded photo is larger than allowed.",
        Sentence(
            ru="Фотография слишком большая: не больше {max_mb} МБ.",
            en="The photo is too large: at most {max_mb} MB.",
        ),
    )
    ATTACHMENT_NOT_IMAGE = code(
        "The upload is not a JPEG or PNG picture.",
        Sentence(
            ru="Это не фотография: приложите снимок в формате JPEG или PNG.",
            en="This is not a photo: attach a JPEG or PNG picture.",
        ),
    )
    ATTACHMENT_TOO_MANY_PIXELS = code(
        "The photo has more pixels than allowed (ATTACHMENT_MAX_PIXELS, read from its header): "
        "send a smaller one, as phones do when sharing.",
        Sentence(
            ru="Фотография слишком большая: не больше {megapixels} мегапикселей. "
            "Уменьшите её и приложите снова.",
            en="The photo is too big: at most {megapixels} megapixels. Make it smaller and "
            "attach it again.",
        ),
    )
    TOO_MANY_REJECTED_ATTACHMENTS = code(
        "The cabinet sent too many uploads that were refused in the last hour: uploads are "
        "refused until `retryAfter`.",
        Sentence(
            ru="Слишком много неудачных загрузок. Попробуйте позже.",
            en="Too many failed uploads. Try again later.",
        ),
    )
    ATTACHMENT_QUEUE_FULL = code(
        "The server is checking as many photos as it can at the moment: send it again shortly.",
        Sentence(
            ru="Сейчас загружается слишком много фотографий. Попробуйте через минуту.",
            en="Too many photos are being uploaded right now. Try again in a minute.",
        ),
    )
    TOO_MANY_PENDING_ATTACHMENTS = code(
        "The cabinet has as many uploaded photos not yet sent with a message as it may keep.",
        Sentence(
            ru="Загружено {limit} фотографий, которые ещё не отправлены. Отправьте их с "
            "вопросом: неотправленные удаляются через {hours} ч.",
            en="{limit} uploaded photos have not been sent yet. Send them with a question: "
            "unsent ones are deleted after {hours} h.",
        ),
    )
