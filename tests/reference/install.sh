#!/usr/bin/env bash
# The independent numerical reference the model tests compare against: Debian's PyTorch (CPU) and the
# regex module (GPT-2's pre-tokenizer pattern), through apt. Idempotent: installs only what is missing.
# The reference forward passes and tokenizers themselves are ours, in tests/reference/*.py, written from
# Hugging Face's modelling code; only torch and regex come from the distribution.
set -euo pipefail
missing=()
python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
python3 -c 'import regex' 2>/dev/null || missing+=(python3-regex)
((${#missing[@]} == 0)) && exit 0
[[ $(id -u) == 0 ]] || { echo "[reference] installing ${missing[*]} needs root (apt-get)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
echo "[reference] apt-get install ${missing[*]}" >&2
# Another apt run (infra/local.sh, a parallel job) may hold the lock: wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
python3 -c 'import torch, regex' || { echo "[reference] python3-torch / python3-regex did not install" >&2; exit 1; }
