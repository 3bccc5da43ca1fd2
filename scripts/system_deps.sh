#!/usr/bin/env bash
# Debian packages toolwire needs beside Python: bubblewrap, the sandbox of untrusted tools.
# Installs them as root (or with password-less sudo); otherwise says what is missing.
set -euo pipefail
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: install ${missing[*]} with your package manager; until then sandboxed tools" \
       "are refused (TOOLWIRE_SANDBOX_MODE=weak runs them with rlimits only)" >&2
  exit 0
fi
as_root=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "warning: run 'sudo apt-get install ${missing[*]}'; until then sandboxed tools are" \
         "refused (TOOLWIRE_SANDBOX_MODE=weak runs them with rlimits only)" >&2
    exit 0
  fi
fi
echo "installing ${missing[*]} (apt-get)"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
