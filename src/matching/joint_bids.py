"""Joint bids: groups of two or three relevant ASFs that together can deliver a need none of
them can deliver alone (its value, its training places, all its kommuner). Pure: the caller
scores the candidates with the ranking and passes them in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import msgspec

from asfmatch.matching.filters import (
    admitted_to_reserved,
    lan_of,
    serves_kommun,
    serves_lan,
)
from asfmatch.matching.model import Need, SupplierProfile

# Candidates looked at: the best this many by relevance. Pairs are then at most K(K-1)/2 and
# triples K(K-1)(K-2)/6 (4,060 for 30), and the search stops as soon as the best groups are
# known (see suggest_groups), so a need nobody can deliver costs milliseconds.
DEFAULT_CANDIDATES = 30
DEFAULT_GROUPS = 5


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A supplier that may join a group, with its relevance for the need (the ranking's
    score, with the capacity and region filters relaxed)."""

    profile: SupplierProfile
    score: float


class GroupMember(msgspec.Struct, frozen=True, kw_only=True):
    """One ASF of a suggested group: its relevance and what it brings."""

    supplier_id: int
    name: str
    score: float
    max_contract_value_sek: int | None
    training_places: int
    # The need's kommuner this member serves.
    serves: list[str]


class JointBid(msgspec.Struct, frozen=True, kw_only=True):
    """A suggested group and why it can deliver: what the need asks and what the members
    bring together. `covers` names what no single ASF could deliver alone and the group can:
    "value", "training_places", "kommuner"."""

    rank: int
    members: list[GroupMember]
    # The group's relevance: its weakest member's score (groups are ranked by it).
    weakest_score: float
    covers: list[str]
    need_value_sek: int | None
    combined_value_sek: int | None
    wanted_places: int
    combined_places: int
    kommuner: list[str]
    # "together 1.8 MSEK ≥ 1.5 MSEK; together they serve Luleå and Boden", and in Swedish.
    summary: str
    summary_sv: str = ""


class Requirement(msgspec.Struct, frozen=True, kw_only=True):
    """What a group must deliver together."""

    value_sek: int | None
    places: int
    kommuner: tuple[str, ...]
    whole_lan: bool
    reserved: bool


def requirement_of(need: Need) -> Requirement:
    """What a need asks of a group."""
    return Requirement(
        value_sek=need.estimated_value_sek,
        places=need.training_places,
        kommuner=need.places,
        whole_lan=need.whole_lan,
        reserved=need.reserved,
    )


def _served(profile: SupplierProfile, need: Requirement) -> frozenset[str]:
    if need.whole_lan:
        # A whole-län need is served by anyone working somewhere in the län (filters.py).
        lan = lan_of(need.kommuner[0])
        return frozenset(need.kommuner) if serves_lan(profile.service_area, lan) else frozenset()
    return frozenset(k for k in need.kommuner if serves_kommun(profile.service_area, k))


class _Member:
    __slots__ = ("candidate", "cap", "places", "served")

    def __init__(self, candidate: Candidate, need: Requirement) -> None:
        self.candidate = candidate
        # An unknown capacity adds nothing a group could promise.
        self.cap = candidate.profile.max_contract_value_sek or 0
        self.places = candidate.profile.training_places
        self.served = _served(candidate.profile, need)


def _value_ok(need: Requirement, cap: int) -> bool:
    return need.value_sek is None or cap >= need.value_sek


def _alone_ok(need: Requirement, member: _Member) -> bool:
    profile = member.candidate.profile
    value_ok = (
        need.value_sek is None
        or profile.max_contract_value_sek is None
        or (profile.max_contract_value_sek >= need.value_sek)
    )
    return value_ok and member.places >= need.places and member.served >= frozenset(need.kommuner)


def _covers(need: Requirement, group: Sequence[_Member]) -> bool:
    return (
        _value_ok(need, sum(m.cap for m in group))
        and sum(m.places for m in group) >= need.places
        and frozenset().union(*(m.served for m in group)) >= frozenset(need.kommuner)
    )


def suggest_groups(
    need: Requirement,
    candidates: Sequence[Candidate],
    *,
    limit: int = DEFAULT_GROUPS,
    top_k: int = DEFAULT_CANDIDATES,
    min_score: float = 0.0,
    kommun_names: Mapping[str, str] | None = None,
) -> list[JointBid]:
    """The best groups (pairs, or triples when no pair can deliver) by their weakest member's
    relevance; [] when one candidate can deliver alone or no group can.

    Candidates that opted out, are inactive, fall below `min_score`, serve none of the need's
    kommuner, or (for a reserved need) miss the 30 % rule are left out first; the `top_k`
    best of the rest are searched."""
    usable = [
        c
        for c in candidates
        if c.profile.joint_bids
        and c.profile.active
        and c.score >= min_score
        and c.score > 0
        and (not need.reserved or admitted_to_reserved(c.profile))
    ]
    usable.sort(key=lambda c: (-c.score, c.profile.id))
    members = [m for m in (_Member(c, need) for c in usable) if m.served][:top_k]
    if not members or any(_alone_ok(need, m) for m in members):
        return []
    for size in (2, 3):
        found = _best_of_size(need, members, size, limit)
        if found:
            names = kommun_names or {}
            return [_explain(need, group, rank, names) for rank, group in enumerate(found, 1)]
    return []


def _best_of_size(
    need: Requirement, members: list[_Member], size: int, limit: int
) -> list[tuple[_Member, ...]]:
    # Members are sorted best first, so a group's weakest member is its last. Walking the
    # weakest member down the list finds groups in rank order: once `limit` are found at the
    # end of one weakest member, no later group can rank higher, and the search stops.
    found: list[tuple[_Member, ...]] = []
    best_caps = sorted((m.cap for m in members), reverse=True)
    for weakest_at, weakest in enumerate(members):
        stronger = members[:weakest_at]
        if len(stronger) < size - 1:
            continue
        # Pruning: the largest capacities available cannot reach the value.
        if not _value_ok(need, weakest.cap + sum(best_caps[: size - 1])):
            continue
        at_this_level: list[tuple[_Member, ...]] = []
        for others in combinations(stronger, size - 1):
            group = (*others, weakest)
            if _covers(need, group):
                at_this_level.append(group)
        # Same weakest score: the group with the stronger others first.
        at_this_level.sort(key=lambda g: (-sum(m.candidate.score for m in g), _ids(g)))
        found.extend(at_this_level)
        if len(found) >= limit:
            break
    return found[:limit]


def _ids(group: Sequence[_Member]) -> tuple[int, ...]:
    return tuple(m.candidate.profile.id for m in group)


def _msek(value: int) -> str:
    return (
        f"{value / 1_000_000:.1f} MSEK" if value >= 100_000 else f"{value:,} SEK".replace(",", " ")
    )


def _explain(
    need: Requirement, group: Sequence[_Member], rank: int, names: Mapping[str, str]
) -> JointBid:
    combined_cap = sum(m.cap for m in group)
    combined_places = sum(m.places for m in group)
    # `covers`: what no member could deliver alone. The sentence states every sum the need
    # asks for, so the buyer sees the group meets all of it.
    covers: list[str] = []
    phrases: list[str] = []
    svenska: list[str] = []
    if need.value_sek is not None:
        if not any(_value_ok(need, m.cap) for m in group):
            covers.append("value")
        together, asked = _msek(combined_cap), _msek(need.value_sek)
        phrases.append(f"together {together} ≥ {asked}")
        svenska.append(f"tillsammans {together.replace('.', ',')} ≥ {asked.replace('.', ',')}")
    if need.places > 0:
        if not any(m.places >= need.places for m in group):
            covers.append("training_places")
        phrases.append(f"together {combined_places} training places ≥ {need.places}")
        svenska.append(f"tillsammans {combined_places} arbetsträningsplatser ≥ {need.places}")
    everywhere = frozenset(need.kommuner)
    if len(everywhere) > 1 or not all(m.served >= everywhere for m in group):
        if not any(m.served >= everywhere for m in group):
            covers.append("kommuner")
        named = [names.get(code, code) for code in need.kommuner]
        phrases.append(f"together they serve {_listed(named, 'and')}")
        svenska.append(f"tillsammans finns ni i {_listed(named, 'och')}")
    ordered = sorted(group, key=lambda m: (-m.candidate.score, m.candidate.profile.id))
    return JointBid(
        rank=rank,
        members=[
            GroupMember(
                supplier_id=m.candidate.profile.id,
                name=m.candidate.profile.name,
                score=m.candidate.score,
                max_contract_value_sek=m.candidate.profile.max_contract_value_sek,
                training_places=m.places,
                serves=[k for k in need.kommuner if k in m.served],
            )
            for m in ordered
        ],
        weakest_score=min(m.candidate.score for m in group),
        covers=covers,
        need_value_sek=need.value_sek,
        combined_value_sek=combined_cap if need.value_sek is not None else None,
        wanted_places=need.places,
        combined_places=combined_places,
        kommuner=list(need.kommuner),
        summary="; ".join(phrases),
        summary_sv="; ".join(svenska),
    )


def _listed(names: list[str], conjunction: str) -> str:
    if len(names) <= 2:
        return f" {conjunction} ".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"
