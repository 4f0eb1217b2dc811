"""Why a pair was matched: the words that carried the text score, CPV links, filter checks."""

from __future__ import annotations

import msgspec
import numpy as np

from asfmatch.matching.cpv import CpvLink
from asfmatch.matching.filters import FilterCheck
from asfmatch.matching.tfidf import AnalysedText, SparseVector

TOP_TERMS = 5


class TermWeight(msgspec.Struct, frozen=True, kw_only=True):
    """A word of the query and how much of the text cosine it carried."""

    term: str
    weight: float


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """Text and CPV parts of a score, the words and codes behind them, and the filters passed."""

    text_score: float
    cpv_score: float
    terms: list[TermWeight]
    cpv: list[CpvLink]
    filters: list[FilterCheck]


class TermAttribution:
    """Turns the features a query shares with documents back into the query's words."""

    # A stem feature belongs to the words with that stem; an n-gram feature is shared equally by
    # the words it occurs in; a synonym feature belongs to the words that triggered it. So
    # "skolmåltider" is shown, not "#ltid>", when it met "måltider" only through n-grams.

    def __init__(self, query: AnalysedText, vocabulary_size: int) -> None:
        self.query = query
        # Feature column -> position in the query vector (-1: not in the query), so each
        # document's overlap is one gather instead of a sorted-set intersection.
        self.position = np.full(vocabulary_size, -1, dtype=np.int32)
        self.position[query.vector.cols] = np.arange(query.vector.cols.size, dtype=np.int32)

    def top_terms(
        self, documents: list[SparseVector], limit: int = TOP_TERMS
    ) -> list[list[TermWeight]]:
        """For each document, the query words that carried most of its cosine with the query."""
        if not documents:
            return []
        cols = np.concatenate([d.cols for d in documents])
        vals = np.concatenate([d.vals for d in documents])
        which = np.repeat(np.arange(len(documents)), [d.cols.size for d in documents])
        position = self.position[cols]
        shared = position >= 0
        # contribution[d, i]: query feature i's part of document d's cosine; a document has
        # each feature once, so plain assignment fills it.
        contribution = np.zeros((len(documents), self.query.vector.cols.size))
        contribution[which[shared], position[shared]] = (
            self.query.vector.vals[position[shared]] * vals[shared]
        )
        per_word = np.round(contribution @ self.query.share, 4)
        # Words are in alphabetical order, so a stable sort on weight breaks ties by word.
        order = np.argsort(-per_word, axis=1, kind="stable")[:, :limit]
        words = self.query.words
        result: list[list[TermWeight]] = []
        for row, best in zip(per_word.tolist(), order.tolist(), strict=True):
            result.append([TermWeight(term=words[i], weight=row[i]) for i in best if row[i] > 0])
        return result
