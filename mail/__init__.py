"""Outgoing mail: templates, the transactional outbox and SMTP delivery.

The one call the flows use::

    from mail import send
    await send("notice", to="a@b.ru", context={...}, language="ru",
               attachments=[("file.pdf", "application/pdf", data)], headers={...})

It renders `mail/templates/NAME.LANG.txt|html` and writes the message to the outbox in
the caller's transaction; a worker (`mail.worker`) delivers it. See docs/operations.md, "Mail".
"""

from mail.compose import MailError
from mail.outbox import send

__all__ = ["MailError", "send"]
