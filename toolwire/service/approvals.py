"""A person's decision on a tool call that needed approval: the call's run goes on through the
pipeline (``Engine.aresume``), then its message is finished with the answer.

One function, ``decide``, serves ``POST /tool-calls/{id}/approve|reject`` and
``toolwire approvals approve|reject``. The stored turn is rebuilt as the ``Run`` it left (its
prompt and its calls), with the interaction's earlier turns as history, and the pipeline goes
on with it, as pydantic-ai's deferred tool results do: an approved call runs through the
pipeline's execute step (the same dispatch, journal and snippet as any call), a refused one is
settled ``rejected``, and the pipeline's answer step words the outcome (the same templates,
model, history and grounding guard as any run). There is no second way to run or describe a
call.

The decision is claimed in the database (``pending_approval`` → ``approved``/``rejected`` in
one conditional update): a refusal before the run goes on, an approval as the call's journal
entry, the moment before it runs (``ApprovalJournal.begin``). So of two people deciding at
once exactly one wins and the tool runs at most once; the other gets a 409. A process that
dies while an approved call runs leaves it ``approved``; the processor's sweep ends it as
``interrupted`` (never run again) and finishes its message (``data.interrupt_stale_approvals``,
``finish_if_decided``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from toolwire.messages import Message as ChatMessage
from toolwire.pipeline import WAITING
from toolwire.run import CallResult, Decision, Event, Executed, ExecutionResult, Run
from toolwire.service.context import fit_to_context, run_overrides
from toolwire.service.engines import Engines
from toolwire.service.errors import Conflict, NotFound
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.history import load_history
from toolwire.store.tables import Message, ToolCall

if TYPE_CHECKING:
    from toolwire.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decided:
    """The call after the decision, and where its message stands."""

    record: data.CallRecord
    message_status: str
    answer: str


async def decide(
    *,
    database: Database,
    engines: Engines,
    call_id: uuid.UUID,
    approve: bool,
    by: str,
    reason: str | None = None,
    owner: str | None = None,
    describe: bool = True,
) -> Decided:
    """Approve (run) or reject the waiting call ``call_id`` and go on with its run; 404 for
    an unknown id (or another owner's), 409 for a call that is not waiting. The run goes on
    with the engine of its interaction's model and settings; ``describe=False`` states the
    outcome without asking the model (the CLI)."""
    record = await database.read(lambda s: data.get_call(session=s, call_id=call_id, owner=owner))
    if record is None:
        raise NotFound("not_found", f"no tool call {call_id}")
    if record.call.status != "pending_approval":
        raise _not_waiting(call_id, record.call.status)
    turn = await _load(database, engines, record.reply, describe=describe)
    now = next((row.status for row in turn.calls if row.id == call_id), "gone")
    if now != "pending_approval":  # decided since: the claim below settles any later race
        raise _not_waiting(call_id, now)
    if not approve and not await database.write(lambda s: data.decide_call(
            session=s, call_id=call_id, decision="rejected", by=by, reason=reason)):
        raise _not_waiting(call_id, await _status(database, call_id))
    journal = ApprovalJournal(database=database, by=by, reason=reason)
    decision = Decision(approved=approve, message=data.rejection(by, reason))
    try:
        run = await turn.engine.aresume(
            turn.run(), {str(call_id): decision}, history=turn.history, journal=journal,
            on_event=journal.on_event, overrides=turn.overrides,
        )
    finally:
        await asyncio.shield(journal.settled())
    status, answer = await _finish(database, turn, record.reply, answered=run)
    decided = await database.read(lambda s: data.get_call(session=s, call_id=call_id, owner=owner))
    assert decided is not None
    return Decided(record=decided, message_status=status, answer=answer)


async def finish_if_decided(
    *, database: Database, engines: Engines, reply: Message
) -> tuple[str, str]:
    """Answer the message of ``reply`` through the pipeline's answer step once none of its
    calls waits any more (for a decision, or for an approved call to return); (its status,
    its answer)."""
    turn = await _load(database, engines, reply, describe=True)
    return await _finish(database, turn, reply, answered=None)


class ApprovalJournal:
    """The journal (``toolwire.run.Journal``) of a run that goes on after a decision: an
    approved call's entry is the decision itself, claimed the moment before the call runs,
    and its outcome is stored as soon as the pipeline reports it (``Executed``)."""

    def __init__(self, *, database: Database, by: str, reason: str | None) -> None:
        self.database = database
        self.by = by
        self.reason = reason
        self._begun: set[str] = set()
        self._writes: list[asyncio.Task[None]] = []

    def recorded(self, key: str) -> ExecutionResult | None:
        """Nothing: a call that waited for a decision has no outcome before it."""
        return None

    async def begin(self, call: CallResult) -> None:
        """Claim the decision (``pending_approval`` → ``approved``); ``Conflict`` when
        another decision came first: the call does not run."""
        row_id = uuid.UUID(call.id)
        won = await self.database.write(lambda s: data.decide_call(
            session=s, call_id=row_id, decision="approved", by=self.by, reason=self.reason))
        if not won:
            raise _not_waiting(row_id, await _status(self.database, row_id))
        self._begun.add(call.id)

    def on_event(self, event: Event) -> None:
        """Store the outcome of each call this journal began."""
        if isinstance(event, Executed) and event.call.id in self._begun:
            self._writes.append(asyncio.ensure_future(self._settle(event.call)))

    async def settled(self) -> None:
        """Wait until every outcome reported so far is stored."""
        await asyncio.gather(*self._writes)

    async def _settle(self, call: CallResult) -> None:
        row_id = uuid.UUID(call.id)
        if not await self.database.write(
                lambda s: data.settle_call(session=s, call_id=row_id, call=call)):
            log.warning("approved call %s finished after the sweep ended it as interrupted; "
                        "the interrupted record stands", row_id)


@dataclass(kw_only=True)
class _Turn:
    """A stored turn that waited for approval, ready to go on: the engine and settings of its
    interaction, the turns before it, its prompt and its calls."""

    engine: Engine
    overrides: dict[str, Any]
    history: list[ChatMessage]
    prompt: str
    calls: list[ToolCall]

    def run(self) -> Run:
        """The run the turn left: its calls by stored id (a decision names the stored call)."""
        return Run(prompt=self.prompt, calls=[_as_result(row) for row in self.calls],
                   candidates=list(dict.fromkeys(row.name for row in self.calls)),
                   model=self.engine.model.name)


async def _load(database: Database, engines: Engines, reply: Message, *, describe: bool) -> _Turn:
    def read(session: Session) -> tuple[Any, Message | None, list[ChatMessage], list[ToolCall]]:
        interaction = data.get_interaction(session=session, interaction_id=reply.interaction_id)
        prompt = (data.get_message(session=session, message_id=reply.reply_to_id)
                  if reply.reply_to_id else None)
        history = [] if prompt is None else load_history(  # cut below to the model's window
            session=session, interaction_id=reply.interaction_id, before=prompt, max_tokens=None)
        return interaction, prompt, history, _calls(session, reply)

    interaction, prompt, stored, calls = await database.read(read)
    engine = await engines.aget(interaction.model if interaction else None)
    overrides = run_overrides(interaction.settings if interaction else {})
    if not describe:
        overrides["describe"] = False
    question = prompt.content if prompt else ""
    return _Turn(engine=engine, overrides=overrides, prompt=question, calls=calls,
                 history=fit_to_context(engine, stored, question=question, overrides=overrides))


async def _finish(
    database: Database, turn: _Turn, reply: Message, *, answered: Run | None
) -> tuple[str, str]:
    """Store the answer once no call of ``reply`` waits: ``answered``'s, when the stored calls
    are still as that run left them, else the answer step's for the calls as stored (another
    decision, or the sweep, came in between)."""
    turn.calls = await database.read(lambda s: _calls(s, reply))
    if any(row.status in WAITING for row in turn.calls):
        return "awaiting_approval", reply.content
    run = turn.run()
    if answered is None or _outcomes(answered) != _outcomes(run):
        answered = await turn.engine.aresume(run, {}, history=turn.history,
                                             overrides=turn.overrides)
    answer = answered.answer
    await database.write(lambda s: data.finish_decided(session=s, reply=reply, answer=answer))
    return "done", answer


def _calls(session: Session, reply: Message) -> list[ToolCall]:
    return data.list_tool_calls(session=session, message_ids=[reply.id])[reply.id]


def _outcomes(run: Run) -> list[tuple[str, str]]:
    return [(call.id, call.status) for call in run.calls]


async def _status(database: Database, call_id: uuid.UUID) -> str:
    row = await database.read(lambda s: s.get(ToolCall, call_id))
    return row.status if row is not None else "gone"


def _not_waiting(call_id: uuid.UUID, status: str) -> Conflict:
    return Conflict("conflict", f"tool call {call_id} is {status}, not waiting for approval")


def _as_result(row: ToolCall) -> CallResult:
    return CallResult(id=str(row.id), name=row.name, arguments=dict(row.arguments),
                      status=row.status,  # type: ignore[arg-type]
                      result=row.result, error=row.error, snippet=row.snippet,
                      duration_ms=row.duration_ms, idempotency_key=row.idempotency_key or "")
