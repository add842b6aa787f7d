"""Train the FAQ model, evaluate it, register it in a modelport workspace and score one question with it.

    python examples/faq/train.py [--workspace HOME] [--name faq] [--alias production] [--json]

The model ranks the 182 Stack Overflow questions of ``examples/data/faq_questions.tsv`` for a new question: TF-IDF
over each entry's cleaned text (word 1-2-grams and character 3-5-grams, sublinear tf), cosine similarity. It is
served by ``score.py`` (an Azure ML style entry script), which ``evaluate`` also uses to rank, so the figures are
those of the code that serves.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import Normalizer

from modelport import Workspace
from modelport.runtimes import azureml_compat

if TYPE_CHECKING:
    from score import FaqIndex

HERE = Path(__file__).resolve().parent
DATA_FILE = HERE.parent / "data" / "faq_questions.tsv"
SCORE_SCRIPT = HERE / "score.py"
EXAMPLE_QUESTION = "How can I check whether a JavaScript array contains a value?"
_TAG = re.compile(r"<[^>]*>")
FEATURES = "TF-IDF, sublinear tf: word 1-2-grams + char_wb 3-5-grams (equal weight), cosine similarity"


def _import_score() -> ModuleType:
    """``score.py``, imported by path so that this file works as a script and as a module. It imports
    ``azureml.contrib.services`` as Azure ML scripts do; outside a server, modelport's stand-ins answer that."""
    azureml_compat.install()
    spec = importlib.util.spec_from_file_location("faq_score", SCORE_SCRIPT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {SCORE_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


score = _import_score()


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry: the question's id, its accepted answer's id, its title and its cleaned text."""

    id: int
    answer_id: int
    title: str
    text: str

    @property
    def body(self) -> str:
        """The cleaned text without the title it starts with."""
        prefix = _TAG.sub("", self.title).lower() + ". "
        if not self.text.startswith(prefix):
            raise ValueError(f"the text of FAQ entry {self.id} does not start with its title")
        return self.text[len(prefix) :]


def title_of(text0: str) -> str:
    """The title in a ``Text0`` field, which holds the title (plain text), ``". "`` and the HTML body.

    The body always starts with a tag, so the title ends at the first ``". <"``; cutting at the first ``". "``
    would cut titles such as "Direct vs. Delegated - jQuery .on()". Titles are plain text, not HTML (an ``&`` or a
    ``<script>`` in a title is literal), so nothing is stripped or decoded.
    """
    end = text0.find(". <")
    return (text0[:end] if end >= 0 else text0.split(". ", 1)[0]).strip()


def read_faq(path: Path = DATA_FILE) -> list[FaqEntry]:
    """The FAQ entries of a TSV file (quoted CSV-style where a field holds quotes; UTF-8)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            FaqEntry(int(row["Id"]), int(row["AnswerId"]), title_of(row["Text0"]), row["Text"])
            for row in csv.DictReader(f, delimiter="\t")
        ]


def make_vectorizer() -> Pipeline:
    """Texts -> L2-normalized rows: word and character TF-IDF blocks of equal weight, so a dot product of two rows
    is the mean of the two cosine similarities."""
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return Pipeline([("features", FeatureUnion([("words", words), ("chars", chars)])), ("normalize", Normalizer())])


def fit_index(entries: Sequence[FaqEntry], documents: Sequence[str]) -> FaqIndex:
    """A ``score.FaqIndex`` over ``documents`` (one per entry), its vectorizer fitted on them."""
    vectorizer = make_vectorizer()
    matrix = sparse.csr_matrix(vectorizer.fit_transform(list(documents)))
    rows = [{"Id": e.id, "AnswerId": e.answer_id, "title": e.title, "text": e.text} for e in entries]
    faq: FaqIndex = score.FaqIndex(vectorizer, matrix, rows)
    return faq


def accuracy(index: FaqIndex, entries: Sequence[FaqEntry], ks: Sequence[int] = (1, 3)) -> dict[int, float]:
    """Query with each entry's title; accuracy@k is the share of titles whose own entry ranks in the top k."""
    found = [[m["Id"] for m in matches] for matches in index.search([e.title for e in entries], top=max(ks))]
    pairs = list(zip(entries, found, strict=True))
    return {k: round(sum(e.id in ids[:k] for e, ids in pairs) / len(pairs), 4) for k in ks}


@dataclass(frozen=True)
class Evaluation:
    """Title-as-query accuracies: against the served index (title + body) and against the bodies alone."""

    accuracy_at_1: float
    accuracy_at_3: float
    body_only_accuracy_at_1: float
    body_only_accuracy_at_3: float

    def properties(self) -> dict[str, float]:
        return {
            "accuracy@1": self.accuracy_at_1,
            "accuracy@3": self.accuracy_at_3,
            "body_only_accuracy@1": self.body_only_accuracy_at_1,
            "body_only_accuracy@3": self.body_only_accuracy_at_3,
        }


def evaluate(index: FaqIndex, entries: Sequence[FaqEntry]) -> Evaluation:
    """Rank the entries with each entry's title as the question.

    The served index holds each entry's cleaned text, which starts with the title itself, so its figures mostly
    say that the ranking finds a near-verbatim copy. The body-only figures refit the same vectorizer on the texts
    without their titles: the title is then a new question that must be matched to its body, a fairer estimate of
    how a rephrased question fares.
    """
    served = accuracy(index, entries)
    body_only = accuracy(fit_index(entries, [e.body for e in entries]), entries)
    return Evaluation(served[1], served[3], body_only[1], body_only[3])


@dataclass(frozen=True)
class Result:
    """What ``train`` did: the version registered, its evaluation and the example question's matches."""

    name: str
    version: int
    alias: str
    workspace: str
    entries: int
    evaluation: Evaluation
    question: str
    matches: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evaluation"] = self.evaluation.properties()
        return data


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def train(workspace: Workspace, name: str = "faq", alias: str = "production", data: Path = DATA_FILE) -> Result:
    """Fit and evaluate the model, register it as a new version of ``name``, point ``alias`` at it, load it and
    score ``EXAMPLE_QUESTION`` through the loaded runtime."""
    entries = read_faq(data)
    index = fit_index(entries, [e.text for e in entries])
    evaluation = evaluate(index, entries)
    sample_input = {"question": EXAMPLE_QUESTION}
    with tempfile.TemporaryDirectory(prefix="faq-") as scratch:
        folder = Path(scratch) / score.MODEL_FOLDER
        index.save(folder)
        version = workspace.models.register(
            name,
            folder,
            framework="custom",
            entry_script=SCORE_SCRIPT,
            description=f"Ranks {len(entries)} Stack Overflow JavaScript questions for a new question. {FEATURES}.",
            tags={"example": "faq", "task": "text-retrieval", "data": "stackoverflow-javascript"},
            properties={
                **evaluation.properties(),
                "entries": len(entries),
                "features": FEATURES,
                "data_sha256": sha256_of(data),
            },
            sample_input=sample_input,
            sample_output=score.answer(index, json.dumps(sample_input)),
        )
    workspace.models.set_alias(name, alias, version.version)
    runtime = workspace.models.load(f"{name}@{alias}")
    try:
        matches = runtime.predict(json.dumps(sample_input))["matches"]
    finally:
        runtime.unload()
    return Result(
        name, version.version, alias, str(workspace.settings.home), len(entries), evaluation, EXAMPLE_QUESTION, matches
    )


def summary(result: Result) -> str:
    e = result.evaluation
    lines = [
        f"registered {result.name}:{result.version} as {result.name}@{result.alias} in {result.workspace}",
        f"  {result.entries} FAQ entries; {FEATURES}",
        "  each title as the question, ranking its own entry first / in the top 3:",
        f"    index of title + body (served)  accuracy@1 {e.accuracy_at_1:.3f}  accuracy@3 {e.accuracy_at_3:.3f}",
        f"    index of bodies only            accuracy@1 {e.body_only_accuracy_at_1:.3f}  "
        f"accuracy@3 {e.body_only_accuracy_at_3:.3f}",
        f"{result.name}@{result.alias} for {result.question!r}:",
    ]
    lines += [f"  {m['score']:.3f}  {m['question']}  ({m['url']})" for m in result.matches]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="workspace folder (default: $MODELPORT_HOME or .modelport)")
    parser.add_argument("--name", default="faq", help="model name (default: faq)")
    parser.add_argument("--alias", default="production", help="alias to point at the new version (default: production)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    with Workspace(args.workspace) as workspace:
        result = train(workspace, args.name, args.alias)
    print(json.dumps(result.to_dict(), indent=2) if args.json else summary(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
