"""Swedish text analysis: normalise, tokenise, drop stop words, stem, char n-grams, synonyms."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np
import numpy.typing as npt
import snowballstemmer

from asfmatch.matching import fit_kernels
from asfmatch.matching.stopwords import STOP_WORDS
from asfmatch.matching.synonyms import compile_synonyms, synonym_groups_of

# Feature kinds are told apart by their first character, so one vectorizer can hold all three
# and explanations can turn features back into words. Stems never start with these marks.
GRAM_MARK = "#"
SYNONYM_MARK = "="
# Character n-grams of each stem, with boundary marks: "<måltid>" and "<skolmåltid>" share
# "måltid>"-suffix grams, which is how compounds (head last in Swedish) meet their heads.
GRAM_SIZES = (4, 5)
MIN_GRAM_STEM = 3
# Word endings that Snowball leaves on the stem: grams made only of them ("ning>" in both
# "städning" and "gräsklippning") say nothing about the topic. Large corpora also drop them by
# document frequency (tfidf.GRAM_MAX_DF), but small ones need this list.
_SUFFIXES = ("ning", "ering", "het", "else", "tion", "sion", "ande", "ende", "skap", "itet", "eri")
SUFFIX_GRAMS = frozenset(
    f"{suffix}>"[i : i + n]
    for suffix in _SUFFIXES
    for n in GRAM_SIZES
    for i in range(len(suffix) + 2 - n)
)
MIN_TOKEN = 2

# Letters only (digits carry no topic here); hyphens inside a word join its parts ("IT-support").
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Soft hyphens come from word processors ("ungdoms\u00adverksamhet") and must not split words;
# Unicode hyphens are folded into the ASCII one so one character marks compounds.
_CLEAN = (("\u00ad", ""), ("\u2010", "-"), ("\u2011", "-"))

_stemmer = snowballstemmer.stemmer("swedish")
# Snowball stemmer objects keep state between calls; the cache below makes misses rare, so a
# lock around them is cheap and keeps the analyser safe to share between threads.
_stem_lock = threading.Lock()


def _stem_uncached(word: str) -> str:
    with _stem_lock:
        return str(_stemmer.stemWord(word))


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Snowball Swedish stem of a casefolded word (cached: the vocabulary is small)."""
    return _stem_uncached(word)


_SYNONYMS = compile_synonyms(stem)


def normalise(text: str) -> str:
    """NFKC-normalise and casefold, so "Å", "å" and "a" + ring all compare equal."""
    text = unicodedata.normalize("NFKC", text)
    for old, new in _CLEAN:
        # str.replace is a C scan; str.translate with a dict is ten times slower here.
        if old in text:
            text = text.replace(old, new)
    return text.casefold()


def split_words(text: str) -> list[tuple[str, str, bool]]:
    """Kept words as (token, form to show, is a hyphen part), stop words dropped."""
    return split_normalised(normalise(text))


def split_normalised(text: str) -> list[tuple[str, str, bool]]:
    """split_words() of a text already normalised (normalise() twice may differ from once)."""
    # A hyphenated word yields its joined form ("itsupport", shown as "it-support") and then
    # its parts ("it", "support"), flagged, because the parts' n-grams are already in the
    # joined form's.
    if "-" not in text:
        # Most texts have no hyphen at all: one comprehension instead of the loop below.
        return [
            (word, word, False)
            for word in _WORD.findall(text)
            if len(word) >= MIN_TOKEN and word not in STOP_WORDS
        ]
    words: list[tuple[str, str, bool]] = []
    for word in _WORD.findall(text):
        if "-" in word:
            words.extend(_hyphenated(word))
        elif len(word) >= MIN_TOKEN and word not in STOP_WORDS:
            words.append((word, word, False))
    return words


def _hyphenated(word: str) -> list[tuple[str, str, bool]]:
    parts = word.split("-")
    joined = "".join(parts)
    tokens = (
        [(joined, word, False)] if len(joined) >= MIN_TOKEN and joined not in STOP_WORDS else []
    )
    tokens.extend(
        (part, part, True) for part in parts if len(part) >= MIN_TOKEN and part not in STOP_WORDS
    )
    return tokens


# The code points str.split() cuts at: all white space lies below U+3001.
_IS_SPACE = np.array([chr(c).isspace() for c in range(0x3001)], dtype=np.bool_)


class _PieceNumbers:
    """Numbers the white-space-separated pieces of texts, each distinct piece by first sight,
    in a compiled loop: a Python string and a dict look-up per piece cost the fit a fifth of
    its time at a million documents."""

    def __init__(self) -> None:
        # Empty to begin with: the first text grows them (and so the warm-up compiles that).
        self._slots = np.full(1, -1, np.int32)
        self._hash = np.zeros(0, np.uint64)
        self._start = np.zeros(1, np.int64)
        self._arena = np.zeros(0, np.uint32)
        self.count = 0

    def number(self, text: str) -> npt.NDArray[np.int32]:
        """The numbers of a text's pieces, as str.split() cuts them."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        most = (codes.size + 1) // 2
        self._reserve(self.count + most, int(self._start[self.count]) + codes.size)
        numbers = np.empty(most, np.int32)
        found, self.count = fit_kernels.number_pieces(
            codes,
            _IS_SPACE,
            self._slots,
            self._hash,
            self._start,
            self._arena,
            self.count,
            numbers,
        )
        return numbers[:found]

    def _reserve(self, pieces: int, code_points: int) -> None:
        # Room for `pieces` distinct pieces of `code_points` code points in all, the table
        # at most half full.
        if self._hash.size < pieces:
            size = max(2 * self._hash.size, pieces)
            self._hash = np.concatenate([self._hash, np.zeros(size - self._hash.size, np.uint64)])
            self._start = np.concatenate(
                [self._start, np.zeros(size + 1 - self._start.size, np.int64)]
            )
        if self._arena.size < code_points:
            size = max(2 * self._arena.size, code_points)
            self._arena = np.concatenate(
                [self._arena, np.zeros(size - self._arena.size, np.uint32)]
            )
        if self._slots.size < 2 * pieces:
            self._slots = np.full(1 << (2 * pieces - 1).bit_length(), -1, np.int32)
            fit_kernels.rehash_pieces(self._hash, self.count, self._slots)

    def pieces(self) -> list[str]:
        """The distinct pieces, by number."""
        bounds = self._start[: self.count + 1]
        text = self._arena[: bounds[-1]].tobytes().decode("utf-32-le", "surrogatepass")
        ends = bounds.tolist()
        return [text[a:b] for a, b in pairwise(ends)]


# Many documents are normalised and cut at white space in one pass: joined, each followed by
# a break that is a piece of its own and that normalise() keeps as it is. No word holds white
# space, so each piece's words are those split_words() finds there, and a document's words
# are its pieces' words in order; few pieces are distinct, so each is split into words once.
_BREAK = "\x00"
_JOIN = f" {_BREAK} "
# Documents per pass: enough to make the per-pass cost vanish, few enough that the pass's list
# of pieces stays small.
DOCUMENT_BATCH = 4096


def document_pieces(
    documents: Sequence[str],
) -> tuple[list[str], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Distinct white-space-separated pieces of some normalised documents, and each document's
    pieces as numbers into them: document i's are numbers[starts[i]:starts[i + 1]]."""
    table = _PieceNumbers()
    table.number(_BREAK)
    batches: list[npt.NDArray[np.int32]] = []
    for first in range(0, len(documents), DOCUMENT_BATCH):
        batch = documents[first : first + DOCUMENT_BATCH]
        joined = _JOIN.join(batch) + _JOIN
        if joined.count(_BREAK) != len(batch):
            # A document holding the break itself: there it only separates words, as a space.
            joined = _JOIN.join(d.replace(_BREAK, " ") for d in batch) + _JOIN
        batches.append(table.number(normalise(joined)))
    numbers = np.concatenate(batches) if batches else np.zeros(0, np.int32)
    breaks = np.flatnonzero(numbers == 0)
    starts = np.zeros(len(documents) + 1, dtype=np.int64)
    # Pieces before document i's break: its position less the i breaks before it.
    starts[1:] = breaks - np.arange(breaks.size)
    pieces = numbers[numbers != 0] - 1
    return table.pieces()[1:], pieces, starts


def tokenize(text: str) -> list[str]:
    """Kept words of a text; a hyphenated word yields its joined form then its parts."""
    return [token for token, _, _ in split_words(text)]


def char_grams(word_stem: str) -> tuple[str, ...]:
    """Character 4- and 5-grams of a stem with "<" ">" boundary marks, marked as grams."""
    if len(word_stem) < MIN_GRAM_STEM:
        return ()
    padded = f"<{word_stem}>"
    return tuple(
        GRAM_MARK + gram
        for n in GRAM_SIZES
        for i in range(len(padded) - n + 1)
        if (gram := padded[i : i + n]) not in SUFFIX_GRAMS
    )


@lru_cache(maxsize=500_000)
def token_features(token: str, use_synonyms: bool, with_grams: bool = True) -> tuple[str, ...]:
    """Features of one surface token: its stem, its char n-grams, its synonym groups."""
    word_stem = stem(token)
    features: list[str] = [word_stem]
    if with_grams:
        features.extend(char_grams(word_stem))
    if use_synonyms:
        features.extend(SYNONYM_MARK + group for group in synonym_groups_of(word_stem, _SYNONYMS))
    return tuple(features)


class SwedishAnalyser:
    """Callable analyser for scikit-learn: text -> list of stem, n-gram and synonym features."""

    def __init__(self, use_synonyms: bool = True) -> None:
        self.use_synonyms = use_synonyms

    def __call__(self, text: str) -> list[str]:
        """All features of a text, repeated as often as they occur (for term frequency)."""
        features: list[str] = []
        use_synonyms = self.use_synonyms
        for token, _, is_part in split_words(text):
            features.extend(token_features(token, use_synonyms, not is_part))
        return features
