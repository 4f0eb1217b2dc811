"""The match index: rank eligible suppliers for a need, and open needs for a supplier."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from asfmatch.matching import kernels
from asfmatch.matching.boilerplate import strip_boilerplate
from asfmatch.matching.build_threads import return_freed_memory
from asfmatch.matching.cpv import (
    SIBLING_SIMILARITY,
    CpvLink,
    best_links,
    normalise_codes,
)
from asfmatch.matching.explanation import Explanation, TermAttribution, TermWeight
from asfmatch.matching.filters import (
    FilterCheck,
    admitted_to_reserved,
    eligibility_of_needs,
    eligibility_of_suppliers,
    is_whole_country,
    lan_of,
    serves_all,
)
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.postings import ALL_PLACES, FloatArray, Segment, SlotArray
from asfmatch.matching.store import PLACE_MARK, DocumentStore
from asfmatch.matching.tfidf import AnalysedText, FeatureCounts, SparseVector, TextModel

__all__ = [
    "CPV_WEIGHT",
    "MIN_CPV_EVIDENCE",
    "MIN_TEXT_EVIDENCE",
    "TEXT_WEIGHT",
    "CpvLink",
    "Explanation",
    "FilterCheck",
    "MatchIndex",
    "RankedNeed",
    "RankedSupplier",
    "ScoredItem",
    "TermWeight",
    "need_document",
    "supplier_document",
]

# Score = TEXT_WEIGHT * text cosine + CPV_WEIGHT * CPV similarity. Text carries what is
# actually asked ("städning av skolor, fönsterputs två gånger per år"); CPV codes are a
# strong but coarse signal (buyers pick one code of ~9,500, suppliers often a broad one), and
# CPV similarities are large numbers (0.35-1) where relevant text cosines are 0.1-0.5, so the
# smaller weight still lets a matching code lift a supplier clearly. A need without codes is
# ranked on text alone (weight 1) so its scores still span [0, 1].
TEXT_WEIGHT = 0.6
CPV_WEIGHT = 0.4
# A pair is a match only with some evidence: a text cosine of at least MIN_TEXT_EVIDENCE, or
# CPV codes in the same group or closer. Below that it scores 0 and is left out. Without this
# floor every need lists dozens of suppliers that share one incidental n-gram ("förvaltning")
# or only a CPV division (79 holds law, printing, staffing and interpreting), and a need that
# nobody can deliver still gets a list of noise; a shared division still nudges real matches.
MIN_TEXT_EVIDENCE = 0.02
MIN_CPV_EVIDENCE = SIBLING_SIMILARITY[3]
_EVIDENCE = (MIN_TEXT_EVIDENCE, MIN_CPV_EVIDENCE)
# (text, CPV) weights for a query without and with CPV codes, as arrays of one for the kernel.
_WEIGHTS = {
    False: (np.array([1.0]), np.array([0.0])),
    True: (np.array([TEXT_WEIGHT]), np.array([CPV_WEIGHT])),
}
# Scores are rounded so that a pair scores the same whichever direction it was ranked in and
# whichever segment held it (sums in a different order differ in the last bits).
SCORE_DECIMALS = 6
_SCALE = 10.0**SCORE_DECIMALS
# Refit when documents added, changed or removed since the fit exceed 20 % of the fitted
# corpus (at least 50): new words are unknown to the fitted vocabulary until then, and IDF
# weights drift as the corpus changes.
# The top-k is first sought among the FILTER_FIRST_FACTOR * limit best candidates; most pass
# the filters, and when fewer than `limit` do, all candidates are filtered.
FILTER_FIRST_FACTOR = 4
REFIT_FRACTION = 0.2
REFIT_MIN_CHANGES = 50


class RankedSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier in a need's ranking."""

    supplier_id: int
    score: float
    rank: int
    explanation: Explanation


class ScoredItem(msgspec.Struct, frozen=True, kw_only=True):
    """A ranked document (a supplier for a need, or a need for a supplier) before its
    explanation is built: explain only the ones that are kept."""

    id: int
    score: float
    rank: int
    text_score: float
    cpv_score: float


class RankedNeed(msgspec.Struct, frozen=True, kw_only=True):
    """A need in a supplier's ranking."""

    need_id: int
    score: float
    rank: int
    explanation: Explanation


def _labels_text(codes: Iterable[str], cpv_labels: Mapping[str, str]) -> str:
    return " ".join(cpv_labels.get(code, "") for code in normalise_codes(codes))


def supplier_document(supplier: SupplierProfile, cpv_labels: Mapping[str, str]) -> str:
    """The text indexed for a supplier: name, description and its CPV codes' labels."""
    labels = _labels_text(supplier.cpv_codes, cpv_labels)
    return f"{supplier.name}\n{supplier.description}\n{labels}"


def _supplier_documents(
    suppliers: Iterable[SupplierProfile], cpv_labels: Mapping[str, str]
) -> list[str]:
    # supplier_document() of each, with the labels of each distinct code list joined once: at
    # many suppliers list the same codes (55,000 lists among the bench's 300,000 suppliers).
    labels_of: dict[tuple[str, ...], str] = {}
    documents: list[str] = []
    for supplier in suppliers:
        codes = tuple(supplier.cpv_codes)
        labels = labels_of.get(codes)
        if labels is None:
            labels = labels_of[codes] = _labels_text(codes, cpv_labels)
        documents.append(f"{supplier.name}\n{supplier.description}\n{labels}")
    return documents


def need_document(need: Need, cpv_labels: Mapping[str, str]) -> str:
    """The text indexed for a need: title, description (without procurement boilerplate) and
    its CPV codes' labels."""
    description = strip_boilerplate(need.description)
    return f"{need.title}\n{description}\n{_labels_text(need.cpv_codes, cpv_labels)}"


# A län's partition. Needs: every need of the län. Suppliers: a segment shared by those
# serving the whole län or several of its kommuner, with a member list per kommun.
_LAN_KEY = "län:"


def _area(service_area: Sequence[str]) -> tuple[set[str], set[str]] | None:
    # (län codes, kommuner outside those län) of a service area; None for the whole country.
    # Redundant kommuner are dropped so no document sits in two partitions one query reads.
    codes = [code.strip() for code in service_area]
    if any(is_whole_country(code) for code in codes):
        return None
    lans = {code for code in codes if len(code) == 2}
    return lans, {code for code in codes if len(code) != 2 and lan_of(code) not in lans}


def supplier_partitions(service_area: Sequence[str]) -> tuple[str, ...]:
    """Partition keys of a supplier: "SE"; else per län it serves, the kommun alone when it
    lists one kommun there, or the län's shared segment with the kommuner it lists (all of
    them for a whole län)."""
    if isinstance(service_area, tuple):
        # Profiles hold tuples, and many suppliers list the same area: the index keeps one
        # tuple for them all (a million suppliers hold ~6,000 distinct areas).
        return _supplier_partitions(service_area)
    return _supplier_partitions(tuple(service_area))


@lru_cache(maxsize=1 << 16)
def _supplier_partitions(service_area: tuple[str, ...]) -> tuple[str, ...]:
    area = _area(service_area)
    if area is None:
        return ("SE",)
    lans, kommuner = area
    by_lan: dict[str, list[str]] = {}
    for kommun in sorted(kommuner):
        by_lan.setdefault(lan_of(kommun), []).append(kommun)
    keys = {f"{_LAN_KEY}{lan}{PLACE_MARK}{ALL_PLACES}" for lan in lans}
    for lan, codes in by_lan.items():
        # Several kommuner of one län (or the whole län): the supplier's postings once, in the
        # län's shared segment with a member list per kommun, instead of once per kommun (a
        # supplier serving four kommuner would otherwise be indexed four times).
        if len(codes) == 1:
            keys.add(codes[0])
        else:
            keys.update(f"{_LAN_KEY}{lan}{PLACE_MARK}{code}" for code in codes)
    return tuple(sorted(keys))


def need_partitions(
    kommun: str, whole_lan: bool = False, kommuner: Sequence[str] = ()
) -> tuple[str, ...]:
    """Partition keys of a need: its kommun and its län (a need is in both). A whole-län need
    sits in its län and in the län's "whole-län" partition, read by suppliers serving only
    some kommuner there. A joint procurement (several `kommuner`) sits in each kommun and
    each of their län."""
    lan = lan_of(kommun)
    if len(kommuner) > 1 and not whole_lan:
        lans = dict.fromkeys(_LAN_KEY + lan_of(code) for code in kommuner)
        return (*dict.fromkeys(kommuner), *lans)
    return (_WHOLE_LAN_KEY + lan if whole_lan else kommun, _LAN_KEY + lan)


def _partitions_of(n: Need) -> tuple[str, ...]:
    return need_partitions(n.kommun, n.whole_lan, n.places)


_WHOLE_LAN_KEY = "hela län:"


def _served_need_partitions(service_area: Sequence[str]) -> list[str] | None:
    # The need partitions a service area covers exactly; None for the whole country. A kommun
    # outside the listed län also brings its län's whole-län needs.
    area = _area(service_area)
    if area is None:
        return None
    whole_lan = {_WHOLE_LAN_KEY + lan_of(kommun) for kommun in area[1]}
    return sorted({_LAN_KEY + lan for lan in area[0]} | area[1] | whole_lan)


def _supplier_keys(need: Need, group_keys: Iterable[str]) -> list[tuple[str, list[str] | None]]:
    # Supplier partitions that hold exactly the suppliers serving the need: its kommun's own
    # (suppliers of that one kommun there; for a whole-län need, every kommun's of its län), its
    # län's shared segment, where only the members listing the need's kommuner (or the whole
    # län) serve it, and the whole country. With each key the places to keep in that segment
    # (None: every document serves the need).
    lan = lan_of(need.kommun)
    if not need.whole_lan:
        # A joint procurement: suppliers serving any of its kommuner (the filter then asks
        # for all of them, or a joint bid for some).
        keys: dict[str, list[str] | None] = {}
        for code in need.places:
            keys[code] = None
            several = keys.setdefault(_LAN_KEY + lan_of(code), [])
            if several is not None:
                several.append(code)
        keys["SE"] = None
        return list(keys.items())
    kommuner = sorted(key for key in group_keys if len(key) == 4 and lan_of(key) == lan)
    return [(key, None) for key in (*kommuner, _LAN_KEY + lan, "SE")]


# Per segment holding explained documents: the segment, which of them it holds (positions in
# the explained list) and their local rows there.
_Located = list[tuple[Segment, npt.NDArray[np.intp], npt.NDArray[np.intp]]]


class _Candidates:
    """Scored candidates gathered from segments: global slots, score parts, and where each came
    from (segment and local row), so the kept ones are explained from the same postings."""

    def __init__(self) -> None:
        self.slots: list[SlotArray] = []
        self.text: list[FloatArray] = []
        self.cpv: list[FloatArray] = []
        self.sources: list[Segment] = []
        self.rows: list[npt.NDArray[np.intp]] = []

    def add(
        self,
        segment: Segment,
        text: FloatArray,
        cpv: FloatArray,
        members: npt.NDArray[np.intp] | None = None,
    ) -> None:
        # members: the local rows that may be candidates (cpv is given for those alone).
        if members is not None:
            text = text[members]
        hit = np.flatnonzero((text >= MIN_TEXT_EVIDENCE) | (cpv >= MIN_CPV_EVIDENCE))
        if hit.size:
            local = hit if members is None else members[hit]
            self.slots.append(segment.slots[local])
            self.text.append(text[hit])
            self.cpv.append(cpv[hit])
            self.sources.append(segment)
            self.rows.append(local)

    def take(
        self,
        segment: Segment,
        local: npt.NDArray[np.intp],
        text: FloatArray,
        cpv: FloatArray,
    ) -> None:
        """Add candidates already found in a segment: local rows and their score parts."""
        if local.size:
            self.slots.append(segment.slots[local])
            self.text.append(text)
            self.cpv.append(cpv)
            self.sources.append(segment)
            self.rows.append(local)

    def arrays(self, unique: bool = False) -> tuple[SlotArray, FloatArray, FloatArray]:
        # `unique`: a document may sit in two partitions the query read (a joint procurement
        # in two kommuner, a supplier serving both); keep it once.
        if not self.slots:
            empty = np.zeros(0)
            return np.zeros(0, np.int64), empty, empty
        slots = np.concatenate(self.slots)
        text, cpv = np.concatenate(self.text), np.concatenate(self.cpv)
        self.kept: npt.NDArray[np.intp] | None = None
        if unique and len(self.slots) > 1:
            slots, first = np.unique(slots, return_index=True)
            text, cpv = text[first], cpv[first]
            # locate() counts positions before deduplication.
            self.kept = first
        return slots, text, cpv

    def locate(self, chosen: npt.NDArray[np.intp]) -> _Located:
        """Where chosen candidates (positions in arrays()) came from, by source: the source,
        which of the chosen it holds and their local rows there."""
        kept = getattr(self, "kept", None)
        if kept is not None:
            chosen = kept[chosen]
        if len(self.rows) == 1:
            return [(self.sources[0], np.arange(chosen.size), self.rows[0][chosen])]
        sizes = np.array([rows.size for rows in self.rows], dtype=np.intp)
        order, offsets, bounds = kernels.by_source(sizes, chosen)
        ends = bounds.tolist()
        return [
            (source, order[start:end], rows[offsets[start:end]])
            for source, rows, start, end in zip(
                self.sources, self.rows, ends[:-1], ends[1:], strict=True
            )
            if end > start
        ]


class MatchIndex:
    """TF-IDF and CPV index over suppliers and needs, with eligibility filters built in."""

    # Not safe for concurrent writes: serialise upserts and removals with ranking calls.
    # Explanation terms are the query's words: the need's in rank_suppliers, the supplier's in
    # rank_needs; scores are the same in both directions.

    def __init__(
        self,
        model: TextModel,
        suppliers: DocumentStore[SupplierProfile],
        needs: DocumentStore[Need],
        supplier_profiles: dict[int, SupplierProfile],
        need_profiles: dict[int, Need],
        cpv_labels: Mapping[str, str],
        fitted_documents: int,
    ) -> None:
        self._model = model
        self._suppliers = suppliers
        self._needs = needs
        self._supplier_profiles = supplier_profiles
        self._need_profiles = need_profiles
        self._labels = cpv_labels
        self._fitted_documents = fitted_documents
        self._changes = 0
        self.version = f"tfidf-{fitted_documents}-{model.fingerprint}"
        # Needs in several kommuner: while there are any, need-side candidates are deduplicated.
        self._joint_needs = {n.id for n in need_profiles.values() if len(n.places) > 1}

    @classmethod
    def build(
        cls,
        suppliers: Iterable[SupplierProfile],
        needs: Iterable[Need],
        cpv_labels: Mapping[str, str],
        *,
        use_synonyms: bool = True,
    ) -> MatchIndex:
        """Fit TF-IDF on all supplier and need texts (with CPV labels) and index them."""
        supplier_profiles = {s.id: s for s in sorted(suppliers, key=lambda s: s.id)}
        need_profiles = {n.id: n for n in sorted(needs, key=lambda n: n.id)}
        sups, nds = list(supplier_profiles.values()), list(need_profiles.values())
        documents = _supplier_documents(sups, cpv_labels)
        documents += [need_document(n, cpv_labels) for n in nds]
        counted = FeatureCounts(documents, use_synonyms)
        del documents
        with ThreadPoolExecutor(1) as background:
            # The fit's counting and weighting run without the GIL: this thread meanwhile
            # reads what the two sides index besides text.
            fitting = background.submit(TextModel.fit_counts, counted, use_synonyms)
            del counted
            supplier_fields: dict[str, Any] = {
                "ids": [s.id for s in sups],
                "profiles": sups,
                "codes": [normalise_codes(s.cpv_codes) for s in sups],
                "partitions": [supplier_partitions(s.service_area) for s in sups],
                "alive": [s.active for s in sups],
                "attributes": _supplier_columns(sups),
            }
            need_fields: dict[str, Any] = {
                "ids": [n.id for n in nds],
                "profiles": nds,
                "codes": [normalise_codes(n.cpv_codes) for n in nds],
                "partitions": [_partitions_of(n) for n in nds],
                "alive": [n.status == "open" for n in nds],
                "attributes": _need_columns(nds),
            }
            model, matrix = fitting.result()
        return_freed_memory()
        # Both sides read their rows from the one fitted matrix (a slice would copy it).
        supplier_side = DocumentStore(rows=matrix, **supplier_fields)
        need_side = DocumentStore(rows=matrix, first_row=len(sups), **need_fields)
        del matrix, supplier_fields, need_fields
        return_freed_memory()
        return cls(
            model,
            supplier_side,
            need_side,
            supplier_profiles,
            need_profiles,
            cpv_labels,
            fitted_documents=len(sups) + len(nds),
        )

    def refit(self) -> MatchIndex:
        """A new index fitted on the profiles this one holds now."""
        return MatchIndex.build(
            self._supplier_profiles.values(),
            self._need_profiles.values(),
            self._labels,
            use_synonyms=self._model.use_synonyms,
        )

    @property
    def supplier_count(self) -> int:
        """Suppliers held, active or not."""
        return len(self._supplier_profiles)

    def supplier_profile(self, supplier_id: int) -> SupplierProfile | None:
        """The profile held for a supplier, if any."""
        return self._supplier_profiles.get(supplier_id)

    def supplier_profiles(self) -> list[SupplierProfile]:
        """Every supplier profile held, active or not."""
        return list(self._supplier_profiles.values())

    @property
    def need_count(self) -> int:
        """Needs held, open or not."""
        return len(self._need_profiles)

    def needs_refit(self) -> bool:
        """True when changes since the fit exceed REFIT_FRACTION of it (REFIT_MIN_CHANGES+)."""
        threshold = max(REFIT_MIN_CHANGES, REFIT_FRACTION * self._fitted_documents)
        return self._changes > threshold

    def upsert_supplier(self, s: SupplierProfile) -> None:
        """Add or replace a supplier using the fitted vocabulary (no refit)."""
        self._supplier_profiles[s.id] = s
        self._suppliers.add(
            s.id,
            s,
            self._model.vectorize(supplier_document(s, self._labels)),
            normalise_codes(s.cpv_codes),
            supplier_partitions(s.service_area),
            s.active,
            _supplier_row(s),
        )
        self._changes += 1

    def remove_supplier(self, supplier_id: int) -> None:
        """Forget a supplier; unknown ids are ignored."""
        if self._supplier_profiles.pop(supplier_id, None) is not None:
            self._suppliers.kill(supplier_id)
            self._changes += 1

    def upsert_need(self, n: Need) -> None:
        """Add or replace a need using the fitted vocabulary (no refit)."""
        self._need_profiles[n.id] = n
        if len(n.places) > 1:
            self._joint_needs.add(n.id)
        else:
            self._joint_needs.discard(n.id)
        self._needs.add(
            n.id,
            n,
            self._model.vectorize(need_document(n, self._labels)),
            normalise_codes(n.cpv_codes),
            _partitions_of(n),
            n.status == "open",
            _need_row(n),
        )
        self._changes += 1

    def remove_need(self, need_id: int) -> None:
        """Forget a need; unknown ids are ignored."""
        if self._need_profiles.pop(need_id, None) is not None:
            self._joint_needs.discard(need_id)
            self._needs.kill(need_id)
            self._changes += 1

    def rank_suppliers(
        self, need: Need, limit: int = 20, min_score: float = 0.0
    ) -> list[RankedSupplier]:
        """Eligible suppliers for a need, best first; pairs scoring exactly 0 are left out."""
        analysed = self._model.analyse(need_document(need, self._labels))
        scored, located = self._score_suppliers(need, analysed.vector, limit, min_score)
        explanations = self._explain_suppliers(need, analysed, scored, located)
        return [
            RankedSupplier(supplier_id=doc_id, score=score, rank=rank, explanation=explanation)
            for rank, (doc_id, score, explanation) in enumerate(
                zip(scored.ids, scored.scores, explanations, strict=True), 1
            )
        ]

    def score_suppliers(
        self, need: Need, limit: int = 20, min_score: float = 0.0
    ) -> list[ScoredItem]:
        """rank_suppliers without the explanations (see explain_suppliers)."""
        query = self._model.vectorize(need_document(need, self._labels))
        return self._score_suppliers(need, query, limit, min_score)[0].items()

    def score_partners(self, need: Need, limit: int, min_score: float = 0.0) -> list[ScoredItem]:
        """Candidates for a joint bid: the same scores as `score_suppliers`, but a supplier
        need serve only one of the need's kommuner and its capacity and training places do not
        count (a group adds them up). Active suppliers only; reserved needs still ask 30 %."""
        query = self._model.vectorize(need_document(need, self._labels))
        return self._score_suppliers(need, query, limit, min_score, partner=True)[0].items()

    def _score_suppliers(
        self,
        need: Need,
        query: SparseVector,
        limit: int,
        min_score: float,
        *,
        partner: bool = False,
    ) -> tuple[_Scored, _Located]:
        if need.status != "open" or limit <= 0:
            return _Scored.none(), []
        side = self._suppliers
        side.flush()
        codes = normalise_codes(need.cpv_codes)
        found = _Candidates()
        # A supplier serves the need's kommun exactly when it sits in the partition of that
        # kommun, of its län, or of the whole country, so only those are scored.
        for group in side.groups():
            for key, places in _supplier_keys(need, group.keys()):
                segment = group.get(key)
                if segment is None:
                    continue
                members = None if places is None else segment.members(places)
                if members is not None and members.size == 0:
                    continue
                found.take(
                    segment,
                    *segment.supplier_candidates(query, codes, side.code_table, members, _EVIDENCE),
                )
        joint = len(need.places) > 1 and not need.whole_lan
        slots, text_part, cpv_part = found.arrays(unique=joint)
        columns = side.attributes
        profiles = side.profiles
        # A group bidding as partners adds up capacity and training places.
        value = None if partner else need.estimated_value_sek
        wanted = need.training_places if need.training_places > 0 and not partner else _NOTHING

        def eligible(at: SlotArray) -> npt.NDArray[np.bool_]:
            ok = kernels.eligible_suppliers(
                at,
                side.alive.values,
                columns["reserved_ok"].values,
                need.reserved,
                columns["capacity"].values,
                value or 0,
                value is not None,
                columns["training_places"].values,
                wanted,
            )
            if joint and not partner and at.size:
                ok &= np.array(
                    [serves_all(profiles[slot].service_area, need.places) for slot in at.tolist()],
                    np.bool_,
                )
            return ok

        chosen, scores = self._select(
            slots, text_part, cpv_part, eligible, bool(codes), side, limit, min_score
        )
        items = _Scored.of(side, slots[chosen], scores, text_part[chosen], cpv_part[chosen])
        return items, found.locate(chosen)

    def explain_suppliers(self, need: Need, scored: Sequence[ScoredItem]) -> dict[int, Explanation]:
        """Explanations of scored suppliers for a need, by supplier id; suppliers removed
        from the index since they were scored are left out."""
        known = _Scored.known(self._suppliers, scored)
        if not known.ids:
            return {}
        analysed = self._model.analyse(need_document(need, self._labels))
        return dict(zip(known.ids, self._explain_suppliers(need, analysed, known), strict=True))

    def _explain_suppliers(
        self,
        need: Need,
        analysed: AnalysedText,
        scored: _Scored,
        located: _Located | None = None,
    ) -> list[Explanation]:
        # In the order scored; located: where each sits, when just scored.
        if not scored.ids:
            return []
        side = self._suppliers
        codes = normalise_codes(need.cpv_codes)
        profiles = side.profiles

        def text_of(slot: int) -> SparseVector:
            return self._model.vectorize(supplier_document(profiles[slot], self._labels))

        terms = _terms(side, analysed, scored.slots, located, text_of)
        checks = eligibility_of_suppliers(need, [profiles[slot] for slot in scored.slots])
        side_codes = side.codes
        return [
            Explanation(
                text_score=text_score,
                cpv_score=cpv_score,
                terms=item_terms,
                cpv=best_links(codes, side_codes[slot]),
                filters=filters,
            )
            for slot, text_score, cpv_score, item_terms, filters in zip(
                scored.slots, scored.text, scored.cpv, terms, checks, strict=True
            )
        ]

    def rank_needs(
        self, supplier: SupplierProfile, limit: int = 20, min_score: float = 0.0
    ) -> list[RankedNeed]:
        """Open needs a supplier is eligible for, best first; zero-score pairs left out."""
        analysed = self._model.analyse(supplier_document(supplier, self._labels))
        scored, located = self._score_needs(supplier, analysed.vector, limit, min_score)
        explanations = self._explain_needs(supplier, analysed, scored, located)
        return [
            RankedNeed(need_id=doc_id, score=score, rank=rank, explanation=explanation)
            for rank, (doc_id, score, explanation) in enumerate(
                zip(scored.ids, scored.scores, explanations, strict=True), 1
            )
        ]

    def score_needs(
        self, supplier: SupplierProfile, limit: int = 20, min_score: float = 0.0
    ) -> list[ScoredItem]:
        """rank_needs without the explanations (see explain_needs)."""
        query = self._model.vectorize(supplier_document(supplier, self._labels))
        return self._score_needs(supplier, query, limit, min_score)[0].items()

    def _score_needs(
        self,
        supplier: SupplierProfile,
        query: SparseVector,
        limit: int,
        min_score: float,
    ) -> tuple[_Scored, _Located]:
        if not supplier.active or limit <= 0:
            return _Scored.none(), []
        side = self._needs
        side.flush()
        codes = normalise_codes(supplier.cpv_codes)
        best_by_code: FloatArray | None = None
        for code in codes:
            similarity = side.code_table.similarity(code)
            best_by_code = (
                similarity if best_by_code is None else np.maximum(best_by_code, similarity)
            )
        keys = _served_need_partitions(supplier.service_area)
        found = _Candidates()
        for group in side.groups():
            # The whole country: every län partition. Otherwise the partitions of the listed
            # län and kommuner, which hold exactly the needs the supplier may serve.
            segments = (
                [seg for key, seg in group.items() if key.startswith(_LAN_KEY)]
                if keys is None
                else [group[key] for key in keys if key in group]
            )
            for segment in segments:
                found.add(
                    segment,
                    segment.text_scores(query),
                    segment.cpv_scores_of_needs(best_by_code),
                )
        slots, text_part, cpv_part = found.arrays(unique=bool(self._joint_needs))
        columns = side.attributes
        reserved_ok = admitted_to_reserved(supplier)
        need_profiles = side.profiles
        capacity = supplier.max_contract_value_sek

        def eligible(at: SlotArray) -> npt.NDArray[np.bool_]:
            ok = kernels.eligible_needs(
                at,
                side.alive.values,
                columns["reserved"].values,
                reserved_ok,
                columns["value"].values,
                capacity or 0,
                capacity is not None,
                columns["training_places"].values,
                supplier.training_places,
            )
            joint = np.flatnonzero(columns["n_places"].values[at] > 1)
            if joint.size:
                # A joint procurement asks a supplier alone to serve every kommun of it.
                ok[joint] &= np.array(
                    [
                        serves_all(supplier.service_area, need_profiles[slot].places)
                        for slot in at[joint].tolist()
                    ],
                    np.bool_,
                )
            return ok

        need_has_codes = columns["n_codes"].values[slots] > 0
        chosen, scores = self._select(
            slots, text_part, cpv_part, eligible, need_has_codes, side, limit, min_score
        )
        items = _Scored.of(side, slots[chosen], scores, text_part[chosen], cpv_part[chosen])
        return items, found.locate(chosen)

    def explain_needs(
        self, supplier: SupplierProfile, scored: Sequence[ScoredItem]
    ) -> dict[int, Explanation]:
        """Explanations of scored needs for a supplier, by need id; needs removed from the
        index since they were scored are left out."""
        known = _Scored.known(self._needs, scored)
        if not known.ids:
            return {}
        analysed = self._model.analyse(supplier_document(supplier, self._labels))
        return dict(zip(known.ids, self._explain_needs(supplier, analysed, known), strict=True))

    def _explain_needs(
        self,
        supplier: SupplierProfile,
        analysed: AnalysedText,
        scored: _Scored,
        located: _Located | None = None,
    ) -> list[Explanation]:
        if not scored.ids:
            return []
        side = self._needs
        codes = normalise_codes(supplier.cpv_codes)
        profiles = side.profiles

        def text_of(slot: int) -> SparseVector:
            return self._model.vectorize(need_document(profiles[slot], self._labels))

        terms = _terms(side, analysed, scored.slots, located, text_of)
        checks = eligibility_of_needs([profiles[slot] for slot in scored.slots], supplier)
        side_codes = side.codes
        return [
            Explanation(
                text_score=text_score,
                cpv_score=cpv_score,
                terms=item_terms,
                cpv=best_links(side_codes[slot], codes),
                filters=filters,
            )
            for slot, text_score, cpv_score, item_terms, filters in zip(
                scored.slots, scored.text, scored.cpv, terms, checks, strict=True
            )
        ]

    @staticmethod
    def _select(
        slots: SlotArray,
        text: FloatArray,
        cpv: FloatArray,
        eligible: Callable[[SlotArray], npt.NDArray[np.bool_]],
        need_has_codes: bool | npt.NDArray[np.bool_],
        side: DocumentStore[Any],
        limit: int,
        min_score: float,
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Combine score parts, apply filters and min_score, and pick the top `limit`."""
        if isinstance(need_has_codes, bool):
            text_weight, cpv_weight = _WEIGHTS[need_has_codes]
        else:
            text_weight = np.where(need_has_codes, TEXT_WEIGHT, 1.0)
            cpv_weight = np.where(need_has_codes, CPV_WEIGHT, 0.0)
        # The filters read columns at random slots, the slowest step on a large index, so they
        # run first on the best few candidates, in rank order (ties at the cut included): when
        # enough of those pass, no candidate below the cut can reach the top `limit`.
        ids = side.ids.values
        score, best, kept = kernels.ranked_best(
            text,
            cpv,
            text_weight,
            cpv_weight,
            min_score,
            _SCALE,
            slots,
            ids,
            FILTER_FIRST_FACTOR * limit,
        )
        chosen = best[eligible(slots[best])]
        if chosen.size < limit and best.size < kept:
            keep = np.flatnonzero((score > 0) & (score >= min_score))
            chosen = kernels.top_k(score, keep[eligible(slots[keep])], slots, ids, limit)
        chosen = chosen[:limit]
        return chosen, score[chosen]


def _terms(
    side: DocumentStore[Any],
    analysed: AnalysedText,
    slots: list[int],
    located: _Located | None,
    text_of: Callable[[int], SparseVector],
) -> list[list[TermWeight]]:
    """The query words behind each slot's text score, read from the segments' postings of the
    query's features (by bisection in each list), else from the slot's row."""
    attribution = TermAttribution(analysed)
    count = len(slots)
    if located is None:
        located = _locate(side, slots)
    query = analysed.vector
    # contribution[d, i]: query feature i's part of document d's score.
    contribution = np.zeros((count, query.cols.size))
    covered = 0
    for segment, mine, local in located:
        covered += mine.size
        segment.contribute(local, mine, query, contribution)
    if covered < count:
        # Delta documents, and any slot no segment holds.
        held = np.zeros(count, dtype=np.bool_)
        for _, mine, _ in located:
            held[mine] = True
        for i in np.flatnonzero(~held).tolist():
            row = side.delta_rows.get(slots[i]) or text_of(slots[i])
            shared, row_at = attribution.positions_of(row.cols)
            at = row_at[shared]
            contribution[i, at] = query.vals[at] * row.vals[shared]
    return attribution.top_terms_of(contribution)


def _locate(side: DocumentStore[Any], slots: list[int]) -> _Located:
    # The main segment and local row of each fitted slot, by segment.
    by_segment: dict[int, tuple[Segment, list[int], list[int]]] = {}
    for i, slot in enumerate(slots):
        found = side.locate(slot)
        if found is None:
            continue
        segment, local = found
        entry = by_segment.setdefault(id(segment), (segment, [], []))
        entry[1].append(i)
        entry[2].append(local)
    return [
        (segment, np.array(mine, dtype=np.intp), np.array(local, dtype=np.intp))
        for segment, mine, local in by_segment.values()
    ]


def _rounded(values: FloatArray) -> list[float]:
    """Python's round(value, SCORE_DECIMALS) of each value, mostly without calling it (it
    formats each float's decimals: ~0.25 us each, 40 per ranking)."""
    # rint of the scaled value is the correctly rounded decimal unless the scaling's error
    # could have crossed a half-way point; those few go through round() itself.
    result, doubtful = kernels.rounded(values, _SCALE)
    exact: list[float] = result.tolist()
    for at in doubtful.tolist():
        exact[at] = round(float(values[at]), SCORE_DECIMALS)
    return exact


class _Scored:
    """A ranking before its explanations, as plain lists in rank order: ids, scores, score
    parts (rounded as ScoredItem holds them) and slots."""

    __slots__ = ("cpv", "ids", "scores", "slots", "text")

    def __init__(
        self,
        ids: list[int],
        scores: list[float],
        text: list[float],
        cpv: list[float],
        slots: list[int],
    ) -> None:
        self.ids, self.scores, self.text, self.cpv, self.slots = ids, scores, text, cpv, slots

    @classmethod
    def none(cls) -> _Scored:
        """An empty ranking."""
        return cls([], [], [], [], [])

    @classmethod
    def of(
        cls,
        side: DocumentStore[Any],
        slots: SlotArray,
        scores: FloatArray,
        text: FloatArray,
        cpv: FloatArray,
    ) -> _Scored:
        """The chosen candidates' slots and score parts, in rank order."""
        return cls(
            side.ids.values[slots].tolist(),
            scores.tolist(),
            _rounded(text),
            _rounded(cpv),
            slots.tolist(),
        )

    @classmethod
    def known(cls, side: DocumentStore[Any], scored: Sequence[ScoredItem]) -> _Scored:
        """Scored items still in the index (some may have gone since they were scored)."""
        slot_of = side.slot_of
        kept = [item for item in scored if item.id in slot_of]
        return cls(
            [item.id for item in kept],
            [item.score for item in kept],
            [item.text_score for item in kept],
            [item.cpv_score for item in kept],
            [slot_of[item.id] for item in kept],
        )

    def items(self) -> list[ScoredItem]:
        """As ScoredItems, ranked from 1."""
        return [
            ScoredItem(id=doc_id, score=score, rank=rank, text_score=text, cpv_score=cpv)
            for rank, (doc_id, score, text, cpv) in enumerate(
                zip(self.ids, self.scores, self.text, self.cpv, strict=True), 1
            )
        ]


# Unknown capacity passes every value and an unknown value fits every capacity, as in filters.
_UNLIMITED = int(np.iinfo(np.int64).max)
_NOTHING = int(np.iinfo(np.int64).min)


def _supplier_row(s: SupplierProfile) -> dict[str, Any]:
    return {
        "share": s.target_group_share,
        "reserved_ok": admitted_to_reserved(s),
        "capacity": _UNLIMITED if s.max_contract_value_sek is None else s.max_contract_value_sek,
        "training_places": s.training_places,
    }


def _need_row(n: Need) -> dict[str, Any]:
    return {
        "value": _NOTHING if n.estimated_value_sek is None else n.estimated_value_sek,
        "reserved": n.reserved,
        "training_places": n.training_places,
        "n_codes": len(normalise_codes(n.cpv_codes)),
        "n_places": 1 if n.whole_lan else len(n.places),
    }


def _columns(
    rows: list[dict[str, Any]], dtypes: dict[str, type[Any]]
) -> dict[str, tuple[type[Any], Sequence[Any]]]:
    return {name: (dtype, [row[name] for row in rows]) for name, dtype in dtypes.items()}


def _supplier_columns(
    sups: list[SupplierProfile],
) -> dict[str, tuple[type[Any], Sequence[Any]]]:
    dtypes: dict[str, type[Any]] = {
        "share": np.float64,
        "reserved_ok": np.bool_,
        "capacity": np.int64,
        "training_places": np.int64,
    }
    return _columns([_supplier_row(s) for s in sups], dtypes)


def _need_columns(nds: list[Need]) -> dict[str, tuple[type[Any], Sequence[Any]]]:
    dtypes: dict[str, type[Any]] = {
        "value": np.int64,
        "reserved": np.bool_,
        "training_places": np.int64,
        "n_codes": np.int64,
        "n_places": np.int64,
    }
    return _columns([_need_row(n) for n in nds], dtypes)
