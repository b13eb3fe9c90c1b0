from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database.open(db_url)
    try:
        yield database
    finally:
        await database.dispose()
