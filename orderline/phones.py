"""Phone numbers in E.164, the key that ties a customer across channels."""
from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, region: str = "IN") -> str:
    """Return `raw` (possibly `whatsapp:+91…`, spaces, dashes) as E.164, or raise InvalidPhone."""
    text = (raw or "").strip()
    for prefix in ("whatsapp:", "tel:", "sip:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix):]
    if not text or len(text) > 32:
        raise InvalidPhone(f"not a phone number: {raw!r}")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
