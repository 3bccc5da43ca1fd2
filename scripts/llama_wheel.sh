#!/usr/bin/env bash
# Build llama-cpp-python once per (version, build flags) and print the folder holding its wheel.
#
# The build is portable: GGML_NATIVE=OFF, so the wheel never carries -march=native (which enables
# llama.cpp's AMX backend and crashes on AMX CPUs). x86-64 gets an explicit AVX2/FMA/F16C/BMI2 set;
# other architectures (arm64) get the plain portable build. pip's own wheel cache is keyed on the
# package version only, so a native wheel built once would silently come back: this cache is keyed
# on the version and the flags, and the build bypasses pip's cache.
#
# Usage: scripts/llama_wheel.sh PIP VERSION   (prints the wheel folder on stdout)
set -euo pipefail
pip=$1
version=$2

case "$(uname -m)" in
  x86_64|amd64)
    flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" ;;
  *)
    flags="-DGGML_NATIVE=OFF" ;;
esac
# Nothing above the portable set: a native build or an AMX tile path would crash elsewhere.
flags="$flags -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

key=$(printf '%s|%s|%s|%s' "$version" "$flags" "$(uname -m)" "$("$pip" --version | awk '{print $NF}' | tr -d ')')" \
      | sha256sum | cut -c1-16)
root=${TOOLWIRE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolwire/wheels}
dir="$root/llama-cpp-python-$version-$key"

if ! ls "$dir"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $version (portable: $flags); takes 5-8 min on 2 cores" >&2
  tmp=$(mktemp -d "$root.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$root"; mktemp -d "$root.tmp.XXXXXX"; })
  CMAKE_ARGS="$flags" FORCE_CMAKE=1 "$pip" wheel -q --no-deps --no-cache-dir \
      --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version" >&2
  printf '%s\n' "$flags" >"$tmp/BUILD_FLAGS"
  mkdir -p "$root"
  rm -rf "$dir" && mv "$tmp" "$dir"
fi
echo "$dir"
