#!/usr/bin/env bash
# Debian packages toolwire needs beside Python, named as arguments: bubblewrap (the sandbox of
# untrusted tools; `make install`) and chromium (the headless browser the playground's test
# drives, Playwright downloads none; `make test`).
# Installs the missing ones as root (or with password-less sudo); otherwise says what is lost
# and goes on, except under CI=true, where a package it cannot install fails the run.
set -euo pipefail
case "${CI:-}" in 1|true|TRUE|True|yes) in_ci=1 ;; *) in_ci=0 ;; esac
missing=()
for package in "$@"; do
  case "$package" in
    bubblewrap) command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    *) echo "system_deps.sh: unknown package $package" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

without() {  # what goes missing with each package
  for package in "${missing[@]}"; do
    case "$package" in
      bubblewrap) echo "  bubblewrap: sandboxed tools are refused" \
                       "(TOOLWIRE_SANDBOX_MODE=weak runs them with rlimits only)" ;;
      chromium) echo "  chromium: tests/integration/test_playground.py is skipped" \
                     "(it fails under CI=true)" ;;
    esac
  done
}

give_up() {  # $1: what to do instead; a warning, or under CI an error
  if [ "$in_ci" = 1 ]; then
    echo "error: $1 (CI=true needs ${missing[*]})" >&2
    exit 1
  fi
  echo "warning: $1; until then:" >&2
  without >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || give_up "install ${missing[*]} with your package manager"
as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    give_up "run 'sudo apt-get install ${missing[*]}'"
  fi
fi
echo "installing ${missing[*]} (apt-get)"
if ! { "${as_root[@]}" apt-get update -qq &&
       DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; }
then
  give_up "apt-get could not install ${missing[*]}"
fi
