"""Peer baseline for `kefu eval` on BANKING77: Python bm25s nearest training question.

Reads the same files (../shared/eval/banking77 by default), indexes every training question
with bm25s (English stemmer + stop words), and answers each test question with the intent of
its nearest training question (hit@1), plus the majority intent of the top 5 and MRR@10 over
the ranked distinct intents. Prints one JSON line so bench/eval_banking77.sh can put it beside
Kefu's figures. Needs `pip install bm25s==0.3.16 PyStemmer`.
"""

import csv
import json
import sys
import time
from collections import Counter
from pathlib import Path

import bm25s
import Stemmer


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["text"], row["category"]) for row in csv.DictReader(f)]


def main():
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/banking77")
    train, test = read(data / "train.csv"), read(data / "test.csv")
    stemmer = Stemmer.Stemmer("english")
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for t, _ in train], stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    index_s = time.perf_counter() - started
    queries = bm25s.tokenize([q for q, _ in test], stopwords="en", stemmer=stemmer, show_progress=False)
    started = time.perf_counter()
    docs, _scores = retriever.retrieve(queries, k=50, show_progress=False)
    query_s = time.perf_counter() - started
    hit1 = hit5 = vote5 = 0
    rr = 0.0
    for (_, want), row in zip(test, docs):
        intents = []
        for i in row:
            intent = train[int(i)][1]
            if intent not in intents:
                intents.append(intent)
        hit1 += intents[:1] == [want]
        hit5 += want in intents[:5]
        if want in intents[:10]:
            rr += 1.0 / (intents.index(want) + 1)
        top5 = Counter(train[int(i)][1] for i in row[:5]).most_common(1)[0][0]
        vote5 += top5 == want
    n = len(test)
    print(json.dumps({
        "peer": f"bm25s {bm25s.__version__} nearest training question",
        "questions": n,
        "hit_at_1": round(hit1 / n, 4),
        "hit_at_5": round(hit5 / n, 4),
        "mrr_at_10": round(rr / n, 4),
        "majority_of_top5": round(vote5 / n, 4),
        "index_seconds": round(index_s, 3),
        "query_ms_mean": round(query_s * 1000 / n, 3),
    }))


if __name__ == "__main__":
    main()
