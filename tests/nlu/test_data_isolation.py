"""Guards on the NLU training data.

The external Bitext set in ../shared/eval is only a fair measure while the model
has never seen it, so no training example may equal or nearly equal one of its
rows. The other tests hold the intent contract: every intent has enough examples,
and the main ones include some Devanagari.

Runs under the app environment, which may not have PyYAML: examples are read with
a small line reader that understands the ``- example`` lines of Rasa YAML.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
EVAL_FILE = REPO_ROOT.parent / "shared" / "eval" / "bitext" / "utterances.csv"

CONTRACT_INTENTS = (
    "order_status", "change_address", "reschedule_delivery", "payment_query",
    "refund_status", "cancel_order", "return_request", "human_handoff", "complaint",
    "greet", "goodbye", "affirm", "deny", "thank", "out_of_scope", "inform",
)
MAIN_INTENTS = (
    "order_status", "change_address", "reschedule_delivery", "payment_query",
    "refund_status", "cancel_order", "human_handoff", "complaint",
)
MIN_EXAMPLES = 40
MIN_DEVANAGARI = 3
NEAR_JACCARD = 0.9
NEAR_MIN_TOKENS = 4

_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_ORDER_ID = re.compile(r"\b(?:ord|ol)[-\s]?\d+\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_PUNCT = re.compile(r"[^\w\s]")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_INTENT_LINE = re.compile(r"^-\s*intent:\s*(\S+)\s*$")
_OTHER_BLOCK = re.compile(r"^-\s*(?:regex|synonym|lookup):")
_EXAMPLE_LINE = re.compile(r"^\s+-\s+(.*)$")


def read_examples(data_dir: Path) -> dict[str, list[str]]:
    """Intent name -> example texts (entity markup removed) from every YAML file."""
    examples: dict[str, list[str]] = defaultdict(list)
    for path in sorted(data_dir.rglob("*.yml")):
        intent = None
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := _INTENT_LINE.match(line):
                intent = match.group(1)
            elif _OTHER_BLOCK.match(line) or (line and not line[0].isspace()):
                intent = None
            elif intent and (match := _EXAMPLE_LINE.match(line)):
                examples[intent].append(_ANNOTATION.sub(r"\1", match.group(1)).strip())
    return examples


def normalise(text: str) -> str:
    """Lowercase, placeholder ids and digits, drop punctuation, collapse spaces."""
    text = _ORDER_ID.sub(" idnum ", text.lower())
    text = _DIGITS.sub(" num ", text)
    text = _PUNCT.sub(" ", text)
    return " ".join(text.split())


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def find_leaks(training: list[str], evaluation: list[str]) -> list[str]:
    """Training examples equal to, or within NEAR_JACCARD of, an evaluation row."""
    eval_norm = {normalise(t) for t in evaluation}
    eval_sets = [set(t.split()) for t in eval_norm]
    index: dict[str, list[int]] = defaultdict(list)
    for i, tokens in enumerate(eval_sets):
        for token in tokens:
            index[token].append(i)
    leaks = []
    for example in training:
        norm = normalise(example)
        if norm in eval_norm:
            leaks.append(example)
            continue
        tokens = set(norm.split())
        if len(tokens) < NEAR_MIN_TOKENS:
            continue
        candidates = {i for token in tokens for i in index.get(token, ())}
        if any(
            len(eval_sets[i]) >= NEAR_MIN_TOKENS and jaccard(tokens, eval_sets[i]) >= NEAR_JACCARD
            for i in candidates
        ):
            leaks.append(example)
    return leaks


@pytest.fixture(scope="module")
def training_examples() -> dict[str, list[str]]:
    return read_examples(DATA_DIR)


def test_normalise_hides_ids_digits_and_punctuation():
    assert normalise("Where is ORD-12345?") == normalise("where is ol100234")
    assert normalise("Pin: 452001!!") == "pin num"


def test_find_leaks_catches_equal_and_near_rows():
    evaluation = ["I want to track order ORD-55555 please now"]
    assert find_leaks(["i want to track order OL-100234 please now!"], evaluation)
    assert find_leaks(["I want to track the order ORD-1 please now"], evaluation) == []


def test_no_training_example_copies_the_eval_set(training_examples):
    if not EVAL_FILE.is_file():
        pytest.fail(f"evaluation set missing: expected {EVAL_FILE} (../shared/eval in CI)")
    with EVAL_FILE.open(newline="", encoding="utf-8") as handle:
        evaluation = [row["text"] for row in csv.DictReader(handle)]
    every_example = [t for texts in training_examples.values() for t in texts]
    leaks = find_leaks(every_example, evaluation)
    assert not leaks, f"{len(leaks)} training examples match eval rows: {leaks[:20]}"


@pytest.mark.parametrize("intent", CONTRACT_INTENTS)
def test_every_contract_intent_has_enough_examples(training_examples, intent):
    assert len(training_examples.get(intent, [])) >= MIN_EXAMPLES


def test_no_intent_outside_the_contract(training_examples):
    assert set(training_examples) <= set(CONTRACT_INTENTS)


@pytest.mark.parametrize("intent", MAIN_INTENTS)
def test_main_intents_have_devanagari_examples(training_examples, intent):
    devanagari = [t for t in training_examples.get(intent, []) if _DEVANAGARI.search(t)]
    assert len(devanagari) >= MIN_DEVANAGARI
