"""Earlier turns of an interaction as chat messages: the context of the next prompt.

A finished turn becomes ``user`` → (``assistant`` with tool calls → one ``tool`` message per
result) → ``assistant`` answer. Turns that failed or are still running are left out, so
a model never sees half a turn.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from sqlmodel import Session

from toolwire.messages import Message as ChatMessage
from toolwire.messages import ToolCallRequest
from toolwire.store import data
from toolwire.store.tables import Message, ToolCall

MAX_TURNS = 20
"""Earlier turns read at most: a long interaction costs the same per prompt as a short one."""
MAX_CHARS = 12_000
"""Characters of earlier turns a model is sent at most (about 3,000 tokens, within the
embedded model's context beside the tools and the prompt); older turns are left out first."""


def load_history(
    *, session: Session, interaction_id: uuid.UUID, before: Message,
    max_turns: int = MAX_TURNS, max_chars: int = MAX_CHARS,
) -> list[ChatMessage]:
    """The chat history preceding the user message ``before`` (system prompt first): the
    latest finished turns that fit in ``max_chars``."""
    interaction = data.get_interaction(session=session, interaction_id=interaction_id)
    history: list[ChatMessage] = []
    if interaction is not None and interaction.system_prompt:
        history.append(ChatMessage(role="system", content=interaction.system_prompt))
    prompts = data.recent_prompts(session=session, interaction_id=interaction_id,
                                  before=before, limit=max_turns)
    replies = data.finished_replies(session=session, prompt_ids=[m.id for m in prompts])
    turns = [m for m in prompts if m.id in replies]
    calls = data.list_tool_calls(session=session, message_ids=[replies[m.id].id for m in turns])
    kept: list[list[ChatMessage]] = []
    budget = max_chars
    for prompt in reversed(turns):
        turn = turn_messages(prompt, replies[prompt.id], calls[replies[prompt.id].id])
        budget -= sum(len(m.content or "") + len(str(m.tool_calls or "")) for m in turn)
        if budget < 0:
            break
        kept.append(turn)
    for turn in reversed(kept):
        history.extend(turn)
    return history


def turn_messages(prompt: Message, reply: Message, calls: Sequence[ToolCall]) -> list[ChatMessage]:
    """One finished turn as chat messages."""
    turn = [ChatMessage(role="user", content=prompt.content)]
    if calls:
        requests = [ToolCallRequest(id=c.call_id, name=c.name, arguments=c.arguments) for c in calls]
        turn.append(ChatMessage(role="assistant", tool_calls=requests))
        turn.extend(
            ChatMessage(role="tool", content=_tool_content(c), tool_call_id=c.call_id, name=c.name)
            for c in calls
        )
    turn.append(ChatMessage(role="assistant", content=reply.content))
    return turn


def _tool_content(call: ToolCall) -> str:
    payload = {"error": call.error} if call.error else {"result": call.result}
    return json.dumps(payload, ensure_ascii=False)
