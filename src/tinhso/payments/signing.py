"""The payment platform's message signature: HMAC-SHA256 over the canonical form of the
fields, hex-encoded, in the field `signature`.

The canonical form is every field except `signature`, sorted by name, written
`name=value` and joined with `&`; values are strings as sent (amounts in whole đồng, no
separators). Both sides compute it the same way, so a changed amount, order or status breaks
the signature. Plain Python, no Django."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE = "signature"


def canonical(fields: Mapping[str, object]) -> str:
    return "&".join(
        f"{name}={'' if fields[name] is None else fields[name]}"
        for name in sorted(fields)
        if name != SIGNATURE
    )


def sign(fields: Mapping[str, object], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(fields).encode(), hashlib.sha256).hexdigest()


def signed(fields: Mapping[str, object], secret: str) -> dict[str, str]:
    """The fields as strings with their signature added."""
    result = {name: "" if value is None else str(value) for name, value in fields.items()}
    result.pop(SIGNATURE, None)
    result[SIGNATURE] = sign(result, secret)
    return result


def verify(fields: Mapping[str, object], secret: str) -> bool:
    given = fields.get(SIGNATURE)
    if not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(given, sign(fields, secret))


def sign_body(body: bytes, secret: str) -> str:
    """For whole JSON documents (the daily report): HMAC-SHA256 of the raw bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_body(body: bytes, signature: str, secret: str) -> bool:
    return bool(signature) and hmac.compare_digest(signature, sign_body(body, secret))
