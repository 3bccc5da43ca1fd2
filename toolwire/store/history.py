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


def load_history(
    *, session: Session, interaction_id: uuid.UUID, before: Message
) -> list[ChatMessage]:
    """The chat history preceding the user message ``before`` (system prompt first)."""
    interaction = data.get_interaction(session=session, interaction_id=interaction_id)
    history: list[ChatMessage] = []
    if interaction is not None and interaction.system_prompt:
        history.append(ChatMessage(role="system", content=interaction.system_prompt))
    messages = data.list_messages(session=session, interaction_id=interaction_id)
    replies = {m.reply_to_id: m for m in messages if m.role == "assistant" and m.status == "done"}
    turns = [
        m
        for m in messages
        if m.role == "user" and m.id != before.id and m.created <= before.created and m.id in replies
    ]
    calls = data.list_tool_calls(session=session, message_ids=[replies[m.id].id for m in turns])
    for prompt in turns:
        reply = replies[prompt.id]
        history.extend(turn_messages(prompt, reply, calls[reply.id]))
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
