"""The build's ranges of documents cover every document once, in order."""

from __future__ import annotations

import pytest

from asfmatch.matching.build_threads import RANGES_PER_THREAD, ranges, run_all, thread_count


@pytest.mark.parametrize("size", [0, 1, 2, 7, 100, 12_345])
def test_ranges_cover_every_document_once_in_order(size: int) -> None:
    found = ranges(size)
    assert [n for first, stop in found for n in range(first, stop)] == list(range(size))
    assert all(first < stop for first, stop in found)
    assert len(found) <= thread_count() * RANGES_PER_THREAD


def test_run_all_raises_a_failure_of_any_item() -> None:
    def work(item: int) -> None:
        if item == 3:
            raise ValueError(item)

    with pytest.raises(ValueError, match="3"):
        run_all(work, range(6))
