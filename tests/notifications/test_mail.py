"""The mail module against a real SMTP server: what arrives is what was sent, and no server means no mail."""
from __future__ import annotations

import pytest

from app.notifications import mail
from tests.mailbox import SmtpServer, body, free_port


def test_messages_arrive_with_their_text_html_and_headers(app, smtp):
    with app.app_context():
        sent = mail.send([
            mail.message("ana@example.com", "Two new assets for Healthcare", "Hello Ana,\nsee them.",
                         html="<p>Hello Ana,</p>", headers={"List-Unsubscribe": "<https://x/u/1>"}),
            mail.message("bo@example.com", "Review due", "Hello Bo"),
        ])
    assert sent == 2
    received = smtp.mailbox.wait(2)
    ana = smtp.mailbox.to("ana@example.com")[0]
    assert ana["Subject"] == "Two new assets for Healthcare"
    assert "bridge@lumenfold.test" in ana["From"]
    assert ana["List-Unsubscribe"] == "<https://x/u/1>"
    assert "see them." in body(ana)
    assert "<p>Hello Ana,</p>" in body(ana, "html")
    assert [m["Subject"] for m in received] == ["Two new assets for Healthcare", "Review due"]


def test_without_smtp_nothing_is_sent(app):
    app.config["SMTP_URL"] = ""
    with app.app_context():
        assert not mail.configured()
        assert mail.send([mail.message("ana@example.com", "x", "y")]) == 0


def test_an_unreachable_server_is_a_mail_error_without_the_password(app):
    app.config["SMTP_URL"] = f"smtp://bridge:s3cret@127.0.0.1:{free_port()}"
    with app.app_context(), pytest.raises(mail.MailError) as caught:
        mail.send([mail.message("ana@example.com", "x", "y")])
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://host", "smtp://", "mailto:x@y"])
def test_a_malformed_url_is_refused_clearly(url):
    with pytest.raises(ValueError, match="BRIDGE_SMTP_URL"):
        mail.SmtpServer.parse(url)


def test_the_fixture_server_is_real():
    with SmtpServer() as server:
        import smtplib
        with smtplib.SMTP("127.0.0.1", server.port) as client:
            client.sendmail("a@x", ["b@y"], b"Subject: hi\r\n\r\nbody\r\n")
        assert server.mailbox.wait(1)[0]["Subject"] == "hi"
