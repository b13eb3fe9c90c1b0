"""The engine's vocabulary: what comes in, what goes out, what is remembered.

Everything here is a frozen dataclass of plain values, so the adapters (Slack, mail, console) can build
and read them without knowing how the engine works, and the storage can keep `State` as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Start:
    """A person opens a conversation (DM, /regbot register, @mention, first mail, `regbot chat`).

    ``text`` is whatever came with the opening message (it may already answer questions, e.g.
    ``姓: 基金`` lines, or say 「接骨院です」).  ``channel`` is ``slack``, ``email`` or ``console``: on
    ``email`` the password is asked on the verification page instead of in the conversation.
    """

    channel: str
    text: str = ""
    lang: str = "ja"


@dataclass(frozen=True)
class Text:
    """An ordinary message typed by the person."""

    text: str


@dataclass(frozen=True)
class Choice:
    """A button or select.  ``awaiting`` is the prompt it belongs to: an old prompt's button is stale."""

    awaiting: str
    value: str


@dataclass(frozen=True)
class Secret:
    """The password and its confirmation, collected out of band (Slack modal, hidden console input).

    Never persisted: the engine validates it and hands it on in a `SetPassword` effect, once.
    """

    password: str
    confirmation: str

    def __repr__(self) -> str:
        return "Secret(***)"


@dataclass(frozen=True)
class VerificationCompleted:
    """The verification page was used: the account exists now."""


@dataclass(frozen=True)
class Remind:
    """The conversation has been idle past the reminder time."""


@dataclass(frozen=True)
class Expire:
    """The conversation has been idle past the expiry time."""


@dataclass(frozen=True)
class StaffMessage:
    """A help-desk staff member's reply in the help-desk thread, relayed to the person (SPEC §6)."""

    text: str


@dataclass(frozen=True)
class Takeover:
    """A staff member takes over: the bot stops asking until `Release` (SPEC §6)."""


@dataclass(frozen=True)
class Release:
    """The staff member hands back: the bot resumes at the current field."""


Inbound = (
    Start
    | Text
    | Choice
    | Secret
    | VerificationCompleted
    | Remind
    | Expire
    | StaffMessage
    | Takeover
    | Release
)


@dataclass(frozen=True)
class Context:
    """Facts the service looked up before the step, so the engine stays pure.

    ``registered_emails``: which of the addresses mentioned in this message already belong to an active
    account (SPEC §3.2).  ``helpdesk_available``: a help-desk channel is configured, so a person can be
    told that a member of staff has been asked; otherwise they get the portal's call centre instead.
    """

    registered_emails: frozenset[str] = frozenset()
    helpdesk_available: bool = True


# --------------------------------------------------------------------------------------------- outbound


@dataclass(frozen=True)
class Msg:
    """A catalogue key and its parameters.  A parameter may itself be a `Msg` (e.g. a field's label)."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """One button / select entry: ``value`` is what a `Choice` sends back."""

    value: str
    label: Msg


@dataclass(frozen=True)
class SummaryRow:
    label: Msg
    value: str | Msg


@dataclass(frozen=True)
class Reply:
    """One message to the person.

    ``awaiting`` is the machine-readable prompt id (SPEC §8): a field id, ``confirm`` for the summary, or
    None when the message waits for nothing.  ``secret`` asks the adapter to collect the password out of
    band (modal / hidden input / verification page).  ``summary`` repeats the 入力内容確認 rows as data so
    an adapter can lay them out (Block Kit); the ``lines`` already contain them as text.
    """

    lines: tuple[Msg, ...]
    awaiting: str | None = None
    options: tuple[Option, ...] = ()
    secret: bool = False
    progress: tuple[int, int] | None = None
    summary: tuple[SummaryRow, ...] = ()


# ---------------------------------------------------------------------------------------------- effects


@dataclass(frozen=True)
class IssueVerification:
    """OK at the summary: make a pending registration from the state's values and mail a link."""

    email: str


@dataclass(frozen=True)
class ResendVerification:
    """`再送`: a new link for the pending registration; every older link dies (手順書 ④)."""

    email: str


@dataclass(frozen=True)
class CancelVerification:
    """The person cancelled or restarted after the link was mailed: kill the pending links."""

    email: str


@dataclass(frozen=True)
class SetPassword:
    """Hash and keep this password for the pending registration.  Transient: never persist the effect."""

    password: str

    def __repr__(self) -> str:
        return "SetPassword(***)"


@dataclass(frozen=True)
class NotifyHelpdesk:
    """The person asked for a human (``reason="asked"``) or failed one field three times (``"failures"``)."""

    reason: str
    field_id: str | None
    error_key: str | None


Effect = IssueVerification | ResendVerification | CancelVerification | SetPassword | NotifyHelpdesk


# ------------------------------------------------------------------------------------------------ state


@dataclass(frozen=True)
class PendingWarning:
    """A value that is acceptable only after an explicit yes (SPEC §8)."""

    field_id: str
    value: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class State:
    """Everything the engine remembers between messages.  JSON-serialisable via `conversations.state`.

    ``phase``: ``new`` → ``asking`` (``awaiting`` names the field) → ``summary`` → ``verifying`` (link
    mailed) → ``completed``; or ``cancelled`` / ``redirected`` / ``expired``.
    ``values`` holds normalised values by field id; the password is never in it (only ``password_set``).
    ``paused``: a staff member took over; the person's messages go to the help desk, not the questions.
    """

    channel: str = "console"
    lang: str = "ja"
    phase: str = "new"
    awaiting: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    failures: Mapping[str, int] = field(default_factory=dict)
    last_error: str | None = None
    returning_to_summary: bool = False
    warning: PendingWarning | None = None
    town_choices: tuple[tuple[str, str, str], ...] = ()
    password_set: bool = False
    reminded: bool = False
    escalated: bool = False
    paused: bool = False  # a help-desk staff member has taken over


@dataclass(frozen=True)
class Step:
    """What one inbound message did: the next state, the messages to send, the effects to carry out."""

    state: State
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()
