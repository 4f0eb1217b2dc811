"""Tantivy (Rust, BM25) over the same texts, as the ranking bench's reference search engine.

Needs `pip install tantivy` (the `bench` extra); the bench leaves the column out without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# Words only: the query parser treats ( ) : - + " and upper-case AND/OR as syntax.
_WORD = re.compile(r"[^\W\d_]+")
ANALYZER = "sv"


class TantivyBm25:
    """An in-memory Tantivy index of documents, searched by BM25 with OR-ed query words."""

    def __init__(self, texts: Sequence[str]) -> None:
        import tantivy

        # Swedish like ours: lower case, Swedish stop words, Snowball Swedish stems.
        analyzer = (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.stopword("swedish"))
            .filter(tantivy.Filter.stemmer("swedish"))
            .build()
        )
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", tokenizer_name=ANALYZER, index_option="freq")
        self._index = tantivy.Index(builder.build())
        self._index.register_tokenizer(ANALYZER, analyzer)
        writer = self._index.writer(heap_size=256 * 2**20, num_threads=1)
        for text in texts:
            writer.add_document(tantivy.Document(body=text))
        writer.commit()
        writer.wait_merging_threads()
        self._index.reload()
        self._searcher = self._index.searcher()

    def query(self, text: str) -> Any:
        """The parsed OR query of a text's words (parsing is part of a search's cost)."""
        words = " ".join(_WORD.findall(text.lower()))
        return self._index.parse_query(words or "_", ["body"])

    def search(self, text: str, limit: int) -> list[Any]:
        """Addresses of the `limit` best documents by BM25 (no count of all hits)."""
        return list(self._searcher.search(self.query(text), limit, count=False).hits)
