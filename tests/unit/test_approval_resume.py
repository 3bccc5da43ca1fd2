"""A decision on a waiting call resumes its run through the pipeline (``Pipeline.resume``):
the approved call runs through the pipeline's execute step and journal, a refused one is
settled, and the pipeline's answer step words the outcome with the interaction's history,
under the same grounding guard; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from toolwire.config import Settings
from toolwire.engine import Engine
from toolwire.messages import Completion
from toolwire.models.scripted import Request, ScriptedModel
from toolwire.retrieval import ToolIndex
from toolwire.run import Answered, CallResult, Decision, Event, Executed, Run
from toolwire.service.approvals import ApprovalJournal, decide
from toolwire.service.engines import Engines
from toolwire.service.errors import Conflict
from toolwire.store import data
from toolwire.store.db import Database
from toolwire.store.tables import InteractionCreate, Message, ToolCall
from toolwire.store.types import utcnow
from toolwire.tools import Registry

LEASE = data.Lease(owner="test-process", seconds=30)
SENT: list[tuple[str, float]] = []
PAID: list[str] = []
ON_SEND: list[Callable[[], None]] = []


def send_money(to: str, amount: float) -> str:
    """Send money to a person.

    Args:
        to: who gets it
        amount: how much, in euros
    """
    for hook in ON_SEND:
        hook()
    SENT.append((to, amount))
    return "sent"


def pay_bill(bill: str) -> str:
    """Pay a bill.

    Args:
        bill: which bill
    """
    PAID.append(bill)
    return "paid"


@dataclass
class Clerk:
    """The scripted model: says ``says`` to every request and keeps what it was asked."""

    says: str = "I sent Ann the 20 euros."
    requests: list[Request] = field(default_factory=list)

    def __call__(self, request: Request) -> Completion:
        self.requests.append(request)
        return Completion(text=self.says)


@dataclass
class Desk:
    database: Database
    engines: Engines
    clerk: Clerk
    interaction_id: uuid.UUID


@pytest.fixture
def desk(database: Database) -> Iterator[Desk]:
    SENT.clear()
    PAID.clear()
    ON_SEND.clear()
    registry = Registry()
    registry.use_index(ToolIndex(embedder=None))
    registry.register(send_money, requires_approval=True)
    registry.register(pay_bill, requires_approval=True, answer="The {bill} bill is paid.")
    clerk = Clerk()
    engine = Engine(registry, model=ScriptedModel(clerk), settings=Settings())
    with database.write_session() as s:
        interaction = data.create_interaction(session=s, interaction_in=InteractionCreate())
    yield Desk(database=database, engines=Engines(settings=Settings(), engine=engine),
               clerk=clerk, interaction_id=interaction.id)
    ON_SEND.clear()


def turn(desk: Desk, prompt: str, answer: str, *calls: CallResult) -> list[uuid.UUID]:
    """Store a finished turn (its calls as the pipeline left them); the calls' row ids."""
    with desk.database.write_session() as s:
        message = data.add_user_message(session=s, interaction_id=desk.interaction_id,
                                        content=prompt, lease=LEASE)
        reply = data.open_reply(session=s, message=message)
        rows = [data.add_tool_call(session=s, message_id=reply.id, call=c) for c in calls]
        data.finish_message(session=s, message=message, reply=reply,
                            run=Run(prompt=prompt, calls=list(calls), answer=answer))
        return [row.id for row in rows]


def waiting(name: str, **arguments: object) -> CallResult:
    return CallResult(id=f"call_{uuid.uuid4().hex[:6]}", name=name, arguments=dict(arguments),
                      status="pending_approval", idempotency_key=uuid.uuid4().hex)


def send_ann() -> CallResult:
    return waiting("send_money", to="Ann", amount=20)


def reply_of(desk: Desk, call_id: uuid.UUID) -> Message:
    with desk.database.session() as s:
        row = s.get(ToolCall, call_id)
        assert row is not None
        reply = s.get(Message, row.message_id)
        assert reply is not None
        return reply


async def approve(desk: Desk, call_id: uuid.UUID, by: str = "ann") -> str:
    decided = await decide(database=desk.database, engines=desk.engines, call_id=call_id,
                           approve=True, by=by)
    return decided.answer


async def test_the_approved_answer_is_written_with_the_interactions_history(desk: Desk) -> None:
    turn(desk, "I owe Ann 20 euros for the concert tickets", "Noted: you owe Ann 20 euros.")
    [call_id] = turn(desk, "send her the money", "waiting", send_ann())

    answer = await approve(desk, call_id)

    assert SENT == [("Ann", 20)] and answer == "I sent Ann the 20 euros."
    [request] = desk.clerk.requests
    said = [m.content for m in request.messages]
    assert "I owe Ann 20 euros for the concert tickets" in said
    assert "Noted: you owe Ann 20 euros." in said
    reply = reply_of(desk, call_id)
    assert reply.status == "done" and reply.content == answer


async def test_the_grounding_guard_replaces_an_approved_answer_with_an_invented_number(
    desk: Desk,
) -> None:
    turn(desk, "Ann says I owe her 25 euros", "Noted.")  # history is not a source
    [call_id] = turn(desk, "send Ann 20 euros", "waiting", send_ann())
    desk.clerk.says = "I sent Ann the 25 euros."

    answer = await approve(desk, call_id)

    assert len(desk.clerk.requests) == 1 and "25" not in answer and "Ann" in answer
    assert reply_of(desk, call_id).content == answer


async def test_an_answer_template_words_the_approved_call_as_in_any_run(desk: Desk) -> None:
    [call_id] = turn(desk, "pay the gas bill", "waiting", waiting("pay_bill", bill="gas"))
    assert await approve(desk, call_id) == "The gas bill is paid."
    assert PAID == ["gas"] and desk.clerk.requests == []  # the template, not the model


async def test_a_rejected_call_is_described_by_the_answer_step(desk: Desk) -> None:
    engine = desk.engines.get()
    call = send_ann()
    run = Run(prompt="send Ann 20 euros", calls=[call], answer="waiting")
    events: list[Event] = []
    denied = Decision(approved=False, message="rejected by bob: not today")

    resumed = await engine.aresume(run, {call.id: denied}, on_event=events.append)

    assert SENT == [] and call.status == "rejected" and desk.clerk.requests == []
    assert "was not run: it was rejected by bob: not today" in resumed.answer
    assert [type(e) for e in events] == [Executed, Answered]


async def test_a_decided_message_waits_for_its_last_call_then_answers_for_all(
    desk: Desk,
) -> None:
    gas, ann = turn(desk, "pay the gas bill and send Ann 20 euros", "waiting",
                    waiting("pay_bill", bill="gas"), send_ann())
    first = await decide(database=desk.database, engines=desk.engines, call_id=gas,
                         approve=True, by="ann")
    assert first.message_status == "awaiting_approval" and PAID == ["gas"]
    assert reply_of(desk, gas).content == "waiting"

    second = await decide(database=desk.database, engines=desk.engines, call_id=ann,
                          approve=False, by="bob", reason="not today")
    assert second.message_status == "done" and SENT == []
    assert "The gas bill is paid." in second.answer
    assert "rejected by bob: not today" in second.answer
    assert reply_of(desk, ann).content == second.answer


async def test_the_journal_lets_one_of_two_racing_approvals_run_the_call(desk: Desk) -> None:
    [call_id] = turn(desk, "send Ann 20 euros", "waiting", send_ann())
    engine = desk.engines.get()

    async def resumed(by: str) -> Run:
        call = CallResult(id=str(call_id), name="send_money", arguments={"to": "Ann", "amount": 20},
                          status="pending_approval")
        journal = ApprovalJournal(database=desk.database, by=by, reason=None)
        run = await engine.aresume(Run(prompt="send Ann 20 euros", calls=[call]),
                                   {call.id: Decision(approved=True)}, journal=journal,
                                   on_event=journal.on_event)
        await journal.settled()
        return run

    outcomes = await asyncio.gather(resumed("ann"), resumed("bob"), return_exceptions=True)

    assert SENT == [("Ann", 20)]
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Run"]
    with desk.database.session() as s:
        row = s.get(ToolCall, call_id)
        assert row is not None and row.status == "ok" and row.result == "sent"
    with pytest.raises(Conflict):
        await approve(desk, call_id, by="carol")
    assert SENT == [("Ann", 20)]


async def test_an_approved_call_the_sweep_ended_meanwhile_keeps_its_interrupted_record(
    desk: Desk,
) -> None:
    [call_id] = turn(desk, "send Ann 20 euros", "waiting", send_ann())

    def swept() -> None:  # the sweep ends the call while it runs (its process seemed dead)
        with desk.database.write_session() as s:
            data.interrupt_stale_approvals(session=s, decided_before=utcnow())

    ON_SEND.append(swept)
    answer = await approve(desk, call_id)

    assert SENT == [("Ann", 20)] and answer != desk.clerk.says  # the stored record's answer
    assert "interrupted" in answer and reply_of(desk, call_id).content == answer
    with desk.database.session() as s:
        row = s.get(ToolCall, call_id)
        assert row is not None and row.status == "error"
