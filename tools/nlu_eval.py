"""Measure the NLU model against the external Bitext evaluation set.

Run with the Rasa environment (``make nlu-eval``)::

    .venv-rasa/bin/python tools/nlu_eval.py [--model PATH] [--eval-file CSV]
        [--cv] [--sweep] [--json FILE]

It prints per-intent accuracy, the most frequent confusions and one summary
line ``in_scope=0.912 oos=0.873``. It is a report, not a gate: it exits 0
unless the evaluation file is missing (exit 2). It never prints the evaluation
texts, so that nobody tunes the training data to individual rows.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL_FILE = REPO_ROOT / ".." / "shared" / "eval" / "bitext" / "utterances.csv"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
SWEEP_THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


@dataclass(frozen=True)
class Prediction:
    """One scored row; the text itself is deliberately not kept."""

    expected: str
    predicted: str  # after FallbackClassifier, may be nlu_fallback
    raw_intent: str  # DIET's top intent, ignoring the fallback
    raw_confidence: float


def is_correct(expected: str, predicted: str) -> bool:
    """Out-of-scope rows may also be answered by the fallback."""
    if expected == OUT_OF_SCOPE:
        return predicted in (OUT_OF_SCOPE, FALLBACK)
    return predicted == expected


def newest_model(models_dir: Path) -> Optional[Path]:
    candidates = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def read_rows(eval_file: Path) -> list[tuple[str, str]]:
    with eval_file.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["expected_intent"]) for row in csv.DictReader(handle)]


async def predict_all(model_path: Path, rows: Iterable[tuple[str, str]]) -> list[Prediction]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa's structlog debug output would echo every parsed text; keep it quiet.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model_path))
    predictions = []
    for text, expected in rows:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        raw = ranking[0] if ranking else intent
        predictions.append(
            Prediction(
                expected=expected,
                predicted=intent.get("name") or FALLBACK,
                raw_intent=raw.get("name") or FALLBACK,
                raw_confidence=float(raw.get("confidence") or 0.0),
            )
        )
    return predictions


def accuracy(predictions: list[Prediction], in_scope: bool) -> float:
    chosen = [p for p in predictions if (p.expected != OUT_OF_SCOPE) == in_scope]
    if not chosen:
        return 0.0
    return sum(is_correct(p.expected, p.predicted) for p in chosen) / len(chosen)


def summarise(predictions: list[Prediction]) -> dict:
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter = Counter()
    for p in predictions:
        ok = is_correct(p.expected, p.predicted)
        per_intent[p.expected][0] += ok
        per_intent[p.expected][1] += 1
        if not ok:
            confusions[(p.expected, p.predicted)] += 1
    return {
        "rows": len(predictions),
        "in_scope": round(accuracy(predictions, in_scope=True), 4),
        "oos": round(accuracy(predictions, in_scope=False), 4),
        "per_intent": {
            name: {"correct": c, "total": t, "accuracy": round(c / t, 4)}
            for name, (c, t) in sorted(per_intent.items())
        },
        "confusions": [
            {"expected": e, "predicted": p, "count": n} for (e, p), n in confusions.most_common()
        ],
    }


def sweep(predictions: list[Prediction]) -> list[dict]:
    """Re-score with other fallback thresholds, from the raw DIET confidences."""
    results = []
    for threshold in SWEEP_THRESHOLDS:
        rethresholded = [
            Prediction(
                p.expected,
                p.raw_intent if p.raw_confidence >= threshold else FALLBACK,
                p.raw_intent,
                p.raw_confidence,
            )
            for p in predictions
        ]
        results.append(
            {
                "threshold": threshold,
                "in_scope": round(accuracy(rethresholded, True), 4),
                "oos": round(accuracy(rethresholded, False), 4),
            }
        )
    return results


def cross_validate(folds: int) -> dict:
    """Run ``rasa test nlu`` cross-validation on our own data and read its report."""
    rasa = Path(sys.executable).with_name("rasa")
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as out:
        command = [
            str(rasa), "test", "nlu",
            "--nlu", "data/nlu",
            "--config", "config.yml",
            "--cross-validation", "--folds", str(folds),
            "--out", out,
        ]
        completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        report_file = Path(out) / "intent_report.json"
        if completed.returncode != 0 or not report_file.exists():
            sys.stderr.write(completed.stderr[-2000:])
            return {"error": f"rasa test nlu exited {completed.returncode}"}
        report = json.loads(report_file.read_text())
    return {
        "folds": folds,
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
    }


def print_report(summary: dict, top: int) -> None:
    print(f"{'intent':<22}{'correct':>8}{'total':>7}{'acc':>8}")
    for name, figures in summary["per_intent"].items():
        print(f"{name:<22}{figures['correct']:>8}{figures['total']:>7}{figures['accuracy']:>8.3f}")
    print(f"\nTop confusions (expected -> predicted: count), {top} most frequent:")
    for row in summary["confusions"][:top]:
        print(f"  {row['expected']} -> {row['predicted']}: {row['count']}")


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model .tar.gz (default: newest in models/)")
    parser.add_argument("--eval-file", type=Path, default=DEFAULT_EVAL_FILE)
    parser.add_argument("--cv", action="store_true", help="also run 5-fold cross-validation")
    parser.add_argument("--folds", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--sweep", action="store_true", help="re-score other fallback thresholds")
    parser.add_argument("--top", type=int, default=15, help="confusion pairs to print")
    parser.add_argument("--json", type=Path, dest="json_file", help="write the figures here")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    eval_file = args.eval_file.resolve()
    if not eval_file.is_file():
        print(f"evaluation file not found: {eval_file}", file=sys.stderr)
        return 2
    model = args.model or newest_model(REPO_ROOT / "models")
    if model is None or not Path(model).exists():
        print("no trained model: run `rasa train` or pass --model", file=sys.stderr)
        return 1

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.disable(logging.WARNING)
    predictions = asyncio.run(predict_all(Path(model), read_rows(eval_file)))
    summary = summarise(predictions)
    summary["model"] = str(model)
    print_report(summary, args.top)

    if args.sweep:
        summary["sweep"] = sweep(predictions)
        print("\nFallback threshold sweep:")
        for row in summary["sweep"]:
            print(f"  threshold={row['threshold']:.2f} in_scope={row['in_scope']:.3f} oos={row['oos']:.3f}")
    if args.cv:
        summary["cv"] = cross_validate(args.folds)
        print(f"\n{args.folds}-fold CV on data/nlu: {summary['cv']}")
    if args.json_file:
        args.json_file.write_text(json.dumps(summary, indent=2) + "\n")

    print(f"\nin_scope={summary['in_scope']:.3f} oos={summary['oos']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
