"""A real SMTP server on localhost (aiosmtpd) that keeps what it receives, for the mail tests."""
from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Mailbox:
    """The messages an SMTP server received, parsed, in arrival order."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append(mail)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def wait(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least `count` arrived (mail sent from another thread or process)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def body(mail: EmailMessage, subtype: str = "plain") -> str:
    """The text (or html) part of a mail, decoded."""
    part = mail.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""
