"""A mail from the stored replies (pure): multipart/alternative with a plain-text part and
an HTML part; the HTML part and its chart are multipart/related, the chart shown inline by
`cid:`. Every text of the summary is
escaped before it goes into the HTML, so nothing a person typed becomes markup. The
`Text` replies go in as paragraphs (a line starting with "- " as a list item), an `Image`
as an inline picture with a text alternative.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.messages import Image, Reply, Text


@dataclass(frozen=True)
class Envelope:
    """Who a mail is from and to, and what goes with it besides the summary."""

    sender: str
    recipient: str
    name: str
    lang: str
    footer: str  # why, and how to stop
    unsubscribe: str  # the one-click link
    chart_alt: str
    message_id: str
    date: datetime


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _html_text(text: str) -> str:
    """Escaped, in the order written: a blank line starts a paragraph, a line starting with
    "- " is a list item, an indented line after one belongs to that item."""
    out: list[str] = []
    lines: list[str] = []  # of the paragraph being built
    items: list[str] = []  # of the list being built

    def close() -> None:
        if lines:
            out.append("<p>" + "<br>\n".join(lines) + "</p>")
            lines.clear()
        if items:
            out.append("<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items)
                       + "\n</ul>")
            items.clear()

    for line in text.split("\n"):
        if not line.strip():
            close()
        elif line.startswith("- "):
            if lines:
                close()
            items.append(html.escape(line[2:]))
        elif items and line.startswith(" "):
            items[-1] += "<br>\n" + html.escape(line.strip())
        else:
            if items:
                close()
            lines.append(html.escape(line))
    close()
    return "\n".join(out)


_URL = re.compile(r"https?://[^\s<>\"']+")


def _links(text: str) -> str:
    """The footer escaped, with its links (the unsubscribe link, the dashboard's login
    page) made clickable."""
    return _URL.sub(lambda found: f'<a href="{found.group(0)}">{found.group(0)}</a>',
                    html.escape(text, quote=False))


def build_mail(subject: str, body: Sequence[Reply], envelope: Envelope) -> EmailMessage:
    """The mail of `body` (texts and the chart), titled `subject`."""
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = envelope.sender
    message["To"] = Address(_one_line(envelope.name), addr_spec=envelope.recipient)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{envelope.unsubscribe}>"  # RFC 2369 and RFC 8058
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    plain: list[str] = []
    rich: list[str] = []
    charts: list[tuple[bytes, str]] = []
    for reply in body:
        if isinstance(reply, Text):
            plain.append(reply.text)
            rich.append(_html_text(reply.text))
        elif isinstance(reply, Image):
            cid = make_msgid("chart")
            charts.append((reply.png, cid))
            plain.append(f"[{reply.caption}]")
            rich.append(f'<p><img src="cid:{html.escape(cid[1:-1])}" width="600" '
                        f'alt="{html.escape(envelope.chart_alt)}" '
                        f'title="{html.escape(reply.caption)}"></p>')
    plain.append(f"-- \n{envelope.footer}")
    rich.append(f'<hr>\n<p style="font-size:small;color:#444">'
                f'{_links(envelope.footer).replace(chr(10), "<br>")}</p>')
    message.set_content("\n\n".join(plain) + "\n")
    page = (f'<!DOCTYPE html>\n<html lang="{html.escape(envelope.lang)}">\n<head>'
            f'<meta charset="utf-8"><title>{html.escape(subject)}</title></head>\n'
            f'<body style="font-family:sans-serif;max-width:640px">\n'
            + "\n".join(rich) + "\n</body>\n</html>\n")
    message.add_alternative(page, subtype="html")
    html_part = next(part for part in message.iter_parts()
                     if part.get_content_type() == "text/html")
    for png, cid in charts:
        html_part.add_related(png, "image", "png", cid=cid, filename="chart.png")
    message["Content-Language"] = envelope.lang  # after the parts: set_content drops it
    return message


def build_note(subject: str, text: str, sender: str, recipient: str, name: str, lang: str,
               message_id: str, date: datetime) -> EmailMessage:
    """A short plain-text mail that is no summary (the dashboard's login link): nothing to
    unsubscribe from, since it only comes when the person asks for it."""
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = sender
    message["To"] = Address(_one_line(name), addr_spec=recipient)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + "\n")
    message["Content-Language"] = lang
    return message
