"""Entry script of the FAQ model, written as for an Azure ML deployment: ``init()`` loads the model, ``run()`` scores.

The model is a folder, ``faq_model/``, written by ``train.py``:

- ``vectorizer.joblib``: a fitted scikit-learn transformer that maps texts to L2-normalized TF-IDF rows;
- ``matrix.npz``: the FAQ entries' rows (a scipy sparse matrix, one row per entry, L2-normalized);
- ``faq.json``: the entries, in the order of the rows: ``Id``, ``AnswerId``, ``title``, ``text``.

The score of an entry is the cosine similarity of its row and the question's row.

Requests (the raw body, JSON)::

    {"question": "how do I ...", "top": 3}           -> {"matches": [MATCH, ...]}
    {"questions": ["how do I ...", "..."], "top": 3} -> {"results": [{"matches": [MATCH, ...]}, ...]}

``top`` is optional (default 3, from 1 to 20). A MATCH is ``{"Id", "AnswerId", "question", "score", "url"}``: the
Stack Overflow question id, the id of its accepted answer, the question's title, the cosine similarity (rounded to
4 decimals) and a link to the answer. Matches come best first; entries that share no term with the question
(score 0) are left out, so there may be fewer than ``top``. A bad request is answered 400 with
``{"message": ...}`` saying what to send.

``run`` is ``@rawhttp`` (Azure ML's raw request mode) so that the same endpoint also serves a small page: ``GET
/score`` returns a form where a person types a question and sees the matches, which the page POSTs to ``/score``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
from scipy import sparse

MODEL_NAME = "faq"
MODEL_FOLDER = "faq_model"
DEFAULT_TOP = 3
MAX_TOP = 20
MAX_QUESTIONS = 100
MAX_QUESTION_CHARS = 10_000

Match = dict[str, Any]


class FaqIndex:
    """The FAQ entries, their TF-IDF rows and the vectorizer that makes a question's row."""

    def __init__(self, vectorizer: Any, matrix: sparse.csr_matrix, entries: Sequence[dict[str, Any]]) -> None:
        if matrix.shape[0] != len(entries):
            raise ValueError(f"the matrix has {matrix.shape[0]} rows for {len(entries)} FAQ entries")
        self.vectorizer = vectorizer
        self.matrix = sparse.csr_matrix(matrix)
        self.entries = list(entries)

    @classmethod
    def load(cls, folder: Path) -> FaqIndex:
        entries = json.loads((folder / "faq.json").read_text(encoding="utf-8"))
        return cls(joblib.load(folder / "vectorizer.joblib"), sparse.load_npz(folder / "matrix.npz"), entries)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.vectorizer, folder / "vectorizer.joblib")
        sparse.save_npz(folder / "matrix.npz", self.matrix)
        (folder / "faq.json").write_text(json.dumps(self.entries, ensure_ascii=False, indent=1), encoding="utf-8")

    def search(self, questions: Sequence[str], top: int = DEFAULT_TOP) -> list[list[Match]]:
        """The ``top`` best entries for each question, best first; ties keep the order of the FAQ."""
        scores = (self.vectorizer.transform(list(questions)) @ self.matrix.T).toarray()
        results = []
        for row in scores:
            best = np.argsort(-row, kind="stable")[:top]
            results.append([self._match(int(i), float(row[i])) for i in best if row[i] > 0])
        return results

    def _match(self, index: int, score: float) -> Match:
        entry = self.entries[index]
        return {
            "Id": entry["Id"],
            "AnswerId": entry["AnswerId"],
            "question": entry["title"],
            "score": round(score, 4),
            "url": f"https://stackoverflow.com/a/{entry['AnswerId']}",
        }


def parse_request(raw_data: str | bytes) -> tuple[list[str], int, bool]:
    """(questions, top, several) from a request body; ``several`` is true for the ``questions`` form."""
    try:
        body = json.loads(raw_data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f'the request is not JSON ({exc}); send {{"question": "..."}}') from exc
    if not isinstance(body, dict):
        raise ValueError(f'the request must be a JSON object such as {{"question": "..."}}, not {type(body).__name__}')
    unknown = sorted(set(body) - {"question", "questions", "top"})
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}: send 'question' or 'questions', and 'top'")
    if ("question" in body) == ("questions" in body):
        raise ValueError("send exactly one of 'question' (a string) and 'questions' (a list of strings)")
    several = "questions" in body
    if several:
        questions = body["questions"]
        if not isinstance(questions, list) or not questions:
            raise ValueError("'questions' must be a non-empty list of strings")
        if len(questions) > MAX_QUESTIONS:
            raise ValueError(f"'questions' holds {len(questions)} questions; send at most {MAX_QUESTIONS} at a time")
    else:
        questions = [body["question"]]
    for position, question in enumerate(questions):
        what = f"'questions'[{position}]" if several else "'question'"
        if not isinstance(question, str):
            raise ValueError(f"{what} must be a string, not {type(question).__name__}")
        if not question.strip():
            raise ValueError(f"{what} is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise ValueError(f"{what} has {len(question)} characters; the limit is {MAX_QUESTION_CHARS}")
    top = body.get("top", DEFAULT_TOP)
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(f"'top' must be a whole number from 1 to {MAX_TOP}, not {top!r}")
    return [q.strip() for q in questions], top, several


def model_folder() -> Path:
    """The registered ``faq_model`` folder: under ``AZUREML_MODEL_DIR`` (the folder the server gives this version),
    else where ``Model.get_model_path`` finds the model named ``faq``."""
    model_dir = os.environ.get("AZUREML_MODEL_DIR")
    if model_dir and (Path(model_dir) / MODEL_FOLDER).is_dir():
        return Path(model_dir) / MODEL_FOLDER
    from azureml.core.model import Model

    return Path(Model.get_model_path(MODEL_NAME))


index: FaqIndex | None = None


def init() -> None:
    global index
    index = FaqIndex.load(model_folder())


def answer(faq: FaqIndex, raw_data: str | bytes) -> dict[str, Any]:
    """The response to a request body."""
    questions, top, several = parse_request(raw_data)
    results = faq.search(questions, top)
    if several:
        return {"results": [{"matches": matches} for matches in results]}
    return {"matches": results[0]}


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    if request.method == "GET":
        return AMLResponse(PAGE, 200, {"Content-Type": "text/html; charset=utf-8"})
    if index is None:
        raise RuntimeError("init() has not run")
    try:
        return AMLResponse(answer(index, request.get_data()), 200, json_str=True)
    except ValueError as exc:
        return AMLResponse({"message": str(exc)}, 400, json_str=True)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FAQ matching</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  form { display: flex; gap: .5rem; }
  input { flex: 1; font: inherit; padding: .5rem .7rem; border: 1px solid #999; border-radius: 6px; }
  button { font: inherit; padding: .5rem 1rem; border: 0; border-radius: 6px; background: #2557a7; color: #fff; }
  ol { padding-left: 1.4rem; } li { margin: .7rem 0; }
  .score { color: #666; font-size: .85rem; } .error { color: #b00020; }
</style>
</head>
<body>
<h1>Ask a JavaScript question</h1>
<p>Matches among 182 frequently asked Stack Overflow questions (TF-IDF similarity).</p>
<form id="ask"><input id="question" autofocus placeholder="e.g. How do I remove an element from an array?">
<button>Find answers</button></form>
<ol id="matches"></ol>
<p id="status"></p>
<script>
const form = document.getElementById("ask"), list = document.getElementById("matches");
const status = document.getElementById("status");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  list.replaceChildren(); status.className = ""; status.textContent = "Searching...";
  const response = await fetch(window.location.pathname, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({question: document.getElementById("question").value, top: 5}),
  });
  const body = await response.json();
  if (!response.ok) { status.className = "error"; status.textContent = body.message; return; }
  status.textContent = body.matches.length ? "" : "No FAQ entry shares a word with that question.";
  for (const match of body.matches) {
    const item = document.createElement("li"), link = document.createElement("a");
    link.href = match.url; link.textContent = match.question;
    const score = document.createElement("div");
    score.className = "score"; score.textContent = "similarity " + match.score.toFixed(3);
    item.append(link, score); list.append(item);
  }
});
const asked = new URLSearchParams(window.location.search).get("q");  // /score?q=... asks at once
if (asked) { document.getElementById("question").value = asked; form.requestSubmit(); }
</script>
</body>
</html>
"""
