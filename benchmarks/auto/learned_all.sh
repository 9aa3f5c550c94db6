#!/usr/bin/env bash
# Regenerate the learned selector from scratch: training data, the built-in model, the
# leave-one-dataset-out models and the offline check (docs/benchmarks.md, "The learned selector").
# About 40 minutes on two cores with the machine to itself (80 when shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH="${PYTHONPATH:-src}"
PY="${PYTHON:-python}"
# The ten datasets of the quality plan: 4 runs a dataset, 40 candidates a loop.
"$PY" benchmarks/auto/learned_data.py --out benchmarks/auto/learned_data --runs 4 --candidates 40 -j 2 \
  --dataset sms_spam --dataset ag_news --dataset trec --dataset customer_reviews --dataset letter \
  --dataset adult --dataset covertype --dataset shuttle
# The image sets (slow fits) and the other classification sets of the shared folder: 2 runs, 30 candidates.
"$PY" benchmarks/auto/learned_data.py --out benchmarks/auto/learned_data --runs 2 --candidates 30 -j 2 \
  --dataset banknote --dataset credit_g --dataset waveform --dataset bank_marketing --dataset optdigits \
  --dataset mnist --dataset fashion_mnist
"$PY" benchmarks/auto/learned_train.py --data benchmarks/auto/learned_data \
  --out src/loopwise/strategies/models/learned_selector.json --lodo-dir benchmarks/auto/lodo_models \
  --report benchmarks/results/learned_offline.json
