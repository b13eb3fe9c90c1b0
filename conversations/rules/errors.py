"""What a rule returns or raises.

A rule is a small pure function: it takes the person's text and returns a `Normalised` value, or raises
`RuleError`.  Neither carries a sentence: both carry a message key and parameters, and the sentences live
in the catalogues (conversations/catalogue/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notice:
    """A message key and its parameters, e.g. ``Notice("email.lowercased", {"value": "a@b.jp"})``."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Normalised:
    """A value as it will be stored, with what was changed to get there.

    ``notices`` tell the person what normalising changed (全角→半角, upper→lower case, …).
    ``warning`` is set when the value is acceptable only after the person confirms it with an explicit
    yes (check digit mismatch, a phone number the numbering plan does not know, a future date).
    """

    value: str
    notices: tuple[Notice, ...] = ()
    warning: Notice | None = None


class RuleError(ValueError):
    """The person's text breaks a rule.  ``key`` names the catalogue message, ``params`` fill it in."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, Any] = params

    def __repr__(self) -> str:  # params may hold personal values: keep them out of reprs and logs
        return f"RuleError({self.key!r})"

    def __str__(self) -> str:
        return self.key
