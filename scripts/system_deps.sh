#!/usr/bin/env bash
# Debian packages toolwire needs beside Python, named as arguments: bubblewrap (the sandbox of
# untrusted tools; `make install`) and chromium (the headless browser the playground's test
# drives, Playwright downloads none; `make test`).
# Installs the missing ones as root (or with password-less sudo); otherwise says what is lost.
set -euo pipefail
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
      chromium) echo "  chromium: tests/integration/test_playground.py is skipped" ;;
    esac
  done
}

if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: install ${missing[*]} with your package manager; until then:" >&2
  without >&2
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "warning: run 'sudo apt-get install ${missing[*]}'; until then:" >&2
    without >&2
    exit 0
  fi
fi
echo "installing ${missing[*]} (apt-get)"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
