"""Run the benchmarks and write bench/results.json (``make bench``).

``python -m bench --quick`` runs smaller worlds for a fast smoke check;
``python -m bench --only latency,fresh_worlds`` re-measures just those parts and
keeps the others of the existing results file (``parts_measured_at`` says when
each part was last measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    experiments,
    latency,
    ranking_quality,
    risk,
    roi,
    rollouts,
    training,
    trend,
    world_quality,
    worlds,
)
from webapp.extensions import db

RESULTS = Path(__file__).resolve().parent / "results.json"
TARGETS = {
    "holdout_auc_gap_max": 0.02,
    "holdout_ece_max": 0.03,
    # issue 11: the same on three fresh worlds; the seed plan's accuracy at p >= 0.5
    "holdout_accuracy_min": 0.75,
    # issue 10: p99 with one client; 20x the seed service's 32.5 req/s with 8 clients
    "http_p99_ms_1_client_max": 10,
    "http_throughput_8_clients_min": 650,
    # issue 10, over HTTP: a batch of 1,000 pairs (p50), ranking 10k candidates (p99)
    "http_batch_1000_ms_max": 100,
    "http_rank_10k_p99_ms_max": 50,
    "rank_10k_ms_max": 200,
    "train_20k_seconds_max": 60,
    # trend: the chosen forecasts' backtest MASE over naive's, and training time
    "trend_mase_ratio_max": 0.9,
    "trend_train_seconds_max": 120,
    "roi_coverage_gap_max": 0.03,
    "roi_train_20k_seconds_max": 60,
    "risk_train_20k_seconds_max": 60,
}


PARTS = (
    "training",
    "holdout_quality",
    "ranking_quality",
    "roi",
    "risk",
    "latency",
    "fresh_worlds",
    "trend",
    "experiments",
    "rollouts",
)
# The parts measured on the 20k world (every other training size is "training" only).
WORLD_PARTS = ("holdout_quality", "ranking_quality", "roi", "risk", "latency")


def parse_parts(text: str) -> tuple[str, ...]:
    """Return the comma-separated bench parts in ``text``; argparse error if unknown."""
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise argparse.ArgumentTypeError(
            f"unknown part(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}"
        )
    return parts


def arguments() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small worlds, a smoke check only"
    )
    parser.add_argument(
        "--only",
        type=parse_parts,
        metavar="PART[,PART...]",
        help=(
            "run only these parts and update them in the existing results file, "
            f"keeping the others (parts: {', '.join(PARTS)})"
        ),
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the JSON results"
    )
    return parser.parse_args()


def main() -> None:
    """Run every benchmark (or the parts asked for) and write the results file."""
    args = arguments()
    # SIGTERM stops a run like Ctrl-C: every part's finally stops what it started
    # (the embedded Redis, gunicorn, workers).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    os.environ.setdefault("MATCHLOOP_LOG_LEVEL", "WARNING")
    parts = args.only or PARTS
    sizes = (
        {"2k": 2600, "20k": 26000, "100k": 128000} if not args.quick else {"2k": 2600}
    )
    main_size = "20k" if not args.quick else "2k"
    if "training" not in parts:
        sizes = (
            {main_size: sizes[main_size]}
            if any(part in parts for part in WORLD_PARTS)
            else {}
        )
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results: dict = {}
    if args.only and args.output.exists():
        results = json.loads(args.output.read_text())
    results.update(
        {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "quick": args.quick,
            "targets": TARGETS,
        }
    )
    results.setdefault("training", {})
    measured = results.setdefault("parts_measured_at", {})
    if not args.only:
        results["started_at"] = started
    for label, collaborations in sizes.items():
        print(f"== {label} world ({collaborations} collaborations seeded)", flush=True)
        with worlds.seeded_world(collaborations) as world, world.app.app_context():
            # Every world part reads the trained, active model: train even when
            # only those parts are asked for (the timing is kept only for "training").
            entry = {
                "seed_seconds": round(world.seed_seconds, 1),
                "rated_by_brands": world.rated,
            }
            entry.update(training.time_training(world.app))
            print(f"   training: {entry}", flush=True)
            if "training" in parts:
                results["training"][label] = entry
            if label == main_size:
                if "latency" in parts:
                    # What the latency figures were served by (selection's choice).
                    results["latency_world"] = {
                        "collaborations": collaborations,
                        **entry,
                    }
                world_parts(world, parts, results)
    if "fresh_worlds" in parts:
        print("== quality on three fresh demo worlds (new seeds)", flush=True)
        results["fresh_worlds"] = world_quality.run(quick=args.quick)
    if "trend" in parts:
        print("== trend forecasts (demo niches, M3 monthly)", flush=True)
        results["trend"] = trend.run(m3_sample=5 if args.quick else trend.M3_SAMPLE)
        print(f"   {results['trend']}", flush=True)
    if "experiments" in parts:
        print("== simulated experiments on a seed-demo world", flush=True)
        results["experiments"] = experiments.simulated_experiments(
            runs=400 if args.quick else 2_000
        )
        print(f"   {results['experiments']}", flush=True)
    if "rollouts" in parts:
        print("== simulated rollouts on a seed-demo world", flush=True)
        results["rollouts"] = rollouts.simulated_rollouts(runs=4 if args.quick else 20)
        print(f"   {results['rollouts']}", flush=True)
    for part in parts:
        measured[part] = started
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["verdict"] = verdict(results)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["verdict"], indent=2))
    print(f"wrote {args.output}")


def world_parts(world, parts: tuple[str, ...], results: dict) -> None:
    """Run the parts measured on the main (20k) world into ``results``."""
    steps = (
        (
            "holdout_quality",
            "quality on a later held-out window",
            training.holdout_quality,
        ),
        (
            "ranking_quality",
            "rankings on the final window (Find influencers)",
            ranking_quality.run,
        ),
        ("roi", "roi intervals on a later held-out window", roi.run),
        ("risk", "risk scores on a later held-out window", risk.run),
    )
    for part, title, run in steps:
        if part in parts:
            print(f"== {title}", flush=True)
            results[part] = run(world.app)
            print(f"   {results[part]}", flush=True)
    if "latency" not in parts:
        return
    print("== latency", flush=True)
    results["latency_in_process"] = latency.in_process()
    results["ranking"] = latency.ranking()
    token = latency.issue_token()
    db.session.commit()
    results["http"] = latency.http_figures(world, token)
    print(
        f"   {results['latency_in_process']}\n   {results['ranking']}\n   {results['http']}",
        flush=True,
    )
    print("== latency with each single algorithm served instead", flush=True)
    results["http_by_algorithm"] = latency.by_algorithm(world, token)
    print(f"   {results['http_by_algorithm']}", flush=True)


def verdict(results: dict) -> dict:
    """Compare the figures with the targets."""
    quality = results.get("holdout_quality", {})
    checks = {}
    if quality:
        gap = quality["best_achievable_roc_auc"] - quality["roc_auc"]
        checks["holdout_auc_gap"] = {
            "value": round(gap, 4),
            "ok": gap <= TARGETS["holdout_auc_gap_max"],
        }
        checks["holdout_ece"] = {
            "value": quality["ece"],
            "ok": quality["ece"] <= TARGETS["holdout_ece_max"],
        }
        if (
            "accuracy" in quality
        ):  # results measured before accuracy was reported lack it
            checks["holdout_accuracy"] = {
                "value": quality["accuracy"],
                "best_achievable": quality["best_achievable_accuracy"],
                "ok": quality["accuracy"] > TARGETS["holdout_accuracy_min"],
            }
    http = results.get("http", {})
    if http:
        p99 = http["1_client"]["p99_ms"]
        rate = http["8_clients"]["throughput_per_s"]
        checks["http_p99_1_client_ms"] = {
            "value": p99,
            "ok": p99 <= TARGETS["http_p99_ms_1_client_max"],
        }
        checks["http_throughput_8_clients"] = {
            "value": rate,
            "ok": rate >= TARGETS["http_throughput_8_clients_min"],
        }
        if "batch" in http:
            batch = http["batch"]["p50_ms"]
            checks["http_batch_1000_ms"] = {
                "value": batch,
                "ok": batch <= TARGETS["http_batch_1000_ms_max"],
            }
        if "ranking" in http:
            rank = http["ranking"]["p99_ms"]
            checks["http_rank_p99_ms"] = {
                "value": rank,
                "candidates": http["ranking"]["candidates"],
                "ok": rank <= TARGETS["http_rank_10k_p99_ms_max"],
            }
    ranking = results.get("ranking")
    if ranking:
        checks["rank_ms"] = {
            "value": ranking["p50_ms"],
            "candidates": ranking["candidates"],
            "ok": ranking["p50_ms"] <= TARGETS["rank_10k_ms_max"],
        }
    if "20k" in results["training"]:
        seconds = results["training"]["20k"]["seconds"]
        checks["train_20k_seconds"] = {
            "value": seconds,
            "ok": seconds <= TARGETS["train_20k_seconds_max"],
        }
    demo = results.get("trend", {}).get("demo_niches")
    if demo:
        ratio = demo["mase_chosen"] / demo["mase_naive"]
        checks["trend_mase_ratio"] = {
            "value": round(ratio, 4),
            "ok": ratio <= TARGETS["trend_mase_ratio_max"],
        }
        checks["trend_train_seconds"] = {
            "value": demo["train_seconds"],
            "ok": demo["train_seconds"] <= TARGETS["trend_train_seconds_max"],
        }
    checks.update(ranking_verdict(results))
    checks.update(fresh_worlds_verdict(results))
    checks.update(roi_verdict(results))
    checks.update(risk_verdict(results))
    checks.update(experiments_verdict(results))
    checks.update(rollouts_verdict(results))
    return checks


def ranking_verdict(results: dict) -> dict:
    """Check that the model ranks better (NDCG@10) than popularity and the fallback."""
    figures = results.get("ranking_quality")
    if not figures or not figures["rankers"]:
        return {}
    ndcg = {name: r["ndcg_at_10"] for name, r in figures["rankers"].items()}
    coverage = {name: r["coverage_at_10"] for name, r in figures["rankers"].items()}
    return {
        "ranking_ndcg_at_10": {
            "value": ndcg["model"],
            "popularity": ndcg["popularity"],
            "rule_based": ndcg["rule_based"],
            "coverage_at_10": coverage,
            "brands": figures["brands"],
            "ok": ndcg["model"] > max(ndcg["popularity"], ndcg["rule_based"]),
        }
    }


def fresh_worlds_verdict(results: dict) -> dict:
    """Check the AUC gap, ECE and accuracy on every fresh world (reported whatever they are)."""
    checks = {}
    for name, figures in results.get("fresh_worlds", {}).items():
        checks[f"fresh_{name}_auc_gap"] = {
            "value": figures["roc_auc_gap"],
            "seed": figures["seed"],
            "roc_auc": figures["roc_auc"],
            "best_achievable_roc_auc": figures["best_achievable_roc_auc"],
            "ok": figures["roc_auc_gap"] <= TARGETS["holdout_auc_gap_max"],
        }
        checks[f"fresh_{name}_ece"] = {
            "value": figures["ece"],
            "ok": figures["ece"] <= TARGETS["holdout_ece_max"],
        }
        checks[f"fresh_{name}_accuracy"] = {
            "value": figures["accuracy"],
            "best_achievable": figures["best_achievable_accuracy"],
            "ok": figures["accuracy"] > TARGETS["holdout_accuracy_min"],
        }
    return checks


def rollouts_verdict(results: dict) -> dict:
    """Check harmful candidates roll back, a better one completes, early gates help."""
    figures = results.get("rollouts")
    if not figures:
        return {}
    harmful = figures["harmful_10_points"]
    better = figures["better_5_points"]["with_early_gates"]
    early, late = harmful["with_early_gates"], harmful["realised_only"]
    paired = figures.get("paired_harmful", {})
    return {
        "rollouts_harmful_detection": {
            "value": figures["days_earlier_median"],
            "worlds_promoted_by_realised_only": paired.get("promoted_by_realised_only"),
            "days_before_that_promotion_median": paired.get(
                "days_before_that_promotion_median"
            ),
            "median_days_with_early_gates": early.get("median_days"),
            "median_days_realised_only": late.get("median_days"),
            "median_outcomes_with_early_gates": early.get("median_candidate_outcomes"),
            "median_outcomes_realised_only": late.get("median_candidate_outcomes"),
            # Stopped in every world, and earlier than the realised gate alone
            # would have stopped (or promoted) it.
            "ok": early["endings"].get("rollback", 0) == early["runs"]
            and paired.get("both_rolled_back", 0)
            + paired.get("promoted_by_realised_only", 0)
            == early["runs"],
        },
        "rollouts_better_completes": {
            "value": better["endings"].get("complete", 0) / better["runs"],
            "median_days": better.get("median_days"),
            "ok": better["endings"].get("complete", 0) == better["runs"],
        },
    }


def experiments_verdict(results: dict) -> dict:
    """Check A/A calibration and power; report the units each design needs."""
    figures = results.get("experiments")
    if not figures:
        return {}
    checks = {}
    for name in experiments.BEHAVIOURS:
        entry = figures[name]
        aa = entry["aa"]
        noise = 3 * (0.05 * 0.95 / aa["runs"]) ** 0.5
        checks[f"experiments_{name}_aa_false_positive_rate"] = {
            "value": aa["false_positive_rate"],
            "ok": abs(aa["false_positive_rate"] - 0.05) <= noise,
        }
        checks[f"experiments_{name}_ab_power"] = {
            "value": entry["ab_power"]["significant_share"],
            "right_sign": entry["ab_power"]["right_sign_share"],
            "ok": entry["ab_power"]["right_sign_share"] > 0.99,
        }
        needed = entry["units_needed_95"]
        checks[f"experiments_{name}_units_needed"] = {
            "value": needed,
            "ratio": entry["interleaving_advantage"],
            "cuped_variance_reduction": entry["cuped_variance_reduction"],
            "ok": None not in needed.values(),
        }
    return checks


def risk_verdict(results: dict) -> dict:
    """Report the risk AUCs (no target: the figure is what it is) and check training time."""
    figures = results.get("risk")
    if not figures:
        return {}
    held = figures["holdout"]
    checks = {
        "risk_holdout_roc_auc": {
            "value": held["roc_auc"],
            "unsupervised": held["roc_auc_unsupervised"],
            "blended": held["roc_auc_blended"],
            "served": held["served"],
            "ok": held["roc_auc"] > 0.5,
        }
    }
    if not results.get("quick"):
        seconds = figures["training"]["seconds"]
        checks["risk_train_20k_seconds"] = {
            "value": seconds,
            "samples": figures["training"]["samples"],
            "ok": seconds <= TARGETS["risk_train_20k_seconds_max"],
        }
    return checks


def roi_verdict(results: dict) -> dict:
    """Compare the roi figures with their targets (coverage near nominal, training time)."""
    figures = results.get("roi")
    if not figures:
        return {}
    held = figures["holdout"]
    gap = abs(held["coverage"] - held["nominal_coverage"])
    checks = {
        "roi_holdout_coverage": {
            "value": held["coverage"],
            "nominal": held["nominal_coverage"],
            "mean_width": held["mean_width"],
            "band_30_points_coverage": held["band_30_points_coverage"],
            "ok": gap <= TARGETS["roi_coverage_gap_max"],
        }
    }
    if not results.get("quick"):
        seconds = figures["training"]["seconds"]
        checks["roi_train_20k_seconds"] = {
            "value": seconds,
            "samples": figures["training"]["samples"],
            "ok": seconds <= TARGETS["roi_train_20k_seconds_max"],
        }
    return checks


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"bench took {time.perf_counter() - started:.0f} s")
