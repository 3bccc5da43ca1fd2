"""Earlier turns of an interaction as chat messages: the context of the next prompt.

A finished turn becomes ``user`` → (``assistant`` with tool calls → one ``tool`` message per
result) → ``assistant`` answer. Turns that failed or are still running are left out, so
a model never sees half a turn.

History is cut to a budget of tokens (``fit_history``): the latest whole turns that fit are
kept, older ones are left out first. Tokens are estimated without a tokenizer (the embedded
model's runs in its child process): see ``estimate_tokens``.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Sequence

from sqlmodel import Session

from toolwire.messages import Message as ChatMessage
from toolwire.messages import ToolCallRequest
from toolwire.store import data
from toolwire.store.tables import Message, ToolCall

MAX_TURNS = 20
"""Earlier turns read at most: a long interaction costs the same per prompt as a short one."""
MAX_TOKENS = 1_000
"""Estimated tokens of earlier turns sent when the caller gives no budget: what the embedded
model's 2,048-token window leaves beside a short system prompt, the tools and the answer.
The API derives the budget from the model instead (``toolwire.service.context``)."""
MESSAGE_TOKENS = 8
"""Tokens a chat template adds around each message (``<|im_start|>role\n`` ... ``<|im_end|>``)."""

_PIECES = re.compile(r"\s?[A-Za-z]+|[0-9]|\s+|[^\x00-\x7f]|.", re.DOTALL)
_WORD = re.compile(r"[A-Z]?[a-z]{0,11}")


def estimate_tokens(text: str) -> int:
    """Tokens ``text`` costs at most, estimated without a tokenizer, piece by piece:

    - a word (``[A-Z]?[a-z]{1,11}``): one token per three letters, rounded up;
    - any other run of letters (capitals, mixed case, longer than 12): one per letter;
    - a digit, or any other ASCII character (punctuation): one each;
    - a non-ASCII character: one per byte of its UTF-8 encoding;
    - a whitespace character before a word: nothing (it joins the word's first token);
      any other run of whitespace: one per two characters, rounded up.

    Checked against the embedded model's tokenizer (SmolLM2, byte-level BPE), it is over the
    true count for English prose (about 1.7×), JSON (1.3×), code, digits and UUIDs (1.0-1.1×),
    accented and CJK text and emoji (1.3-1.6×) and random letters (1.2-1.6×), where a flat
    characters / 3 is under it for JSON, numbers and non-Latin text (up to 5×). A token is at
    least one byte, so no text costs more than its UTF-8 length.
    """
    tokens = 0
    for piece in _PIECES.findall(text):
        last = piece[-1]
        if last.isascii() and last.isalpha():
            word = piece.lstrip()
            tokens += math.ceil(len(word) / 3) if _WORD.fullmatch(word) else len(word)
        elif last.isspace():
            tokens += math.ceil(len(piece) / 2)
        elif not last.isascii():
            tokens += len(piece.encode("utf-8", "surrogatepass"))
        else:
            tokens += 1
    return tokens


def message_tokens(message: ChatMessage) -> int:
    """Estimated tokens of one chat message: its text, its tool calls and the template's."""
    tokens = MESSAGE_TOKENS + estimate_tokens(message.content or "")
    for call in message.tool_calls or []:
        tokens += estimate_tokens(call.name) + estimate_tokens(
            json.dumps(call.arguments, ensure_ascii=False))
    return tokens


def fit_history(messages: Sequence[ChatMessage], max_tokens: int) -> list[ChatMessage]:
    """``messages`` cut to ``max_tokens``: the leading system messages are always kept (they
    are not counted: the caller's budget is what they leave); of the rest, grouped in turns
    that each begin at a user message, the latest whole turns whose estimated tokens
    (``message_tokens``) fit, in order."""
    start = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
    turns: list[list[ChatMessage]] = []
    for message in messages[start:]:
        if message.role == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    kept: list[list[ChatMessage]] = []
    budget = max_tokens
    for turn in reversed(turns):
        budget -= sum(message_tokens(m) for m in turn)
        if budget < 0:
            break
        kept.append(turn)
    return [*messages[:start], *(m for turn in reversed(kept) for m in turn)]


def load_history(
    *, session: Session, interaction_id: uuid.UUID, before: Message,
    max_turns: int = MAX_TURNS, max_tokens: int | None = MAX_TOKENS,
) -> list[ChatMessage]:
    """The chat history preceding the user message ``before`` (system prompt first): the
    latest of ``max_turns`` finished turns that fit in ``max_tokens`` (``fit_history``;
    ``None``: all ``max_turns``, for a caller that cuts them itself)."""
    interaction = data.get_interaction(session=session, interaction_id=interaction_id)
    history: list[ChatMessage] = []
    if interaction is not None and interaction.system_prompt:
        history.append(ChatMessage(role="system", content=interaction.system_prompt))
    prompts = data.recent_prompts(session=session, interaction_id=interaction_id,
                                  before=before, limit=max_turns)
    replies = data.finished_replies(session=session, prompt_ids=[m.id for m in prompts])
    turns = [m for m in prompts if m.id in replies]
    calls = data.list_tool_calls(session=session, message_ids=[replies[m.id].id for m in turns])
    for prompt in turns:
        history.extend(turn_messages(prompt, replies[prompt.id], calls[replies[prompt.id].id]))
    return history if max_tokens is None else fit_history(history, max_tokens)


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
