"""Chinese full-text search without a search server: an inverted index of character bigrams.

Chinese has no spaces, and a dictionary segmenter (jieba) misses the new compounds government names are
full of (“一网通办”, “居住证”). Indexing overlapping character bigrams, as the CJK analyzers of Lucene and
Elasticsearch do, finds any substring of two characters or more, and the index is an ordinary table, so
search works the same on SQLite and PostgreSQL. Latin words and digits are indexed whole, lowercased.
"""

from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_TOKEN = 32


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def runs(text: str) -> list[str]:
    return _RUNS.findall(normalize(text))


def is_cjk(run: str) -> bool:
    return bool(_CJK.match(run))


def tokens(text: str) -> set[str]:
    out: set[str] = set()
    for run in runs(text):
        if is_cjk(run):
            if len(run) == 1:
                out.add(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(run[:MAX_TOKEN])
    return out


def weighted(fields: list[tuple[str, float]]) -> dict[str, float]:
    """Tokens of several fields, each token weighted by the most important field it occurs in."""
    result: dict[str, float] = {}
    for text, weight in fields:
        for token in tokens(text):
            result[token] = max(result.get(token, 0.0), weight)
    return result
