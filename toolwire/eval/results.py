"""The BFCL harness's per-question results: what one records, where they are kept, which a run
may reuse, and how a run is split into shards.

A result store is a directory of JSON-lines files. Every ``*.jsonl`` file in it is read; a run
appends to the file of its model, strategy and shard
(``<model>.<strategy>[.shard-I-of-N].jsonl``), so runs of different shards, on one machine or
several, never write the same file and their files merge in git without conflicts.

Each result carries the *fingerprint* of the engine code, settings and model that produced it
(:func:`code_fingerprint`) and toolwire's git commit. A result with another fingerprint is
*stale*: a resumed run answers its question again unless told to keep stale results.

    store = ResultStore(Path("docs/eval/bfcl"))
    done = store.reusable("local:smollm2-135m", "staged", fingerprint=fp)
    store.append(result, shard=Shard.parse("2/4"))
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

#: The ``toolwire`` package directory.
PACKAGE = Path(__file__).resolve().parents[1]


class EvalError(ValueError):
    """Bad input to the harness: an unknown category, a malformed question, a bad shard."""


@dataclass(kw_only=True)
class CaseResult:
    """How toolwire did on one question."""

    id: str
    category: str
    model: str
    strategy: str
    valid: bool
    error_type: str | None = None
    """The checker's error type, or ``engine:<Exception>`` when the engine raised."""
    errors: list[Any] = field(default_factory=list)
    prompt: str = ""
    expected: list[dict[str, Any]] | None = None
    """The ground truth; ``None`` for irrelevance (no call expected)."""
    got: list[dict[str, Any]] = field(default_factory=list)
    """The calls made, in the checker's format."""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    """Calls the engine gave up on (invalid arguments, unknown tool): not made, not scored."""
    latency_ms: float = 0.0
    """Wall time of the engine run (retrieval included)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """The engine's own time per stage (retrieve, select, validate...)."""
    gated: bool = False
    """The relevance gate judged the question irrelevant (no call was tried)."""
    ungated_valid: bool | None = None
    """For a gated question that needs a call: whether the answer without the gate would have
    been right (so the points the gate cost can be counted); ``None`` otherwise."""
    fingerprint: str = ""
    """The engine code, settings and model that produced it (:func:`code_fingerprint`);
    empty for results kept before fingerprints were recorded."""
    commit: str = ""
    """toolwire's git commit then (``+dirty`` when the package had uncommitted changes);
    empty outside a git checkout."""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.model, self.strategy, self.category, self.id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=repr)

    def kept(self) -> CaseResult:
        """The result as stored: whole for a question of the tuning split; for any other,
        without the question's text, its expected calls and the checker's messages (which
        quote them): figures published on a split are never studied question by question."""
        if in_tuning_split(self.id) or (not self.prompt and self.expected is None
                                        and not self.errors):
            return self  # whole, or already stored without them
        return replace(self, prompt="", expected=None, errors=[])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseResult:
        """A result from its JSON object; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# -- shards ---------------------------------------------------------------------------------


@dataclass(kw_only=True, frozen=True)
class Shard:
    """Part ``index`` (1-based) of ``count``: the questions whose id hashes to it.

    By a hash of the question id, not by position, so a question stays in its part whatever
    else is selected (more categories, a larger sample).
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` → part 2 of 4; anything else is an :class:`EvalError` saying what is wanted."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        index, count = (int(match[1]), int(match[2])) if match else (0, 0)
        if not 1 <= index <= count:
            raise EvalError(f"--shard must be I/N with 1 <= I <= N (e.g. 2/4), not {text!r}")
        return cls(index=index, count=count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def label(self) -> str:
        """The shard in a file name: ``shard-2-of-4``."""
        return f"shard-{self.index}-of-{self.count}"

    def holds(self, case_id: str) -> bool:
        """Whether question ``case_id`` falls in this part."""
        return shard_of(case_id, self.count) == self.index


def in_tuning_split(case_id: str) -> bool:
    """Whether question ``case_id`` is in the tuning split: a fixed fifth of every category, by
    a hash of the id, on which engine thresholds may be tuned (``bfcl.in_split``)."""
    return int(hashlib.sha1(case_id.encode()).hexdigest(), 16) % 5 == 0


def shard_of(case_id: str, count: int) -> int:
    """The part (1 to ``count``) question ``case_id`` falls in.

    Salted, so the parts are independent of the tuning split (an unsalted SHA-1 of the id modulo
    5 decides it: with 5 parts, one would hold only tuning questions).
    """
    digest = hashlib.sha256(f"shard:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


# -- provenance -----------------------------------------------------------------------------

#: The code, relative to the ``toolwire`` package, whose change can change an answer or its
#: score (in a folder: its ``.py`` files and the fitted weights it ships as ``.json``). A result
#: made by other code (or weights, settings, or another model) is stale.
FINGERPRINT_SOURCES: tuple[str, ...] = (
    "strategies",
    "pipeline.py",
    "answer.py",
    "engine.py",
    "retrieval",
    "text",
    "tools/registry.py",
    "tools/schema.py",
    "models/local.py",
    "models/llama.py",
    "eval/checker.py",
    "eval/bfcl_data.py",
)


def code_fingerprint(model_name: str, *, config: str = "") -> str:
    """A short hash of :data:`FINGERPRINT_SOURCES`, the engine ``config`` (its ``repr``) and
    the model name: equal fingerprints, same answers."""
    h = hashlib.sha256(_sources_digest().encode())
    h.update(f"\0{config}\0{model_name}".encode())
    return h.hexdigest()[:16]


@cache
def _sources_digest() -> str:
    h = hashlib.sha256()
    for path in _source_files(PACKAGE):
        h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _source_files(package: Path) -> list[Path]:
    found: set[Path] = set()
    for name in FINGERPRINT_SOURCES:
        path = package / name
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix in (".py", ".json"))
        elif path.is_file():
            found.add(path)
    return sorted(found)


@cache
def git_commit() -> str:
    """toolwire's git commit, ``+dirty`` when the package has uncommitted changes; ``""`` when
    it is not in a git checkout (an installed wheel) or git is missing."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(PACKAGE), *args], capture_output=True, text=True, timeout=10
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0:
            return ""
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head.stdout.strip() + ("+dirty" if dirty else "")


# -- the store ------------------------------------------------------------------------------

Question = tuple[str, str]
"""A question's key within one model and strategy: (category, id)."""


class ResultStore:
    """Results as JSON lines in a directory; every ``*.jsonl`` file in it counts.

    A run appends to ``<model>.<strategy>[.shard-I-of-N].jsonl``; reading takes every file, so a
    question answered by any shard, any earlier layout or another machine is found. A torn last
    line (a killed run) is skipped, and ended before the next result is written.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def for_home(cls, home: Path) -> ResultStore:
        """The store under TOOLWIRE_HOME: ``home/eval/bfcl``."""
        return cls(home / "eval" / "bfcl")

    def path_for(self, model_name: str, strategy: str, shard: Shard | None = None) -> Path:
        """The file a run of ``model_name`` with ``strategy`` (and ``shard``) appends to."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name).strip("_.") or "model"
        parts = [slug, re.sub(r"[^A-Za-z0-9_-]+", "_", strategy)]
        if shard is not None:
            parts.append(shard.label)
        return self.directory / (".".join(parts) + ".jsonl")

    def append(self, result: CaseResult, *, shard: Shard | None = None) -> Path:
        """Write one result as a line of its own, flushed before returning; returns the file."""
        path = self.path_for(result.model, result.strategy, shard)
        path.parent.mkdir(parents=True, exist_ok=True)
        torn = _ends_torn(path)
        with path.open("ab") as f:
            if torn:
                f.write(b"\n")  # end the line a killed run left, so this one stays whole
            f.write(result.kept().to_json().encode() + b"\n")
        return path

    def compact(self, path: Path) -> int:
        """Rewrite ``path`` keeping one line per question: the last written (a re-answered
        question's older lines are superseded), as :meth:`CaseResult.kept` stores it.
        Unreadable lines go too. Returns the lines dropped. Only for a file no run is
        appending to."""
        if not path.exists():
            return 0
        lines = path.read_bytes().splitlines()
        last: dict[tuple[str, str, str, str], bytes] = {}
        for line in lines:
            try:
                result = CaseResult.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError, UnicodeDecodeError):
                continue
            last.pop(result.key, None)  # re-inserted: the file keeps the order last written
            kept_result = result.kept()
            last[result.key] = line if kept_result is result else kept_result.to_json().encode()
        kept = list(last.values())
        if kept == lines:
            return 0
        temporary = path.with_name(path.name + ".compacting")
        temporary.write_bytes(b"".join(line + b"\n" for line in kept))
        os.replace(temporary, path)
        return len(lines) - len(kept)

    def files(self) -> list[Path]:
        """The store's files, in name order."""
        return sorted(self.directory.glob("*.jsonl")) if self.directory.is_dir() else []

    def load(self, model_name: str | None = None, strategy: str | None = None) -> list[CaseResult]:
        """Every stored result (of ``model_name`` and ``strategy`` when given), file by file in
        name order, each file in the order written; unreadable lines are skipped."""
        return [
            r
            for path in self.files()
            for r in _read(path)
            if model_name in (None, r.model) and strategy in (None, r.strategy)
        ]

    def reusable(
        self, model_name: str, strategy: str, *, fingerprint: str, keep_stale: bool = False
    ) -> dict[Question, CaseResult]:
        """Per question, the stored result a run may take instead of answering: the last one
        made with ``fingerprint`` or, with ``keep_stale``, failing that the last of any."""
        return pick(self.load(model_name, strategy), fingerprint=fingerprint, keep_stale=keep_stale)


def pick(
    results: Iterable[CaseResult], *, fingerprint: str, keep_stale: bool = False
) -> dict[Question, CaseResult]:
    """Per question, the last result with ``fingerprint``; with ``keep_stale``, the last of any
    for questions that have none with it."""
    fresh: dict[Question, CaseResult] = {}
    stale: dict[Question, CaseResult] = {}
    for r in results:
        (fresh if r.fingerprint == fingerprint else stale)[(r.category, r.id)] = r
    return {**stale, **fresh} if keep_stale else fresh


def _ends_torn(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as f:
        f.seek(-1, 2)
        return f.read(1) != b"\n"


def _read(path: Path) -> Iterator[CaseResult]:
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                data = json.loads(line)
                if isinstance(data, dict):
                    yield CaseResult.from_dict(data)
            except (json.JSONDecodeError, TypeError):
                continue
