"""What the cluster test does to the hosts: WhatsApp conversations and courier events through lb.

Every message is posted as Twilio posts it (form fields, X-Twilio-Signature over PUBLIC_BASE_URL),
every courier event as Shiprocket sends it (x-api-key). Loops are bounded in count and time.
"""
from __future__ import annotations

import threading
import time
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import psycopg
import requests

from bench.notifications import event as courier_event
from bot import routing
from edge.twilio_auth import sign
from tests.cluster.hosts import LB_URL, PUBLIC_BASE_URL, SID, SR_TOKEN, TOKEN, Cluster
from tests.support.whatsapp import twilio_form

# Each customer's conversation. Every fourth customer sends the last two at the same moment
# (double-texting), so two turns of one sender reach lb, and often both web hosts, together.
SCRIPT = ("hi", "where is my order", "thanks")
DOUBLE_TEXT = ("thanks", "hi")
ANSWER_WAIT = 90.0  # seconds a customer who got the holding reply waits for the answer


@dataclass
class Turn:
    phone: str
    text: str
    sent: float
    done: float
    status: int
    bodies: list[str]
    double: bool = False

    @property
    def held(self) -> bool:
        return self.bodies == [routing.HOLDING]


@dataclass
class Run:
    turns: list[Turn] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    kill_at: float = 0.0
    started: float = 0.0
    ended: float = 0.0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, turn: Turn) -> None:
        with self.lock:
            self.turns.append(turn)

    def rate(self, start: float, end: float) -> float:
        done = [t for t in self.turns if start <= t.done < end]
        return len(done) / (end - start) if end > start else 0.0


def post_message(http: requests.Session, phone: str, text: str) -> tuple[int, list[str]]:
    """One inbound message, on a connection of its own as Twilio sends each webhook (a kept-alive
    one that lb closed while the customer waited would fail before reaching the app)."""
    form = twilio_form(text, phone, AccountSid=SID)
    headers = {"X-Twilio-Signature": sign(TOKEN, PUBLIC_BASE_URL + "/twilio/whatsapp", form), "Connection": "close"}
    resp = http.post(LB_URL + "/twilio/whatsapp", data=form, headers=headers, timeout=60)
    if resp.status_code != 200:
        return resp.status_code, []
    return 200, [(m.findtext("Body") if m.find("Body") is not None else m.text) or "" for m in ET.fromstring(resp.content)]


def rest_count(cluster: Cluster, phone: str) -> int:
    assert cluster.fake is not None
    return len(cluster.fake.sent_to(phone))


def one_turn(cluster: Cluster, run: Run, http: requests.Session, phone: str, text: str, double: bool = False) -> Turn:
    before = rest_count(cluster, phone)
    sent = time.time()
    try:
        status, bodies = post_message(http, phone, text)
    except requests.RequestException as exc:
        status, bodies = 0, []
        run.errors.append(f"{phone} {text!r}: {exc}")
    turn = Turn(phone, text, sent, time.time(), status, bodies, double)
    run.add(turn)
    if turn.held and not double:  # the customer waits for the answer before writing again
        assert cluster.fake is not None
        cluster.fake.wait_for(phone, before + 1, timeout=ANSWER_WAIT)
    return turn


def double_texter(index: int) -> bool:
    return index % 4 == 3


def texts_of(index: int) -> tuple[str, ...]:
    """What customer `index` sends, in order."""
    return SCRIPT[:2] + DOUBLE_TEXT if double_texter(index) else SCRIPT


def conversation(cluster: Cluster, run: Run, index: int, phone: str) -> None:
    http = requests.Session()
    if not double_texter(index):
        for text in SCRIPT:
            one_turn(cluster, run, http, phone, text)
        return
    for text in SCRIPT[:2]:
        one_turn(cluster, run, http, phone, text)
    with ThreadPoolExecutor(2) as pair:  # the same customer, two messages at once
        list(pair.map(lambda text: one_turn(cluster, run, requests.Session(), phone, text, double=True), DOUBLE_TEXT))


def phones(count: int) -> list[str]:
    tag = uuid.uuid4().int % 9000 + 1000
    return [f"+9197{tag:04d}{i:04d}" for i in range(count)]


def drive(cluster: Cluster, count: int, concurrency: int, on_midway: Callable[[], None],
          deadline_s: float = 600) -> Run:
    """`count` conversations, `concurrency` at a time; `on_midway` runs when conversation count/2 starts."""
    run = Run(phones=phones(count))
    deadline = time.monotonic() + deadline_s
    midway = threading.Event()

    def one(index: int) -> None:
        if time.monotonic() > deadline:
            run.errors.append(f"conversation {index} not started: out of time")
            return
        if index == count // 2 and not midway.is_set():
            midway.set()
            run.kill_at = time.time()
            threading.Thread(target=on_midway, daemon=True).start()
        conversation(cluster, run, index, run.phones[index])

    run.started = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    run.ended = time.time()
    return run


def warm_up(cluster: Cluster, senders: int = 8) -> None:
    """A first turn on each Rasa host (its first turn loads what Rasa loads lazily); not measured."""
    http = requests.Session()
    for phone in phones(senders):
        post_message(http, phone, "hi")


def settle(cluster: Cluster, run: Run, timeout: float = 120) -> None:
    """Wait until every held turn has its answer and the fake Twilio has been quiet for 3 s."""
    assert cluster.fake is not None
    held: dict[str, int] = {}
    for t in run.turns:
        held[t.phone] = held.get(t.phone, 0) + t.held
    deadline = time.monotonic() + timeout
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        total = len(cluster.fake.messages)
        if total != last:
            last, quiet_since = total, time.monotonic()
        answered = all(rest_count(cluster, p) >= n for p, n in held.items() if n)
        if answered and time.monotonic() - quiet_since >= 3:
            return
        time.sleep(0.5)


@dataclass
class Notifications:
    events: int
    accepted: int
    accept_seconds: float
    sent_at_kill: int
    sent_rows: int
    phones: list[str]


def notification_rows(db_url: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0]


def courier_burst(cluster: Cluster, count: int, kill: Callable[[], None], concurrency: int = 8,
                  timeout: float = 180) -> Notifications:
    """`count` OUT FOR DELIVERY events through lb, then `kill` (worker-a) once sending has begun."""
    assert cluster.fake is not None
    ts = time.strftime("%d %m %Y %H:%M:%S")
    accepted = []
    cluster.fake.delay = 0.05  # Twilio's API takes time: the sending lasts long enough to be cut

    def post(awb: int) -> None:
        try:
            resp = requests.post(f"{LB_URL}/webhooks/shiprocket", json=courier_event(awb, ts),
                                 headers={"x-api-key": SR_TOKEN}, timeout=30)
            if resp.status_code == 200:
                accepted.append(awb)
        except requests.RequestException:
            pass

    t0 = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, range(1, count + 1)))
    accept_seconds = time.time() - t0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not template_messages(cluster):
        time.sleep(0.05)
    time.sleep(0.3)  # some sends done, most still queued or in flight
    sent_at_kill = len(template_messages(cluster))
    kill()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and notification_rows(cluster.db_url) < count:
        time.sleep(1)
    time.sleep(3)  # anything sent twice would arrive now
    cluster.fake.delay = 0.0
    return Notifications(count, len(accepted), accept_seconds, sent_at_kill, notification_rows(cluster.db_url),
                         [f"+9180{g:08d}" for g in range(1, count + 1)])


def template_messages(cluster: Cluster) -> list[dict]:
    assert cluster.fake is not None
    with cluster.fake.lock:
        return [m for m in cluster.fake.messages if m.get("content_sid")]
