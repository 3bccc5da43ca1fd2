"""toolwire's benchmarks: each module prints a table of figures and a final JSON line.

    .venv/bin/python -m bench                  # all of them, one after the other
    .venv/bin/python -m bench.engine_e2e       # end-to-end time, accuracy and RSS, embedded model
    .venv/bin/python -m bench.overhead         # orchestration cost without the model
    .venv/bin/python -m bench.retrieval_100k   # retrieval quality and latency on 100k tools
    .venv/bin/python -m bench.api_execute      # POST /execute next to a bare FastAPI endpoint

Benchmarks report figures and ratios; no test asserts a timing.
"""
