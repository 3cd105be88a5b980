"""The one-click unsubscribe link of every summary mail, on the shared web server.

`GET /mail/stop/<token>` shows a page with one button (a mail scanner that follows links
must not stop anyone's mail); `POST` to the same address stops it: the button, or a mail
program's one-click request (RFC 8058: body `List-Unsubscribe=One-Click`, no cookies).
A token that is not signed with ACHTJE_SECRET_KEY, or names no member, gets 404.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.content import Content
from bot.domain import LANGS
from bot.mail.store import mail_recipient, set_mail
from bot.mail.token import member_of_token

logger = logging.getLogger(__name__)


class Unsubscribe:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], content: Content,
                 secret: str) -> None:
        self.sessions, self.content, self.secret = sessions, content, secret

    def _page(self, lang: str, title: str, body: str, status: int = 200) -> web.Response:
        page = (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(title)}</title></head>\n"
                '<body style="font-family:sans-serif;max-width:40em;margin:2em auto">\n'
                f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n")
        return web.Response(text=page, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store",
                                     "Referrer-Policy": "no-referrer"})

    def _invalid(self) -> web.Response:
        # We cannot know the person's language: Dutch first, then English.
        words = {lang: html.escape(self.content.text("mail_page_invalid", lang))
                 for lang in LANGS}
        text = "".join(f'<p lang="{lang}">{said}</p>' for lang, said in words.items())
        return self._page(LANGS[0], self.content.text("mail_page_title", LANGS[0]), text, 404)

    async def show(self, request: web.Request) -> web.Response:
        member_id = member_of_token(self.secret, request.match_info["token"])
        async with self.sessions() as session:
            found = await mail_recipient(session, member_id) if member_id else None
        if found is None:
            return self._invalid()
        lang = found.language
        ask = self.content.text("mail_page_ask", lang, partnership=found.partnership)
        button = self.content.text("mail_page_button", lang)
        form = (f"<p>{html.escape(ask)}</p>\n<form method=\"post\">"
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                f'<button type="submit">{html.escape(button)}</button></form>')
        return self._page(lang, self.content.text("mail_page_title", lang), form)

    async def stop(self, request: web.Request) -> web.Response:
        member_id = member_of_token(self.secret, request.match_info["token"])
        if member_id is None:
            return self._invalid()
        async with self.sessions() as session, session.begin():
            found = await mail_recipient(session, member_id)
            if found is None:
                return self._invalid()
            if await set_mail(session, member_id, False, datetime.now(UTC)):
                logger.info("member %s stopped the summary mail by its link", member_id)
        done = self.content.text("mail_page_done_mail_only" if found.mail_only
                                 else "mail_page_done", found.language,
                                 partnership=found.partnership)
        return self._page(found.language, self.content.text("mail_page_title", found.language),
                          f"<p>{html.escape(done)}</p>")
