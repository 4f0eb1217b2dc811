"""Swedish text analysis: normalise, tokenise, drop stop words, stem, char n-grams, synonyms."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

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
    # A hyphenated word yields its joined form ("itsupport", shown as "it-support") and then
    # its parts ("it", "support"), flagged, because the parts' n-grams are already in the
    # joined form's.
    text = normalise(text)
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
            parts = word.split("-")
            joined = "".join(parts)
            if len(joined) >= MIN_TOKEN and joined not in STOP_WORDS:
                words.append((joined, word, False))
            words.extend(
                (part, part, True)
                for part in parts
                if len(part) >= MIN_TOKEN and part not in STOP_WORDS
            )
        elif len(word) >= MIN_TOKEN and word not in STOP_WORDS:
            words.append((word, word, False))
    return words


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
