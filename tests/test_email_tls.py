"""The mail server's connection as ACHTJE_SMTP_URL says: STARTTLS with a password,
TLS from the first byte for smtps, and a password never sent unencrypted. Against aiosmtpd
on 127.0.0.1 with a certificate made here, trusted through SSL_CERT_FILE."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.email.smtp import MailServer, deliver
from bot.messages import RetryLater
from tests.smtp_fakes import Logins, smtp_server

USER, PASSWORD = "achtje@leerlab.example", "geheim:@1"
URL_LOGIN = "achtje%40leerlab.example:geheim%3A%401"


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 that clients in this test trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "Samenvatting", USER, "lea@mbo.example"
    mail.set_content("Hallo")
    return mail


async def test_smtp_with_a_password_uses_starttls(certificate: ssl.SSLContext) -> None:
    logins = Logins(USER.encode(), PASSWORD.encode())
    async with smtp_server(tls_context=certificate, require_starttls=True,
                           authenticator=logins, auth_required=True) as mailbox:
        server = MailServer.parse(f"smtp://{URL_LOGIN}@127.0.0.1:{mailbox.port}")
        await deliver(server, USER, "lea@mbo.example", message())
    assert logins.seen == [(USER.encode(), True)]
    assert [(to, m["Subject"]) for to, m in mailbox.accepted] == [
        ("lea@mbo.example", "Samenvatting")]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # it is TLS
async def test_smtps_speaks_tls_from_the_first_byte(certificate: ssl.SSLContext) -> None:
    logins = Logins(USER.encode(), PASSWORD.encode())
    async with smtp_server(implicit_tls=certificate, authenticator=logins, auth_required=True,
                           auth_require_tls=False) as mailbox:
        server = MailServer.parse(f"smtps://{URL_LOGIN}@127.0.0.1:{mailbox.port}")
        await deliver(server, USER, "lea@mbo.example", message())
    assert logins.seen == [(USER.encode(), True)]
    assert len(mailbox.accepted) == 1


async def test_a_password_is_never_sent_to_a_server_without_tls() -> None:
    logins = Logins(USER.encode(), PASSWORD.encode())
    async with smtp_server(authenticator=logins, auth_require_tls=False) as mailbox:
        server = MailServer.parse(f"smtp://{URL_LOGIN}@127.0.0.1:{mailbox.port}")
        with pytest.raises(RetryLater):
            await deliver(server, USER, "lea@mbo.example", message())
    assert logins.seen == [] and mailbox.accepted == []


async def test_a_wrong_password_waits_for_the_operator(certificate: ssl.SSLContext) -> None:
    logins = Logins(USER.encode(), b"another")
    async with smtp_server(tls_context=certificate, authenticator=logins,
                           auth_required=True) as mailbox:
        server = MailServer.parse(f"smtp://{URL_LOGIN}@127.0.0.1:{mailbox.port}")
        with pytest.raises(RetryLater, match="out of reach"):
            await deliver(server, USER, "lea@mbo.example", message())
    assert mailbox.accepted == []
