#!/bin/bash
# A posebench suite split over a Slurm job array: each array task runs its share of the
# (prior, task, seed) runs and writes its result files into the shared folder; the leaderboard
# then reads them all. posebench takes its shard from SLURM_ARRAY_TASK_ID / _COUNT / _MIN.
#
#   sbatch docs/examples/slurm_suite.sh
#   posebench leaderboard --results /shared/posebench-results     # after the array finished
#
#SBATCH --job-name=posebench-suite
#SBATCH --array=0-7
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00

set -euo pipefail
posebench suite --seeds 0,1,2 --dataset amass --amass-dir /shared/amass-prepared \
    --out /shared/posebench-results
