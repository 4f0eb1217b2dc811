"""Why a pair was matched: the words that carried the text score, CPV links, filter checks."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from asfmatch.matching import kernels
from asfmatch.matching.cpv import CpvLink
from asfmatch.matching.filters import FilterCheck
from asfmatch.matching.tfidf import AnalysedText

TOP_TERMS = 5
# Term weights are rounded to 4 decimals.
_WEIGHT_SCALE = 1e4


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

    def __init__(self, query: AnalysedText) -> None:
        self.query = query

    def top_terms(
        self,
        cols: npt.NDArray[np.int32],
        vals: npt.NDArray[np.floating[Any]],
        which: npt.NDArray[np.int32],
        documents: int,
        limit: int = TOP_TERMS,
    ) -> list[list[TermWeight]]:
        """For each document, the query words that carried most of its cosine with the query.

        The documents' vectors come concatenated: columns, values, and each value's document.
        """
        if documents == 0:
            return []
        shared, position = self.positions_of(cols)
        return self.top_terms_at(which[shared], position[shared], vals[shared], documents, limit)

    def positions_of(
        self, cols: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """Which of some feature columns the query has, and their positions in the query."""
        query_cols = self.query.vector.cols
        position = np.searchsorted(query_cols, cols)
        position[position == query_cols.size] = 0
        shared = query_cols[position] == cols if query_cols.size else position < 0
        return shared, position

    def top_terms_at(
        self,
        which: npt.NDArray[np.integer[Any]],
        position: npt.NDArray[np.integer[Any]],
        vals: npt.NDArray[np.floating[Any]],
        documents: int,
        limit: int = TOP_TERMS,
    ) -> list[list[TermWeight]]:
        """top_terms from the shared features alone: each one's document, its position among
        the query's features, and the document's value for it."""
        if documents == 0:
            return []
        # contribution[d, i]: query feature i's part of document d's cosine; a document has
        # each feature once, so plain assignment fills it.
        contribution = np.zeros((documents, self.query.vector.cols.size))
        contribution[which, position] = self.query.vector.vals[position] * vals
        return self.top_terms_of(contribution, limit)

    def top_terms_of(
        self, contribution: npt.NDArray[np.float64], limit: int = TOP_TERMS
    ) -> list[list[TermWeight]]:
        """top_terms from each document's contributions (rows) by query feature (columns)."""
        if contribution.shape[0] == 0:
            return []
        # The product stays numpy's (BLAS sums in its own order); ranking its result is one
        # compiled pass instead of rounding, negating and sorting arrays of a few words. Words
        # are in alphabetical order, so the lowest column among equal weights is the first word.
        columns, weights, ends = kernels.top_words(
            contribution @ self.query.share, limit, _WEIGHT_SCALE
        )
        words = self.query.words
        # One flat comprehension and slices: a nested one builds a function frame per row.
        terms = [
            TermWeight(term=words[column], weight=weight)
            for column, weight in zip(columns.tolist(), weights.tolist(), strict=True)
        ]
        bounds = ends.tolist()
        return [terms[start:end] for start, end in zip([0, *bounds[:-1]], bounds, strict=True)]
