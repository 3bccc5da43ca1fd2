#!/usr/bin/env bash
# Build the image and run it as CI does: both roles (`serve`, `worker`) on the host network
# against this machine's PostgreSQL and Redis.
#
#   scripts/image_check.sh            # as root on a fresh Debian machine: installs what it needs
#   scripts/image_check.sh --base-only  # only the engine and the base image
#
# 1. Debian's docker.io and debootstrap are installed (apt-get, as root) when missing, and a
#    `dockerd` is started when none answers.
# 2. The base image: python:3.11-slim-bookworm when a registry answers, else Debian bookworm
#    made with debootstrap + `docker import`, tagged by a hash of its inputs (made once).
# 3. The image is built with BuildKit; the machine's CA bundle (the one pip's configuration
#    names, for registries reached through a TLS proxy) is a build secret, never a layer; the
#    portable llama.cpp wheel `make install` built is reused (.wheels/ in the context).
# 4. `serve` and `worker` run: both healthy, a key required, /execute answers the seed
#    sentence, an async message is finished by the worker, `docker stop` exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker || true)}
IMAGE=${TOOLWIRE_IMAGE:-toolwire:ci}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
API_PORT=${TOOLWIRE_IMAGE_API_PORT:-$(free_port)}
METRICS_PORT=${TOOLWIRE_IMAGE_METRICS_PORT:-$(free_port)}
PG=${TOOLWIRE_IMAGE_PG:-postgresql://postgres@127.0.0.1:5432}
BROKER=${TOOLWIRE_IMAGE_BROKER:-redis://127.0.0.1:6379/7}
LLAMA_VERSION=$(sed -n 's/^LLAMA_VERSION *:\?= *//p' Makefile)
PREFIX=toolwire-check-$$   # container names of this run (several runs may share an engine)
DATABASE=toolwire_image_check_$$
SEED="I want to exchange 42 US dollars to Canadian dollars"
started=$SECONDS

say() { echo "image_check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
elapsed() { echo "$((SECONDS - started)) s"; }

ensure_engine() {
  if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "docker.io and debootstrap are missing; install them as root"
    say "installing Debian's docker.io and debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io debootstrap >/dev/null
    DOCKER=/usr/bin/docker
  fi
  if ! "$DOCKER" info >/dev/null 2>&1; then
    say "starting dockerd (log: /tmp/toolwire-dockerd.log)"
    nohup dockerd >/tmp/toolwire-dockerd.log 2>&1 &
    for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 1; done
    "$DOCKER" info >/dev/null 2>&1 || fail "dockerd did not answer in 60 s: $(tail -5 /tmp/toolwire-dockerd.log)"
  fi
}

# The base image: the official one when a registry answers, else Debian made here.
base_image() {
  if timeout 30 "$DOCKER" pull -q python:3.11-slim-bookworm >/dev/null 2>&1; then
    echo python:3.11-slim-bookworm
    return
  fi
  local suite=bookworm mirror=http://deb.debian.org/debian
  local packages=python3,python3-venv,python-is-python3,ca-certificates
  local tag
  tag="toolwire-base:$(echo "$suite $mirror $packages v2" | sha256sum | cut -c1-12)"
  if ! "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
    say "no registry answers: making $tag with debootstrap ($suite, $packages)"
    local root
    root=$(mktemp -d /tmp/toolwire-base.XXXXXX)
    debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >/dev/null
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
    tar -C "$root" -c . | "$DOCKER" import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' - "$tag" >/dev/null
    rm -rf "$root"
  fi
  echo "$tag"
}

# The CA bundle pip's configuration names (the machine's registries may sit behind a TLS
# proxy that only this bundle trusts); the system bundle otherwise.
ca_bundle() {
  local cert
  cert=$(pip config get global.cert 2>/dev/null || true)
  [ -n "$cert" ] && [ -s "$cert" ] || cert=/etc/ssl/certs/ca-certificates.crt
  echo "$cert"
}

# The portable wheel `make install` built (scripts/llama_wheel.sh prints its cached folder).
stage_wheel() {
  rm -rf .wheels && mkdir -p .wheels
  if [ -x .venv/bin/pip ]; then
    local folder
    folder=$(scripts/llama_wheel.sh .venv/bin/pip "$LLAMA_VERSION" 2>/dev/null || true)
    if [ -n "$folder" ] && cp "$folder"/llama_cpp_python-"$LLAMA_VERSION"-*.whl .wheels/ 2>/dev/null; then
      say "reusing $(ls .wheels)"
      return
    fi
  fi
  say "no portable llama.cpp wheel here: the build compiles it (5-8 min on 2 cores)"
}

build() {
  local base=$1 cert=$2
  say "building $IMAGE on $base"
  DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain --network host \
    --secret id=cacerts,src="$cert" \
    --build-arg PYTHON_IMAGE="$base" -t "$IMAGE" . >/tmp/toolwire-image-build.log 2>&1 \
    || { tail -40 /tmp/toolwire-image-build.log >&2; fail "docker build"; }
  say "built in $(elapsed); $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
}

cleanup() {
  "$DOCKER" rm -f "$PREFIX-api" "$PREFIX-worker" >/dev/null 2>&1 || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE" >/dev/null 2>&1 || true
  rm -rf .wheels
}

run_roles() {
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE" -c "CREATE DATABASE $DATABASE" >/dev/null
  redis-cli -u "$BROKER" flushdb >/dev/null 2>&1 || true
  local env=(-e "TOOLWIRE_DATABASE_URL=postgresql+psycopg://${PG#postgresql://}/$DATABASE"
             -e "TOOLWIRE_BROKER_URL=$BROKER" -e TOOLWIRE_LOG_FORMAT=json)
  "$DOCKER" run -d --name "$PREFIX-api" --network host --health-interval 5s "${env[@]}" \
    "$IMAGE" toolwire serve --host 0.0.0.0 --port "$API_PORT" >/dev/null
  "$DOCKER" run -d --name "$PREFIX-worker" --network host --health-interval 5s "${env[@]}" \
    "$IMAGE" toolwire worker --concurrency 1 --metrics-port "$METRICS_PORT" >/dev/null
  for role in api worker; do wait_healthy "$PREFIX-$role"; done

  local base="http://127.0.0.1:$API_PORT" status key answer
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/execute" \
             -H 'content-type: application/json' -d "{\"prompt\": \"$SEED\"}")
  [ "$status" = 401 ] || fail "/execute without a key answered $status, not 401"
  key=$("$DOCKER" exec "$PREFIX-api" toolwire keys create --owner image-check | tail -1)
  answer=$(curl -sf -X POST "$base/execute" -H "authorization: Bearer $key" \
             -H 'content-type: application/json' -d "{\"prompt\": \"$SEED\"}") \
    || fail "/execute with a key"
  grep -q '131.95' <<<"$answer" || fail "/execute: $answer"
  say "/execute: $(python3 -c 'import json,sys; print(json.load(sys.stdin)["answer"])' <<<"$answer")"
  async_message "$base" "$key"

  for role in api worker; do
    "$DOCKER" stop -t 30 "$PREFIX-$role" >/dev/null
    code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$PREFIX-$role")
    [ "$code" = 0 ] || { "$DOCKER" logs --tail 20 "$PREFIX-$role" >&2; fail "$role exited $code on SIGTERM"; }
  done
  say "both roles stopped with exit 0"
}

wait_healthy() {
  local name=$1 state=""
  for _ in $(seq 90); do
    state=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$name")
    [ "$state" = healthy ] && { say "$name healthy after $(elapsed)"; return; }
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 2
  done
  "$DOCKER" logs --tail 30 "$name" >&2
  fail "$name is $state"
}

async_message() {
  local base=$1 key=$2 interaction message state="" body=""
  local auth=(-H "authorization: Bearer $key" -H 'content-type: application/json')
  interaction=$(curl -sf -X POST "$base/interactions" "${auth[@]}" -d '{}' | json id)
  # a posted message is answered 202 at once and processed by a worker (TOOLWIRE_BROKER_URL)
  message=$(curl -sf -X POST "$base/interactions/$interaction/messages" "${auth[@]}" \
              -d '{"content": "convert 100 euros to dollars"}' | json id) || fail "posting a message"
  for _ in $(seq 60); do
    body=$(curl -sf "$base/interactions/$interaction/messages/$message" "${auth[@]}" || true)
    state=$(json status <<<"${body:-{\}}" 2>/dev/null || true)
    [ "$state" = done ] && break
    sleep 2
  done
  [ "$state" = done ] || fail "the posted message is '$state' after 120 s: $body"
  body=$(curl -sf "$base/interactions/$interaction/messages" "${auth[@]}")
  say "posted message finished by the worker: $(python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["content"])' <<<"$body")"
  "$DOCKER" logs "$PREFIX-worker" 2>&1 | grep -q "succeeded" \
    || fail "the worker's log shows no task succeeded: the API ran the message itself?"
}

json() { python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1"; }

ensure_engine
base=$(base_image)
[ "${1:-}" = --base-only ] && { echo "$base"; exit 0; }
trap cleanup EXIT
stage_wheel
build "$base" "$(ca_bundle)"
run_roles
say "passed in $(elapsed)"
