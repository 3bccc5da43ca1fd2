"""One sentence through toolwire, top to bottom:

    retrieve -> select + fill (by strategy) -> validate (errors fed back, bounded) -> execute
             -> describe

Each step emits a typed event (``toolwire.run``) so the service can persist and stream it.
A run that left calls waiting for a person's approval goes on with ``Pipeline.resume`` (the
decided calls execute, then the answer), through the same steps: there is no second path.
Strategies: ``staged`` (grammar-capable local models: choose the function, then each
argument among values the sentence holds), ``native`` (models with tool calling), ``plain``
(the baseline: one JSON-Schema-constrained answer).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from toolwire import tracing
from toolwire.answer import (
    chat_answer,
    clarify_answer,
    describe,
    echoes,
    factual_answer,
    free_answers_allowed,
    missing_answer,
    no_tool_answer,
    templated_answer,
)
from toolwire.grounding import sources, ungrounded
from toolwire.messages import Message, ToolCallRequest
from toolwire.models.base import Model, TunedModel, with_timeout
from toolwire.models.streaming import TextSink
from toolwire.models.traced import traced
from toolwire.retrieval.context import search_in_context
from toolwire.retrieval.index import Hit
from toolwire.run import (
    AnswerDelta,
    Answered,
    Attempt,
    CallProposed,
    CallResult,
    Decision,
    Event,
    EventHandler,
    Executed,
    ExecutionResult,
    Journal,
    Retrieved,
    Run,
    Selected,
    ValidationFailed,
    call_key,
)
from toolwire.strategies import (
    CLARIFY_BELOW,
    StagedRules,
    Strategy,
    StrategyName,
    Turn,
    strategy_for,
)
from toolwire.tools.dispatch import Executor, dispatch
from toolwire.tools.registry import Registry, Tool
from toolwire.tools.snippets import snippet_for


@dataclass(kw_only=True)
class EngineConfig:
    """How the pipeline decides; defaults suit the embedded model."""

    strategy: StrategyName = "auto"
    """``auto`` picks ``staged`` for grammar-capable models, ``native`` for tool-calling ones."""
    k: int = 5
    """Tools retrieval offers the model."""
    max_attempts: int = 3
    """Tries at valid arguments per call (the first included)."""
    relevance_threshold: float = 0.15
    """Below this retrieval relevance no tool is called (staged strategy), unless the sentence
    names the tool (see ``named_relevance_threshold``), where the calibrated relevance model
    cannot judge: keyword-only retrieval, or the ``calibrated_relevance`` rule off (the model,
    ``strategies/staged/relevance.py``, decides wherever embedding scores exist). Chosen on
    BFCL's tuning split (never on the reported questions)."""
    named_relevance_threshold: float = 0.11
    """The lower bar for a tool the sentence names: the words of its name, or a value of one
    of its enums ("open the *calculator*")."""
    clarify_below: float = CLARIFY_BELOW
    """Below this confidence in a call (the calibrated probability that the sentence wants a
    call times that of the chosen tool; staged strategy, embedding scores present) no tool is
    called: the run's outcome is ``clarify`` and the answer asks which of the best
    candidates is meant. Rules that settle a call (a sum, a conversion, a follow-up, a place)
    never ask. 0 turns it off. Fitted on BFCL's tuning split (``bench/clarify.py``)."""
    describe: bool = True
    """Have the model put the results into words (else a factual sentence)."""
    answer_style: AnswerStyle = "template"
    """``template``: calls whose tools all have answer templates that apply are stated by
    them and the model is not asked (the answer is one ``AnswerDelta``); other calls get the
    model's sentence, checked. ``model``: the model's sentence always, checked (a sentence
    that fails is replaced by the templates, or by the generic sentence)."""
    free_answers: bool | None = None
    """Whether a run that makes no call may answer from the model's own knowledge (a
    strategy's own text, or a plain answer): ``None`` refuses it for a local model (``local:``)
    and allows it for the others; refused, the answer says that no tool can do it and names
    the closest tools. A free answer stating a number the sentence does not hold, or only
    repeating it, is replaced all the same."""
    execute: bool = True
    """Run the calls; ``False`` only proposes them (evaluation, OpenAI-compatible endpoint)."""
    approve: bool = False
    """The person running this pipeline approves, in advance, every call of a tool marked
    ``requires_approval`` (``toolwire run --approve``); otherwise such calls wait."""
    answer_tokens: int = 160
    """Longest plain answer (when no tool fits), in tokens."""
    temperature: float | None = None
    """Sampling temperature of every model call; ``None``: each step's own (greedy)."""
    max_tokens: int | None = None
    """A cap on every model call's output, in tokens; ``None``: each step's own."""
    rules: StagedRules = field(default_factory=StagedRules)
    """The staged strategy's heuristics, each one named switch (see ``StagedRules``)."""
    model_timeout: float | None = 60.0
    """Seconds one model call may take before the run fails with a ``ModelError``."""


Emit = Callable[[Event], None]
WAITING = ("pending_approval", "approved")
"""Call statuses a run waits on: a person's decision, or an approved call yet to return."""
AnswerStyle = Literal["template", "model"]
"""Who words a run's results first: the tools' answer templates, or the model."""

log = logging.getLogger(__name__)


class Pipeline:
    """The steps of a run over one registry, model and executor."""

    def __init__(
        self,
        registry: Registry,
        model: Model,
        *,
        config: EngineConfig,
        executor: Executor | None = None,
    ) -> None:
        self.registry = registry
        if config.temperature is not None or config.max_tokens is not None:
            model = TunedModel(model, temperature=config.temperature, max_tokens=config.max_tokens)
        self.model = traced(with_timeout(model, config.model_timeout))
        self.config = config
        self.executor = executor
        self.strategy: Strategy = strategy_for(
            config.strategy,
            self.model,
            relevance_threshold=config.relevance_threshold,
            named_relevance_threshold=config.named_relevance_threshold,
            rules=config.rules,
            clarify_below=config.clarify_below,
        )

    async def run(
        self,
        question: str,
        *,
        history: list[Message] | None = None,
        on_event: EventHandler | None = None,
        tool_choice: str = "auto",
        scope: str | None = None,
        journal: Journal | None = None,
    ) -> Run:
        """Run ``question``. ``scope`` (a stored message's id) gives each call an idempotency
        key; a call ``journal`` has a record of (an earlier attempt ran it, or started it) is
        answered from that record instead of running again, and every other call is entered
        in the journal before it runs."""
        emit: Emit = on_event or (lambda _e: None)
        timings: dict[str, float] = {}
        turn = Turn(question=question, history=list(history or []), tool_choice=tool_choice)
        run = Run(prompt=question, model=self.model.name, timings_ms=timings)

        with _timer(timings, "retrieve"), tracing.span("retrieve") as span:
            turn.hits = await self.retrieve(turn)
            span.set_attribute("toolwire.candidates", [h.tool.name for h in turn.hits])
        run.candidates = [h.tool.name for h in turn.hits]
        emit(Retrieved(candidates=[(h.tool.name, h.score) for h in turn.hits]))

        with _timer(timings, "select"), tracing.span("propose") as span:
            proposal = await self.strategy.propose(turn)
            span.set_attribute("toolwire.calls", [c.name for c in proposal.calls])
        requests = proposal.calls
        emit(Selected(names=[r.name for r in requests]))
        run.missing, run.gated = proposal.missing, proposal.gated
        run.clarify = proposal.clarify

        with _timer(timings, "validate"), tracing.span("validate") as span:
            checked = [await self.validate(turn, r, emit) for r in requests]
            span.set_attribute("toolwire.statuses", [c.status for c in checked])
        _assign_keys(checked, scope or uuid.uuid4().hex)
        with _timer(timings, "execute"):
            run.calls = list(
                await asyncio.gather(*(self.execute(c, journal) for c in checked))
            )
        for call in run.calls:
            emit(Executed(call=call))

        with _timer(timings, "describe"), tracing.span("answer") as span:
            run.answer = await self.answer(turn, run, proposal.text, proposal.chosen,
                                           on_text=lambda text: emit(AnswerDelta(text=text)))
            span.set_attribute("toolwire.outcome", run.outcome)
        emit(Answered(run=run))
        return run

    # -- retrieve --------------------------------------------------------------------------
    async def retrieve(self, turn: Turn) -> list[Hit[Tool]]:
        """The candidates offered for ``turn``, best first, then the tools of the
        conversation's last call (``search_in_context``, which the retrieval benchmark's
        multi-turn set calls too). When every tool is offered anyway
        and the strategy reads no retrieval score, keywords order them and nothing is
        embedded: the query's vector (~4 ms) could not change what the model is shown."""
        if turn.tool_choice == "none" or not len(self.registry):
            return []
        named = turn.tool_choice not in ("auto", "required", "none")
        if named:
            tool = self.registry.get(turn.tool_choice)
            return [Hit(tool=tool, score=1.0, keyword_score=1.0, dense_score=1.0)]
        dense = len(self.registry) > self.config.k or self.strategy.reads_scores
        return await asyncio.to_thread(
            search_in_context, self.registry.index, turn.question, turn.history,
            self.config.k, dense=dense,
        )

    # -- validate (with feedback) ----------------------------------------------------------
    async def validate(self, turn: Turn, request: ToolCallRequest, emit: Emit) -> CallResult:
        """Check the arguments; on errors ask for a repair, up to ``max_attempts`` tries."""
        attempts: list[Attempt] = []
        call = CallResult(id=request.id, name=request.name, arguments=request.arguments,
                          status="ok", attempts=attempts)
        if request.name not in self.registry:
            call.status = "error"
            call.error = {"type": "unknown_tool", "message": f"no tool named {request.name!r}"}
            return call
        if request.name not in {h.tool.name for h in turn.hits}:
            # the model is not trusted: only a tool offered to it for this sentence may run
            call.status = "error"
            call.error = {"type": "not_offered",
                          "message": f"{request.name!r} was not among the tools offered"}
            return call
        tool = self.registry.get(request.name)
        current: ToolCallRequest | None = request
        for number in range(1, self.config.max_attempts + 1):
            assert current is not None
            current.arguments = tool.normalized(current.arguments)
            errors = tool.validate(current.arguments)
            attempts.append(Attempt(arguments=current.arguments, errors=errors))
            emit(CallProposed(call_id=call.id, name=tool.name, arguments=current.arguments,
                              attempt=number))
            call.arguments = current.arguments
            if not errors:
                return call
            emit(ValidationFailed(call_id=call.id, name=tool.name, errors=errors, attempt=number))
            if number == self.config.max_attempts:
                break
            with tracing.span("repair", {"gen_ai.tool.name": tool.name, "toolwire.attempt": number}):
                current = await self.strategy.repair(turn, tool, current, errors)
            if current is None:
                break
        call.status = "invalid"
        call.error = {"type": "validation", "message": "; ".join(attempts[-1].errors),
                      "attempts": len(attempts)}
        return call

    # -- resume (after approvals) ----------------------------------------------------------
    async def resume(
        self,
        run: Run,
        decisions: Mapping[str, Decision],
        *,
        history: list[Message] | None = None,
        journal: Journal | None = None,
        on_event: EventHandler | None = None,
    ) -> Run:
        """Go on with ``run`` once people decided on calls it left waiting, as pydantic-ai's
        deferred tool results continue an agent run. ``decisions`` are by call id: an
        approved call runs through ``execute`` (the same dispatch, journal and snippet), a
        refused one is settled ``rejected``; calls without a decision, or with one but no
        longer waiting, keep their outcome. When no call waits any more, ``answer`` words
        the outcome with ``history`` (the turns before the run's sentence), under the same
        grounding guard as any run; while one still waits, the answer stays as it was."""
        emit: Emit = on_event or (lambda _e: None)
        decided = [c for c in run.calls if c.id in decisions and c.status == "pending_approval"]
        with _timer(run.timings_ms, "execute"):
            await asyncio.gather(*(self._decided(c, decisions[c.id], journal) for c in decided))
        for call in decided:
            emit(Executed(call=call))
        if any(c.status in WAITING for c in run.calls):
            return run
        turn = Turn(question=run.prompt, history=list(history or []))
        with _timer(run.timings_ms, "describe"), tracing.span("answer"):
            run.answer = await self.answer(turn, run, "",
                                           on_text=lambda text: emit(AnswerDelta(text=text)))
        emit(Answered(run=run))
        return run

    async def _decided(
        self, call: CallResult, decision: Decision, journal: Journal | None
    ) -> CallResult:
        if not decision.approved:
            call.settle(ExecutionResult(
                status="rejected", error={"type": "rejected", "message": decision.message}))
            return call
        call.status = "ok"
        return await self.execute(call, journal, approved=True)

    # -- execute ---------------------------------------------------------------------------
    async def execute(
        self, call: CallResult, journal: Journal | None = None, *, approved: bool = False
    ) -> CallResult:
        """Run a valid call (``approved``: a person approved it, so a tool that requires
        approval runs). A call ``journal`` has a record of is answered from the record; any
        other is entered in the journal before it runs."""
        if call.status != "ok":
            return call
        if not self.config.execute:
            call.status = "not_executable"
            return call
        outcome = journal.recorded(call.idempotency_key) if journal else None
        if outcome is None:
            if journal is not None:
                await journal.begin(call)
            with tracing.tool_call(call.name, call.id, call.arguments) as span:
                outcome = await dispatch(
                    self.registry, call.name, call.arguments, executor=self.executor,
                    approved=self.config.approve or approved, call_key=call.idempotency_key,
                )
                tracing.tool_outcome(span, outcome.status, outcome.duration_ms, outcome.error)
        call.settle(outcome)
        tool = self.registry.find(call.name)  # an approved call's tool may have gone since
        if tool is not None and tool.executable:
            call.snippet = snippet_for(tool, tool.handler_arguments(call.arguments,
                                                                    call.idempotency_key))
        return call

    # -- describe --------------------------------------------------------------------------
    async def answer(
        self, turn: Turn, run: Run, text: str, chosen: str | None = None,
        on_text: TextSink | None = None,
    ) -> str:
        """The run's answer: whatever writes it, a number no source explains
        (``toolwire.grounding``) replaces it by the calls' facts, or by the no-tool answer."""
        said = await self._words(turn, run, text, chosen, on_text)
        return self._grounded(turn, run, said, chosen)

    async def _words(
        self, turn: Turn, run: Run, text: str, chosen: str | None, on_text: TextSink | None,
    ) -> str:
        if run.clarify:
            return clarify_answer(run.clarify)
        if run.missing:
            tool = self.registry.get(chosen or run.candidates[0])
            props = tool.parameters.get("properties", {})
            descriptions = {k: str(props.get(k, {}).get("description", "")) for k in run.missing}
            return missing_answer(tool.name, run.missing, descriptions, question=turn.question)
        if not run.calls:
            return await self._without_calls(turn, run, text, chosen, on_text)
        if not self.config.execute or not self.config.describe:
            return factual_answer(run.calls, self.registry.find)
        if self.config.answer_style == "template":
            templated = templated_answer(run.calls, self.registry.find)
            if templated is not None:
                if on_text is not None:
                    on_text(templated)
                return templated
        return await describe(
            self.model, turn.question, run.calls, turn.history, tools=self.registry.find,
            on_text=on_text,
        )

    async def _without_calls(
        self, turn: Turn, run: Run, text: str, chosen: str | None, on_text: TextSink | None,
    ) -> str:
        """A free answer where allowed (the strategy's own text, or the model's plain answer,
        shown once checked: streamed text cannot be taken back); else the no-tool answer."""
        if not free_answers_allowed(self.config.free_answers, self.model.name):
            return no_tool_answer(run.candidates)
        if text or not self.config.describe:
            return text
        said = await chat_answer(
            self.model, turn.question, turn.history, max_tokens=self.config.answer_tokens,
        )
        said = self._grounded(turn, run, said, chosen)
        if on_text is not None and said:
            on_text(said)
        return said

    def _grounded(self, turn: Turn, run: Run, said: str, chosen: str | None) -> str:
        """``said``, unless it states a number no source explains or, with no call, only
        repeats the sentence: then the calls' facts, or the no-tool answer."""
        names = [*run.candidates, *run.missing, *([chosen] if chosen else [])]
        invented = ungrounded(said, sources(turn.question, run.calls, names=names))
        echoed = not run.calls and not run.missing and echoes(said, turn.question)
        if not invented and not echoed:
            return said
        log.debug("answer %r replaced: it states %s%s", said, invented,
                  " and repeats the sentence" if echoed else "")
        if run.calls:
            return factual_answer(run.calls, self.registry.find)
        return no_tool_answer(run.candidates)


class _timer:
    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = (time.perf_counter() - self.start) * 1000



def _assign_keys(calls: list[CallResult], scope: str) -> None:
    """Give each call its idempotency key: the same name and arguments twice are two calls."""
    seen: dict[tuple[str, str], int] = {}
    for call in calls:
        identity = (call.name, repr(sorted(call.arguments.items())))
        seen[identity] = seen.get(identity, -1) + 1
        call.idempotency_key = call_key(scope, call.name, call.arguments, seen[identity])
