"""Text that goes into SQL the project builds in Python."""
from __future__ import annotations


def literal(value: str) -> str:
    """A SQL string literal, single quotes doubled: a path with an apostrophe stays one literal."""
    return "'" + value.replace("'", "''") + "'"
