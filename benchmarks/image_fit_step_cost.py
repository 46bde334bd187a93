"""The cost of one more image-fitting step, without the mesh and with it (the old path).

``benchmarks/test_task_step.py`` times a short fit (1 camera step + 1 step per body stage), which
includes the fit's fixed work (the prior's start pose: Pose-NDF projects it 100 steps). This
script fits the same views with 1 and with 11 steps per stage and divides the difference by the
50 extra steps: the marginal cost of a step, which is what a real fit (hundreds of steps) is made
of::

    python benchmarks/image_fit_step_cost.py --priors none,gmm,vposer,posendf,nrdf,dposer
"""

from __future__ import annotations

import argparse
import time

import torch
from test_task_step import BODY_PATHS, image_fit_problem  # this script's folder is on the path

import posebench
from posebench.fitting.keypoints2d import fit_views

SHORT, LONG = 1, 11  # steps of the camera and of each of the 4 body stages
EXTRA_STEPS = 5 * (LONG - SHORT)


def fit_seconds(prior_name: str, body_path: str, steps: int, views: int) -> float:
    """Best of three fits of ``views`` synthetic views with ``steps`` per stage."""
    prior = posebench.load_prior(prior_name)
    weight = 0.0 if prior_name == "none" else prior.energy_weight("image_fit")[0]
    body = BODY_PATHS[body_path]()
    config, observed = image_fit_problem(body, views, steps, torch.device("cpu"))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fit_views(prior, weight, body, observed, config)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--priors", default="none,gmm,vposer,posendf,nrdf,dposer")
    parser.add_argument("--views", type=int, default=50, help="the task's batch_views (50)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.views} views")
    print("| prior | ms per step, without the mesh | with it | ratio |\n|---|---|---|---|")
    for name in args.priors.split(","):
        per_step = {
            path: (fit_seconds(name, path, LONG, args.views)
                   - fit_seconds(name, path, SHORT, args.views)) / EXTRA_STEPS
            for path in BODY_PATHS
        }  # fmt: skip
        skeleton, full = per_step["skeleton"], per_step["all-vertices"]
        print(f"| {name} | {skeleton * 1e3:.1f} | {full * 1e3:.1f} | {full / skeleton:.1f}x |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
