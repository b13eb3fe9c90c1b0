from tests.slack.conftest import Person


async def test_a_dm_starts_a_conversation(person: Person) -> None:
    """A DM to the bot gets the greeting and the first question, with its metadata."""
    message = await person.says("こんにちは")
    assert "新規ユーザー登録" in message["text"]
    assert message["metadata"] == {
        "event_type": "regbot_prompt",
        "event_payload": {"awaiting": "family_name"},
    }
