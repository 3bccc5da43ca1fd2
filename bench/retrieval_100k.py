"""Tool retrieval at scale: a synthetic registry of 100k tools, searched by paraphrased requests.

    .venv/bin/python bench/retrieval_100k.py                # 100k tools, 300 queries
    .venv/bin/python bench/retrieval_100k.py --tools 20000 --no-dense
    .venv/bin/python bench/retrieval_100k.py --tools 2000 --before --cache /tmp/fresh

Tools are generated deterministically (fixed seed) from word lists: ``<service>.<verb>_<object>``
with a description, typed parameters and enums, for 36 objects × 8 actions × ~350 services.
Queries come from *held-out* paraphrase templates and synonyms the descriptions never use
("make a bill for a client in Zorvex" for ``zorvex.create_invoice``), so a hit needs the service
name (keywords) and the meaning (embeddings) together.

Dense vectors go to a disk cache (``--cache``, default ``<TOOLWIRE_HOME>/bench-index``): the first
run embeds every tool (reported as build time), later runs read the cache. Query latency is
measured separately, after the build. ``--before`` adds the ranking toolwire had before the
written requests and synonyms (the fused score's order), in the same run. Prints a table;
figures vary with machine load.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from toolwire.retrieval import Ranking, ToolIndex
from toolwire.tools import Tool

SEED = 20240601

# object: (description noun phrase, query synonyms, parameters)
OBJECTS: dict[str, tuple[str, list[str], list[str]]] = {
    "invoice": (
        "an invoice for a customer",
        ["bill", "billing statement"],
        ["customer_id", "amount", "currency", "due_date"],
    ),
    "payment": (
        "a payment",
        ["transaction", "money transfer"],
        ["amount", "currency", "account_id"],
    ),
    "refund": (
        "a refund for an order",
        ["money back", "reimbursement"],
        ["order_id", "amount", "reason"],
    ),
    "subscription": (
        "a customer subscription plan",
        ["membership", "recurring plan"],
        ["plan", "customer_id", "interval"],
    ),
    "calendar_event": (
        "an event in a calendar",
        ["meeting", "appointment"],
        ["title", "start_time", "end_time", "attendees"],
    ),
    "reminder": ("a reminder notification", ["alert", "nudge"], ["message", "remind_at"]),
    "email": ("an email message", ["mail", "e-mail"], ["to", "subject", "body"]),
    "sms": (
        "a text message to a phone number",
        ["text", "phone message"],
        ["phone_number", "message"],
    ),
    "contact": (
        "a contact in the address book",
        ["person entry", "address book entry"],
        ["name", "phone_number", "email"],
    ),
    "file": ("a file in storage", ["document", "attachment"], ["path", "folder"]),
    "folder": ("a folder of files", ["directory", "drive folder"], ["path", "parent"]),
    "playlist": ("a music playlist", ["song list", "mixtape"], ["name", "tracks"]),
    "song": ("a song track", ["tune", "music track"], ["title", "artist"]),
    "flight": (
        "a flight booking",
        ["plane ticket", "air travel"],
        ["origin", "destination", "date", "cabin"],
    ),
    "hotel_room": (
        "a hotel room reservation",
        ["place to stay", "accommodation"],
        ["city", "check_in", "nights"],
    ),
    "rental_car": (
        "a rental car",
        ["hire car", "vehicle rental"],
        ["pickup_location", "pickup_date", "car_type"],
    ),
    "restaurant_table": (
        "a table at a restaurant",
        ["dinner booking", "dining reservation"],
        ["restaurant", "party_size", "time"],
    ),
    "weather_forecast": (
        "the weather forecast for a location",
        ["outlook", "conditions outside"],
        ["location", "days", "units"],
    ),
    "stock_quote": ("a stock price quote", ["share price", "ticker value"], ["symbol", "exchange"]),
    "exchange_rate": (
        "a currency exchange rate",
        ["conversion rate", "fx rate"],
        ["base_currency", "target_currency"],
    ),
    "support_ticket": (
        "a customer support ticket",
        ["help request", "issue report"],
        ["title", "priority", "description"],
    ),
    "user_account": (
        "a user account",
        ["login profile", "member profile"],
        ["username", "email", "role"],
    ),
    "password": ("a user password", ["login secret", "passphrase"], ["username", "new_password"]),
    "order": ("a shop order", ["purchase", "checkout"], ["order_id", "items", "shipping_address"]),
    "shipment": (
        "a parcel shipment",
        ["package delivery", "parcel"],
        ["tracking_number", "carrier"],
    ),
    "product": (
        "a product in the catalog",
        ["catalog item", "merchandise"],
        ["sku", "name", "price"],
    ),
    "review": (
        "a product review",
        ["rating", "customer feedback"],
        ["product_id", "stars", "text"],
    ),
    "blog_post": ("a blog post", ["article", "web post"], ["title", "body", "tags"]),
    "comment": ("a comment on a post", ["remark", "reply"], ["post_id", "text"]),
    "image": ("an image", ["picture", "photo"], ["url", "width", "height"]),
    "video": ("a video", ["clip", "movie file"], ["url", "resolution"]),
    "translation": (
        "a translation of text",
        ["text in another language", "language conversion"],
        ["text", "target_language"],
    ),
    "route": (
        "a driving route between two places",
        ["directions", "itinerary"],
        ["origin", "destination", "mode"],
    ),
    "timer": ("a countdown timer", ["stopwatch countdown", "kitchen timer"], ["duration", "label"]),
    "thermostat": (
        "the thermostat temperature",
        ["heating setpoint", "home temperature"],
        ["temperature", "room"],
    ),
    "light": ("a smart light", ["lamp", "bulb"], ["room", "brightness", "color"]),
}

# action: (description verb phrase, query synonyms)
ACTIONS: dict[str, tuple[str, list[str]]] = {
    "create": ("Create", ["make", "set up", "start"]),
    "get": ("Retrieve the details of", ["look up", "fetch", "check"]),
    "list": ("List every", ["show all", "enumerate"]),
    "update": ("Update the fields of", ["change", "modify", "edit"]),
    "delete": ("Delete", ["remove", "get rid of", "erase"]),
    "cancel": ("Cancel", ["call off", "stop"]),
    "search": ("Search for", ["find", "hunt for"]),
    "export": ("Export to CSV", ["download", "dump"]),
}

PARAM_TYPES = {
    "amount": "number",
    "days": "integer",
    "nights": "integer",
    "party_size": "integer",
    "stars": "integer",
    "width": "integer",
    "height": "integer",
    "price": "number",
    "brightness": "integer",
    "temperature": "number",
    "duration": "integer",
}
ENUMS = {
    "currency": ["USD", "EUR", "GBP", "JPY"],
    "units": ["metric", "imperial"],
    "cabin": ["economy", "business", "first"],
    "priority": ["low", "normal", "high"],
    "interval": ["monthly", "yearly"],
    "mode": ["driving", "walking", "transit"],
    "role": ["admin", "member", "guest"],
    "car_type": ["compact", "suv", "van"],
}

DESCRIPTION_TEMPLATES = [
    "{Action} {object} in {Service}.",
    "{Action} {object} using the {Service} API.",
    "{Service}: {action_lc} {object}.",
    "{Action} {object} stored in your {Service} workspace.",
]
# Held out: never used for descriptions, only for questions.
QUERY_TEMPLATES = [
    "could you {verb} the {noun} on {Service} for me",
    "I need to {verb} a {noun} with {Service}",
    "please {verb} my {noun} in {Service}",
    "{Service}: {verb} {noun}",
    "can {Service} {verb} the {noun} now?",
]

SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "zor",
    "vex",
    "tri",
    "nu",
    "pa",
    "qua",
    "ren",
    "sol",
    "ti",
    "bex",
    "dra",
    "fen",
    "gli",
    "hox",
    "jun",
    "kel",
    "mor",
]


BEFORE = Ranking(rank_dense_weight=0.4, rank_query_weight=0.0, synthetic_queries=False,
                 synonym_weight=0.0)
"""The ranking before written requests and synonyms: the fused score's order."""


@dataclass(kw_only=True)
class Query:
    text: str
    expected: str


def service_names(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))))
    return sorted(names)


def make_tools(n: int, seed: int = SEED) -> list[Tool]:
    """``n`` distinct, deterministic tools (``service.action_object``)."""
    rng = random.Random(seed)
    per_service = len(OBJECTS) * len(ACTIONS)
    services = service_names(-(-n // per_service), rng)
    tools = []
    for service in services:
        for obj, (phrase, _, params) in OBJECTS.items():
            for action, (verb, _) in ACTIONS.items():
                if len(tools) == n:
                    return tools
                tools.append(_tool(service, obj, phrase, params, action, verb, rng))
    return tools


def _tool(
    service: str,
    obj: str,
    phrase: str,
    params: list[str],
    action: str,
    verb: str,
    rng: random.Random,
) -> Tool:
    template = rng.choice(DESCRIPTION_TEMPLATES)
    description = template.format(
        Action=verb, action_lc=verb.lower(), object=phrase, Service=service.capitalize()
    )
    properties = {}
    for p in params if action in ("create", "update", "search") else params[:1]:
        prop: dict[str, object] = {
            "type": PARAM_TYPES.get(p, "string"),
            "description": f"The {p.replace('_', ' ')}.",
        }
        if p in ENUMS:
            prop["enum"] = ENUMS[p]
        properties[p] = prop
    return Tool(
        name=f"{service}.{action}_{obj}",
        description=description,
        parameters={"type": "object", "properties": properties, "required": list(properties)[:1]},
    )


def make_queries(tools: list[Tool], count: int, seed: int = SEED + 1) -> list[Query]:
    rng = random.Random(seed)
    queries = []
    for tool in rng.sample(tools, count):
        service, rest = tool.name.split(".", 1)
        action, obj = rest.split("_", 1)
        text = rng.choice(QUERY_TEMPLATES).format(
            verb=rng.choice(ACTIONS[action][1]),
            noun=rng.choice(OBJECTS[obj][1]),
            Service=service.capitalize(),
        )
        queries.append(Query(text=text, expected=tool.name))
    return queries


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(index: ToolIndex, queries: list[Query]) -> dict[str, float]:
    index.search("warm up", k=5)
    latencies, r1, r5 = [], 0, 0
    for q in queries:
        start = time.perf_counter()
        names = [h.tool.name for h in index.search(q.text, k=5)]
        latencies.append((time.perf_counter() - start) * 1000)
        r1 += names[:1] == [q.expected]
        r5 += q.expected in names
    latencies.sort()
    return {
        "R@1": r1 / len(queries),
        "R@5": r5 / len(queries),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cache", type=Path, default=None, help="dense vector cache directory")
    parser.add_argument("--no-dense", action="store_true", help="keywords only (no embeddings)")
    parser.add_argument(
        "--before", action="store_true",
        help="also the fused order without written requests or synonyms, as before",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    tools = make_tools(args.tools)
    queries = make_queries(tools, args.queries)
    print(
        f"generated {len(tools):,} tools and {len(queries)} queries in "
        f"{time.perf_counter() - start:.1f} s"
    )
    rows = []
    keyword = ToolIndex(embedder=None)
    start = time.perf_counter()
    keyword.add(tools)
    keyword.search("warm up")  # merges the postings
    rows.append(("BM25 only", time.perf_counter() - start, measure(keyword, queries)))
    del keyword
    if not args.no_dense:
        from toolwire.config import get_settings

        cache = args.cache or get_settings().home / "bench-index"
        rankings = [("hybrid", Ranking())]
        if args.before:
            rankings.insert(0, ("hybrid before", BEFORE))
        for name, ranking in rankings:  # a cache folder each: each build time is its own
            folder = cache / name.replace(" ", "-") if args.before else cache
            hybrid = ToolIndex(cache_dir=folder, ranking=ranking)
            start = time.perf_counter()
            hybrid.add(tools)
            hybrid.embed_pending()
            rows.append((f"{name} (cache {folder})", time.perf_counter() - start,
                         measure(hybrid, queries)))
    print(f"\n{'index':<40} {'build s':>8} {'R@1':>6} {'R@5':>6} {'p50 ms':>7} {'p99 ms':>7}")
    for name, build_s, m in rows:
        print(
            f"{name[:40]:<40} {build_s:>8.1f} {m['R@1']:>6.3f} {m['R@5']:>6.3f} "
            f"{m['p50_ms']:>7.1f} {m['p99_ms']:>7.1f}"
        )
    print(f"\npeak RSS {peak_rss_mb():,.0f} MB (whole process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
