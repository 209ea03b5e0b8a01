"""What makes a list safe to open and to share: formula neutralising and PII masking."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# A phone number (+86 138-0000-0002, +1 (555) 010 9999): digits, spaces, dashes, dots and parentheses only, so
# nothing a spreadsheet could run (no function, no reference); left as it is rather than defaced.
_PHONE = re.compile(r"\+\d[\d .()\-]{4,}\d")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values are unchanged.

    Only text is touched: numbers (int, Decimal, float) are never strings here, and text that is just a
    number (`-12.5`) or a phone number (`+86 138 0000 0002`) is harmless and stays as it is.
    """
    if (isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)
            and not _PHONE.fullmatch(value)):
        return "'" + value
    return value


def mask_name(value: str | None) -> str | None:
    """First character of each word, the rest as '*': 王芳 -> 王*, Kevin Brown -> K**** B****."""
    if not value:
        return value
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in value.split())


def mask_phone(value: str | None) -> str | None:
    """Keep an international prefix (`+86`), the first 3 and last 4 digits of the number, mask the digits
    between: 13800000002 -> 138****0002, +86 193 3799 3817 -> +86 193 **** 3817. Short numbers keep only
    their last 2 digits."""
    if not value:
        return value
    prefix, rest = "", value
    if value.startswith("+") and " " in value:
        head, rest = value.split(" ", 1)
        prefix = head + " "
    digits = sum(ch.isdigit() for ch in rest)
    keep_head, keep_tail = (3, 4) if digits >= 8 else (0, 2)
    out, seen = [], 0
    for ch in rest:
        if ch.isdigit():
            out.append(ch if seen < keep_head or seen >= digits - keep_tail else "*")
            seen += 1
        else:
            out.append(ch)
    return prefix + "".join(out)


def mask_email(value: str | None) -> str | None:
    """First character of the local part, then ***, domain kept: wang.fang@example.cn -> w***@example.cn."""
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return local[:1] + "***"
    return local[:1] + "***@" + domain


MASKERS: dict[str, Callable[[str | None], str | None]] = {
    "name": mask_name, "phone": mask_phone, "email": mask_email,
}
