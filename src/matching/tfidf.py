"""TF-IDF text model: fitted once on all documents, then turns any text into a unit vector."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse

from asfmatch.matching import fit_kernels, kernels
from asfmatch.matching.analysis import (
    GRAM_MARK,
    SYNONYM_MARK,
    document_pieces,
    split_normalised,
    split_words,
    token_features,
)
from asfmatch.matching.build_threads import ranges, run_all

# A text's vector has three blocks: word stems, character n-grams and synonym concepts. Each
# block is L2-normalised and scaled by the square root of its share, so the cosine of two texts
# is the share-weighted sum of the three block cosines (a text without synonym concepts simply
# has an empty block and can reach at most WORD_SHARE + GRAM_SHARE).
# Stems are the precise signal. N-grams add recall for compounds, inflections and misspellings
# but also match unrelated words that share letters. Synonym groups name the service asked
# for ("lokalvård" = "städning"); in their own block a service match is not outweighed by
# incidental shared words such as "förskolor" or "kontor". The labelled dev set (bench/eval.py)
# scores the same for concept shares 0.15-0.35; 0.30 lets one service match outweigh one shared
# object word ("Lokalvård förskolor" ranks a cleaner above a preschool caterer).
WORD_SHARE = 0.45
GRAM_SHARE = 0.25
CONCEPT_SHARE = 0.30
WORD, GRAM, CONCEPT = 0, 1, 2
_BLOCK_SCALE = np.sqrt(np.array([WORD_SHARE, GRAM_SHARE, CONCEPT_SHARE]))
# N-grams found in more than this fraction of documents are inflection endings ("ning>",
# "ing>") or boilerplate fragments: they carry no topic, and their long posting lists would
# make every document a candidate for every query. Document frequencies only mean something
# in a corpus of some size, so small corpora keep all their n-grams.
GRAM_MAX_DF = 0.2
GRAM_PRUNING_MIN_DOCS = 1000

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]


class SparseVector:
    """A sparse row: sorted column ids and their values."""

    __slots__ = ("cols", "vals")

    def __init__(self, cols: IntArray, vals: FloatArray) -> None:
        self.cols = cols
        self.vals = vals

    def dot(self, other: SparseVector) -> float:
        """Inner product: the text cosine, as share-weighted sum of block cosines."""
        common, mine, theirs = np.intersect1d(
            self.cols, other.cols, assume_unique=True, return_indices=True
        )
        if common.size == 0:
            return 0.0
        return float(np.dot(self.vals[mine], other.vals[theirs]))


def block_of(feature: str) -> int:
    """The block a feature belongs to, from its mark."""
    if feature.startswith(GRAM_MARK):
        return GRAM
    return CONCEPT if feature.startswith(SYNONYM_MARK) else WORD


def _block_scale(
    data: npt.NDArray[np.float32], block: npt.NDArray[np.int8], rows: npt.NDArray[np.intp], n: int
) -> npt.NDArray[np.float32]:
    squares = data.astype(np.float64) ** 2
    # Sum of squares per (row, block), then each value scaled by its block's share / norm.
    norms = np.sqrt(np.bincount(rows * 3 + block, squares, minlength=3 * n))
    norms[norms == 0] = 1.0
    scale = _BLOCK_SCALE[block] / norms[rows * 3 + block]
    scaled: npt.NDArray[np.float32] = (data * scale).astype(np.float32)
    return scaled


_NORMALISE_CHUNK = 20_000


def block_normalise(matrix: sparse.csr_matrix, block: npt.NDArray[np.int8]) -> None:
    """Scale each row's blocks in place to norms sqrt(share): the row gets norm <= 1."""
    indptr = matrix.indptr
    # In row chunks: whole-matrix temporaries would double the build's peak memory.
    for start in range(0, matrix.shape[0], _NORMALISE_CHUNK):
        stop = min(start + _NORMALISE_CHUNK, matrix.shape[0])
        lo, hi = indptr[start], indptr[stop]
        rows = np.repeat(np.arange(stop - start), np.diff(indptr[start : stop + 1]))
        matrix.data[lo:hi] = _block_scale(
            matrix.data[lo:hi], block[matrix.indices[lo:hi]], rows, stop - start
        )


class FeatureCounts:
    """Documents analysed for fitting: the feature names (sorted), each feature's document
    frequency, and each document's counts of the features kept, on request."""

    # The same counts as a CountVectorizer with SwedishAnalyser, but documents are split into
    # pieces in batches (analysis.document_pieces), each distinct piece's features are found
    # once, and the counting runs compiled (fit_kernels): no Python code runs per word of
    # a document.

    def __init__(self, documents: Sequence[str], use_synonyms: bool) -> None:
        pieces, self._pieces, self._starts = document_pieces(documents)
        # Each distinct piece's features (those of its kept words), numbered in order of first
        # appearance; a stop word or a number has none.
        feature_ids: dict[str, int] = {}
        piece_features = array("i")
        piece_ptr = array("q", [0])
        for piece in pieces:
            for token, _, is_part in split_normalised(piece):
                for feature in token_features(token, use_synonyms, not is_part):
                    found = feature_ids.get(feature)
                    if found is None:
                        found = feature_ids[feature] = len(feature_ids)
                    piece_features.append(found)
            piece_ptr.append(len(piece_features))
        self.names = sorted(feature_ids)
        # Renumber features in name order, as scikit-learn sorts its vocabulary.
        rank = np.empty(len(self.names), dtype=np.int32)
        rank[[feature_ids[name] for name in self.names]] = np.arange(
            len(self.names), dtype=np.int32
        )
        self._piece_features = rank[np.frombuffer(piece_features, dtype=np.int32)]
        self._piece_ptr = np.frombuffer(piece_ptr, dtype=np.int64)
        # Frequencies per range of documents: a range's count of stored values is then known
        # before counting, so the ranges' rows are counted side by side into one matrix.
        self._ranges = ranges(self._starts.size - 1)
        self._range_df: list[npt.NDArray[np.int64]] = [np.zeros(0, np.int64)] * len(self._ranges)

        def frequencies(number: int) -> None:
            first, stop = self._ranges[number]
            self._range_df[number] = fit_kernels.document_frequencies(
                self._pieces,
                self._starts,
                self._piece_ptr,
                self._piece_features,
                len(self.names),
                first,
                stop,
            )

        run_all(frequencies, range(len(self._ranges)))
        self.df = np.zeros(len(self.names), np.int64)
        for range_df in self._range_df:
            self.df += range_df

    @property
    def size(self) -> int:
        """Number of documents."""
        return int(self._starts.size - 1)

    def release(self) -> None:
        """Free the documents' pieces (matrix() cannot be called after this)."""
        self._pieces = self._piece_features = np.zeros(0, np.int32)
        self._piece_ptr = np.zeros(1, np.int64)

    def matrix(self, keep: npt.NDArray[np.bool_] | None = None) -> sparse.csr_matrix:
        """Each document's counts (float32 CSR, rows' columns ascending) of the features kept
        (all by default), the kept ones numbered in order."""
        if keep is None:
            keep = np.ones(len(self.names), dtype=np.bool_)
        column = np.where(keep, np.cumsum(keep, dtype=np.int32) - 1, -1).astype(np.int32)
        n_columns = int(keep.sum())
        # Where each range's rows start: the values stored before it.
        outs = np.cumsum([0, *(int(found[keep].sum()) for found in self._range_df)])
        nnz = int(outs[-1])
        indptr = np.zeros(self._starts.size, np.int64)
        indices = np.empty(nnz, np.int32)
        data = np.empty(nnz, np.float32)

        def count(number: int) -> None:
            first, stop = self._ranges[number]
            fit_kernels.count_rows(
                self._pieces,
                self._starts,
                self._piece_ptr,
                self._piece_features,
                column,
                n_columns,
                first,
                stop,
                int(outs[number]),
                indptr,
                indices,
                data,
            )

        run_all(count, range(len(self._ranges)))
        if nnz < np.iinfo(np.int32).max:
            indptr = indptr.astype(np.int32)
        counts = sparse.csr_matrix(
            (data, indices, indptr), shape=(self._starts.size - 1, n_columns)
        )
        counts.has_sorted_indices = True
        return counts


def count_features(
    documents: Sequence[str], use_synonyms: bool
) -> tuple[list[str], sparse.csr_matrix]:
    """Feature names (sorted) and each document's feature counts (float32 CSR, sorted rows)."""
    counted = FeatureCounts(documents, use_synonyms)
    return counted.names, counted.matrix()


class AnalysedText:
    """A text's vector and, for explanations, which of its words own each vector feature."""

    __slots__ = ("share", "vector", "words")

    def __init__(self, vector: SparseVector, words: list[str], share: FloatArray) -> None:
        self.vector = vector
        self.words = words
        # share[i, w]: the part of feature vector.cols[i] owned by word w (rows sum to 1 or 0);
        # words are in alphabetical order.
        self.share = share


class TextModel:
    """Fitted vocabulary and IDF weights; vectorises documents the same way as at fit time."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: FloatArray,
        block: npt.NDArray[np.int8],
        feature_names: Sequence[str],
        use_synonyms: bool,
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        self.block = block
        self.feature_names = feature_names
        self.use_synonyms = use_synonyms
        # (token, is hyphen part) -> its feature columns. Texts are short and the vocabulary
        # small, so after warm-up vectorising is a few dict hits and one np.unique.
        self._token_cols: dict[tuple[str, bool], IntArray] = {}
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(f"{WORD_SHARE}/{GRAM_SHARE}/{CONCEPT_SHARE}/{use_synonyms}".encode())
        digest.update("\n".join(feature_names).encode())
        digest.update(idf.tobytes())
        self.fingerprint = digest.hexdigest()[:12]

    @classmethod
    def fit(
        cls, documents: Sequence[str], use_synonyms: bool
    ) -> tuple[TextModel, sparse.csr_matrix]:
        """Fit on the documents; return the model and their block-normalised float32 rows."""
        return cls.fit_counts(FeatureCounts(documents, use_synonyms), use_synonyms)

    @classmethod
    def fit_counts(
        cls, counted: FeatureCounts, use_synonyms: bool
    ) -> tuple[TextModel, sparse.csr_matrix]:
        """fit() of documents already analysed (FeatureCounts, released here); this part runs
        almost wholly in compiled loops without the GIL, so other threads can work meanwhile."""
        names, df = counted.names, counted.df
        n_docs = counted.size
        if not names:
            # A new service has no profiles yet, and CPV codes alone can still match, so an
            # empty text model is fitted instead of refusing.
            empty = sparse.csr_matrix((n_docs, 0), dtype=np.float32)
            return cls({}, np.zeros(0), np.zeros(0, np.int8), [], use_synonyms), empty
        # Smoothed IDF and sublinear TF in float32, step for step as scikit-learn's
        # TfidfVectorizer(sublinear_tf=True, norm=None, dtype=float32) computes them, which
        # the tests hold it to (and vectorize() relies on).
        idf32 = np.full(len(names), n_docs + 1, dtype=np.float32)
        idf32 /= df.astype(np.float32) + np.float32(1.0)
        np.log(idf32, out=idf32)
        idf32 += np.float32(1.0)
        idf = idf32.astype(np.float64)
        block = np.fromiter((block_of(n) for n in names), np.int8, len(names))
        keep = None
        if n_docs >= GRAM_PRUNING_MIN_DOCS:
            keep = ~((block == GRAM) & (df > GRAM_MAX_DF * n_docs))
            if keep.all():
                keep = None
            else:
                kept = np.flatnonzero(keep)
                names = [names[i] for i in kept]
                idf, block = idf[kept], block[kept]
        # Counted with the pruned n-grams left out, rather than counted and then dropped.
        matrix = counted.matrix(keep)
        counted.release()
        np.log(matrix.data, out=matrix.data)
        matrix.data += np.float32(1.0)
        # Times the IDF and block_normalise() in one compiled pass, the same steps per value.
        weights = idf.astype(np.float32)

        def weigh(rows: tuple[int, int]) -> None:
            fit_kernels.weigh_rows(
                matrix.indptr, matrix.indices, matrix.data, weights, block, _BLOCK_SCALE, *rows
            )

        run_all(weigh, ranges(n_docs))
        matrix.sort_indices()  # a no-op: rows come sorted; kept as the contract
        vocabulary = {name: i for i, name in enumerate(names)}
        model = cls(vocabulary, idf, block, names, use_synonyms)
        return model, matrix

    @property
    def size(self) -> int:
        """Number of features in the vocabulary."""
        return len(self.feature_names)

    def _columns(self, token: str, is_part: bool) -> IntArray:
        cols = self._token_cols.get((token, is_part))
        if cols is None:
            # Features unseen at fit time are dropped: they have no IDF. needs_refit()
            # counts documents changed since, so a drifting vocabulary gets refitted.
            features = token_features(token, self.use_synonyms, not is_part)
            vocabulary = self.vocabulary
            found = [vocabulary[f] for f in features if f in vocabulary]
            cols = np.asarray(found, dtype=np.int32)
            self._token_cols[(token, is_part)] = cols
        return cols

    def vectorize(self, text: str) -> SparseVector:
        """The block-normalised TF-IDF vector of a text, equal to its row had it been fitted."""
        columns = [self._columns(token, is_part) for token, _, is_part in split_words(text)]
        found = np.concatenate(columns) if columns else np.zeros(0, np.int32)
        cols, vals, _ = self._weigh(found, _NO_ITEMS, _NO_ITEMS, 0)
        return SparseVector(cols, vals)

    def analyse(self, text: str) -> AnalysedText:
        """The vector of a text together with the words that own each of its features."""
        items = split_words(text)
        columns = [self._columns(token, is_part) for token, _, is_part in items]
        found = np.concatenate(columns) if columns else np.zeros(0, np.int32)
        # Words numbered alphabetically, so explanations can break weight ties by word.
        words = {word: i for i, word in enumerate(sorted({display for _, display, _ in items}))}
        cols, vals, share = self._weigh(
            found,
            np.array([words[display] for _, display, _ in items], dtype=np.int64),
            np.array([c.size for c in columns], dtype=np.int64),
            len(words),
        )
        return AnalysedText(SparseVector(cols, vals), list(words), share)

    def _weigh(
        self,
        found: IntArray,
        item_owner: npt.NDArray[np.int64],
        item_size: npt.NDArray[np.int64],
        words: int,
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        # One compiled pass instead of some twenty numpy calls on a few dozen features: at
        # 100k documents a query's fixed costs weigh as much as its scoring.
        return kernels.weigh(
            found,
            item_owner,
            item_size,
            words,
            _tf_of_counts(found.size),
            self.idf,
            self.block,
            _BLOCK_SCALE,
        )


_NO_ITEMS = np.zeros(0, np.int64)
# log(count) + 1 in float32, computed by numpy as the fit computes it (float32 log is not
# libm's, so the compiled loop reads it from here), for counts up to its length - 1.
_tf_table = np.zeros(1, np.float32)


def _tf_of_counts(most: int) -> npt.NDArray[np.float32]:
    global _tf_table
    if _tf_table.size <= most:
        counts = np.arange(max(2 * most, 256), dtype=np.float32)
        with np.errstate(divide="ignore"):
            _tf_table = np.log(counts) + np.float32(1.0)
    return _tf_table
