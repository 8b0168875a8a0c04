"""One run of the cluster scenario, shared by the checks in test_cluster.py.

Start the seven hosts (tests/cluster/hosts.py), warm each Rasa up, then drive CONVERSATIONS
WhatsApp conversations through lb, CONCURRENCY customers at a time, and kill rasa-a (SIGKILL)
when half have started; then a burst of courier events, killing worker-a while their
notifications are being sent. Prints turns/s with two Rasa hosts (before the kill) and with one
(after it). Run it with `make test-cluster` (root: it needs the namespaces netns.sh makes).
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster import load
from tests.cluster.hosts import Cluster, start_cluster

CONVERSATIONS = int(os.environ.get("CLUSTER_CONVERSATIONS", "200"))
CONCURRENCY = int(os.environ.get("CLUSTER_CONCURRENCY", "8"))
NOTIFICATIONS = int(os.environ.get("CLUSTER_NOTIFICATIONS", "150"))


@dataclass
class Outcome:
    cluster: Cluster
    run: load.Run
    notes: load.Notifications
    figures: dict


@pytest.fixture(scope="session")
def outcome():
    logs = Path(os.environ.get("CLUSTER_LOGS") or tempfile.mkdtemp(prefix="orderline-cluster-"))
    logs.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    cluster = start_cluster(logs, NOTIFICATIONS)
    try:
        started = time.time() - t0
        load.warm_up(cluster)
        run = load.drive(cluster, CONVERSATIONS, CONCURRENCY, on_midway=lambda: cluster.proc("rasa-a", "rasa").kill())
        load.settle(cluster, run)
        notes = load.courier_burst(cluster, NOTIFICATIONS, kill=lambda: cluster.proc("worker-a", "worker").kill())
        figures = {
            "conversations": CONVERSATIONS, "concurrency": CONCURRENCY, "turns": len(run.turns),
            "held": sum(t.held for t in run.turns),
            "turns_per_s_two_rasa": round(run.rate(run.started, run.kill_at), 2),
            "turns_per_s_one_rasa": round(run.rate(run.kill_at, run.ended), 2),
            "p50_turn_ms": round(1000 * sorted(t.done - t.sent for t in run.turns)[len(run.turns) // 2]),
            "courier_events_per_s_through_lb": round(notes.accepted / notes.accept_seconds, 1),
            "web_processes": 4, "start_s": round(started), "logs": str(logs),
        }
        print("\ncluster: " + json.dumps(figures), flush=True)
        (logs / "figures.json").write_text(json.dumps(figures, indent=1))
        yield Outcome(cluster, run, notes, figures)
    finally:
        cluster.stop()
