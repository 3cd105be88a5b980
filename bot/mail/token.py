"""The one-click unsubscribe link's token: the member's id, signed with ACHTJE_SECRET_KEY.

HMAC-SHA256 over a purpose string and the id, so a token made for this link cannot be
taken from or for anything else, and nobody can make one for another member without the
key. A token carries no expiry: RFC 8058 wants the link to keep working in an old mail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = b"achtje mail unsubscribe v1\x00"


def _mac(secret: str, member_id: int) -> str:
    digest = hmac.new(secret.encode(), PURPOSE + str(member_id).encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:20]).decode().rstrip("=")


def unsubscribe_token(secret: str, member_id: int) -> str:
    """`<id>.<mac>`: safe in a URL path."""
    return f"{member_id}.{_mac(secret, member_id)}"


def member_of_token(secret: str, token: str) -> int | None:
    """The member id a genuine token names; None for anything forged or malformed."""
    given_id, dot, mac = token.partition(".")
    if not dot or not given_id.isdigit() or len(given_id) > 18:
        return None
    member_id = int(given_id)
    if not hmac.compare_digest(mac.encode(), _mac(secret, member_id).encode()):
        return None
    return member_id
