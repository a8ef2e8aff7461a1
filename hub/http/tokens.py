"""Bearer tokens for the referent API: made here, stored nowhere but as a hash.

The configuration holds only ``token_sha256`` (the hex SHA-256 of a contact's token),
so a copied configuration file or a backup gives nobody access to the API. A token is
shown once, when it is made, and handed to its contact; a lost token is replaced, not
recovered.

Tokens are 32 random bytes (256 bits), so a plain SHA-256 is enough: there is nothing
to brute-force that a slow password hash would protect. They start with ``ecrin_`` so
that a token pasted into the wrong place (a ticket, a chat) is easy to recognise and
revoke.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import TextIO

from hub.escalation.model import Contact

__all__ = [
    "MAX_TOKEN_LENGTH",
    "TOKEN_PREFIX",
    "find_contact",
    "hash_token",
    "is_token_sha256",
    "is_wellformed_token",
    "new_token",
    "token_new_main",
]

#: Every token the hub makes starts with this.
TOKEN_PREFIX = "ecrin_"

#: What RFC 6750 allows in a bearer token (``b64token``); anything else is malformed.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CONTACT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

#: Longer presented tokens are refused before hashing: no legitimate token is that long.
MAX_TOKEN_LENGTH = 256


def new_token() -> str:
    """A fresh random token (URL-safe base64 of 32 random bytes, with the prefix)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``, as written to the configuration."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_sha256(value: str) -> bool:
    """True for 64 lowercase hex digits, the only form ``token_sha256`` takes."""
    return _SHA256_HEX.fullmatch(value) is not None


def is_wellformed_token(token: str) -> bool:
    """True when ``token`` could be a bearer token at all (RFC 6750 syntax, sane length)."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH and _B64TOKEN.fullmatch(token) is not None


def find_contact(token: str, contacts: Iterable[Contact]) -> Contact | None:
    """The contact whose ``token_sha256`` matches ``token``, or None.

    Every contact's hash is compared with ``hmac.compare_digest`` and the loop never
    stops early, so the time taken does not tell an attacker how close a guess was nor
    which contact it nearly matched.
    """
    presented = hash_token(token).encode("ascii")
    found: Contact | None = None
    for contact in contacts:
        stored = contact.token_sha256
        if not stored:
            continue
        if hmac.compare_digest(presented, stored.strip().lower().encode("ascii", "replace")):
            found = contact
    return found


def token_new_main(contact_id: str, out: TextIO) -> int:
    """``ecrin token new CONTACT``: print a new token once, and the line for the config.

    Args:
        contact_id: the id of the contact the token is for (only printed, to make the
            paste target obvious; the hub matches tokens by hash, not by id).
        out: where to print (standard output for the CLI).

    Returns:
        The process exit status: 0, or 2 when ``contact_id`` is not a valid id.
    """
    if _CONTACT_ID.fullmatch(contact_id) is None:
        out.write(
            f"error: {contact_id!r} is not a contact id "
            "(letters, digits, '_', '.', '-'; at most 64 characters)\n"
        )
        return 2
    token = new_token()
    out.write(
        f"New API token for contact {contact_id!r}. It is shown once: give it to the\n"
        "contact by a safe channel and keep no other copy.\n"
        "\n"
        f"    {token}\n"
        "\n"
        f"Paste this line under the contact {contact_id!r} in the configuration\n"
        "(it replaces any previous token_sha256, which stops working on reload):\n"
        "\n"
        f"    token_sha256: {hash_token(token)}\n"
    )
    return 0
