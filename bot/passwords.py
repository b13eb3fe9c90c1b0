"""Password hashing: Argon2id (RFC 9106's low-memory profile by default), off the event loop.

The plaintext goes from the adapter into `Passwords.hash` and nowhere else: it is never stored, logged or
put into an exception.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY


class Passwords:
    """Hashes and checks passwords with one Argon2id parameter set."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
        if self._hasher.type is not Type.ID:
            raise ValueError("passwords are hashed with Argon2id only")

    @classmethod
    def cheap(cls) -> Passwords:
        """Still Argon2id, with tiny cost parameters: for tests, where hundreds of hashes are made."""
        return cls(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID))

    async def hash(self, password: str) -> str:
        """An Argon2id hash (``$argon2id$…``), computed in a thread (it costs tens of milliseconds)."""
        return await asyncio.to_thread(self._hasher.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def is_argon2id(password_hash: str) -> bool:
    return password_hash.startswith("$argon2id$")
