"""Email through SMTP: the one module that knows how Bridge sends mail.

Configured by `BRIDGE_SMTP_URL` (config key SMTP_URL):

    smtp://host:25                      plain (a local relay)
    smtp+starttls://user:pass@host:587  STARTTLS, then login
    smtps://user:pass@host:465          TLS from the first byte

and `BRIDGE_MAIL_FROM` (MAIL_FROM). With no URL, nothing is sent and callers keep their in-app
notification only (`configured()` says which). Callers build messages with `message()` and hand
any number to `send()`, which uses one connection for all of them.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

SCHEMES = {"smtp", "smtp+starttls", "smtps"}


class MailError(Exception):
    """The SMTP server refused or could not be reached; the message says which, without the password."""


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str
    password: str

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"BRIDGE_SMTP_URL must look like smtp://host:port (one of {sorted(SCHEMES)})")
        default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        return cls(parts.scheme, parts.hostname, parts.port or default_port,
                   unquote(parts.username or ""), unquote(parts.password or ""))


def configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def sender() -> str:
    """The From address: BRIDGE_MAIL_FROM, shown with the company's name."""
    address = current_app.config.get("MAIL_FROM") or "bridge@localhost"
    return formataddr((current_app.config.get("COMPANY_NAME", "Bridge"), address))


def message(to: str, subject: str, text: str, html: str | None = None,
            headers: dict[str, str] | None = None) -> EmailMessage:
    """A mail with a plain-text body (and an HTML alternative when given)."""
    mail = EmailMessage()
    mail["From"] = sender()
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="bridge.local")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail


def send(messages: Iterable[EmailMessage]) -> int:
    """Send the messages over one connection; returns how many the server accepted (0 when no SMTP
    is configured). A server that cannot be reached raises MailError before any message is lost
    from the caller's view: callers send after their own transaction has committed."""
    batch = list(messages)
    url = current_app.config.get("SMTP_URL")
    if not url or not batch:
        return 0
    server = SmtpServer.parse(url)
    timeout = float(current_app.config.get("SMTP_TIMEOUT_S", 10))
    try:
        if server.scheme == "smtps":
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            if server.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password)
            sent = 0
            for mail in batch:
                client.send_message(mail)
                sent += 1
            return sent
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {server.host}:{server.port}: {exc.__class__.__name__}: {exc}") from exc
