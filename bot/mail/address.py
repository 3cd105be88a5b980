"""E-mail addresses as people type them in a member list."""

from __future__ import annotations

import re

MAX_ADDRESS = 254  # RFC 5321: a path holds at most 256 octets, brackets included
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def address_problem(text: str) -> str | None:
    """Why `text` is not an address achtje can send to, or None when it is one.

    Only plain ASCII addresses of the form local@domain.tld are taken (no display name, no
    quoted local part, no IP literal): what a school's mail server hands out, and nothing
    that could smuggle a header line or a second recipient into a mail."""
    if len(text) > MAX_ADDRESS:
        return f"an e-mail address has at most {MAX_ADDRESS} characters"
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return f"{text!r} is not an e-mail address (name@school.nl)"
    if len(local) > 64 or not _LOCAL.match(local):
        return f"{text!r}: the part before @ has characters an address cannot have"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) \
            or labels[-1].isdigit():
        return f"{text!r}: {domain!r} is not a mail domain (school.nl)"
    return None


def clean_address(text: str) -> str:
    """The address as stored: without surrounding spaces, the domain in lower case."""
    local, _, domain = text.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else text.strip()
