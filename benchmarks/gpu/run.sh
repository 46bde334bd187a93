#!/usr/bin/env bash
# posebench on a GPU in one command: the CUDA tests, then the speed figures.
#
#   benchmarks/gpu/run.sh [--dry-run] [--skip-tests] [--suite-limit SECONDS]
#
# Runs from a copy of the repository on a machine with CUDA and no network, in about 8 minutes:
#   1. `pytest -m cuda tests`: every CUDA path against the CPU (bodies, each prior's energies,
#      projection, sampling, training, a quick suite, pictures; NCCL training with two GPUs);
#   2. benchmarks/gpu/measure.py: matrix-multiply rate, Pose-NDF projection (fp32 and bf16,
#      against an official-style loop), training samples/s, 5-NN targets, the full suite's wall.
# Figures go to $OUT (default: gpu-out/ in the repository) as gpu_figures.json and
# gpu_figures.md (the table for benchmarks/RESULTS.md), the test log as cuda_tests.log.
# A failed test fails the script (exit 1) after the figures are taken, so one run gives both.
#
# Dependencies: torch, numpy, scipy, pandas, pluggy, rich, pyyaml, pytest and pytest-benchmark
# are expected there; posebench itself runs from the repository (PYTHONPATH). A package missing
# there (roma, on the GPU machines posebench was prepared for) travels as a wheel in .whl/, made
# here with: pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl roma==1.8.0
#
# --dry-run: the same steps on the CPU at tiny sizes (the CUDA tests run on the CPU via
# POSEBENCH_CUDA_TESTS_DEVICE=cpu); the test suite runs this so the script cannot rot.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-python3}
dry=0
tests=1
suite_limit=240
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1 ;;
        --skip-tests) tests=0 ;;
        --suite-limit) suite_limit=$2; shift ;;
        *) echo "run.sh: unknown option '$1'; use --dry-run, --skip-tests, --suite-limit S" >&2
           exit 2 ;;
    esac
    shift
done
out=${OUT:-$repo/gpu-out}
mkdir -p "$out"
cd "$repo"

if ! "$python" -c "import roma" 2>/dev/null; then
    if compgen -G ".whl/*.whl" >/dev/null; then
        "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/posebench-site .whl/*.whl
        export PYTHONPATH=/tmp/posebench-site${PYTHONPATH:+:$PYTHONPATH}
    else
        echo "run.sh: roma is not installed and .whl/ holds no wheels; see this script's header" >&2
        exit 2
    fi
fi
export PYTHONPATH=$repo${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1

if [ "$dry" = 1 ]; then
    device=cpu
    export POSEBENCH_CUDA_TESTS_DEVICE=cpu
    measure_args=(--dry-run)
else
    device=cuda
    measure_args=()
    if ! "$python" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
        echo "run.sh: no CUDA device here; use --dry-run to check the script on the CPU" >&2
        exit 2
    fi
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$out/nvidia_smi.csv" \
        2>/dev/null || true
fi

status=0
if [ "$tests" = 1 ]; then
    started=$SECONDS
    "$python" -m pytest -m cuda tests -q -p no:cacheprovider -o addopts="" 2>&1 \
        | tee "$out/cuda_tests.log" || status=1
    echo "run.sh: CUDA tests took $((SECONDS - started)) s (status $status)"
fi

"$python" benchmarks/gpu/measure.py --device "$device" --out "$out" \
    --suite-limit "$suite_limit" "${measure_args[@]}" || status=1
if [ "$status" != 0 ]; then
    echo "run.sh: FAILED (see $out/cuda_tests.log and the output above)" >&2
fi
exit "$status"
