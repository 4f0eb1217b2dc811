"""Potential and advice for a draft need: how many ASFs serve the place, how many are relevant
by the worker's own ranking, how many meet the 30 % rule, what they can carry, and what to do
about it (matching.advice)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from asfmatch.matching.advice import (
    Advice,
    AdviceThresholds,
    Candidate,
    DraftTerms,
    advise,
)
from asfmatch.matching.filters import meets_reserved_share, serves_kommun, serves_lan
from asfmatch.matching.model import Need as RankedNeedInput
from asfmatch.matching.ranking import MatchIndex
from asfmatch.services.access import require
from asfmatch.services.fields import Count, CpvCodes, KommunCode, LongText, Sek
from asfmatch.services.match_index import IndexKeeper
from asfmatch.services.text import LINE
from asfmatch.services.validation import Checker
from asfmatch.storage.db import Connection
from asfmatch.storage.organisations import Principal
from asfmatch.storage.settings import Settings

# An API process syncs its index at most this often: a draft's advice may miss a profile
# changed in the last second, and a burst of keystrokes costs one sync, not one each.
SYNC_MAX_AGE_SECONDS = 1.0
# Relevant suppliers listed in a report (the counts always cover all of them).
LISTED_SUPPLIERS = 50

LanCode = Annotated[str, Meta(pattern=r"^[0-9]{2}$", examples=["25"])]
DraftTitle = Annotated[str, Meta(max_length=200, pattern=LINE)]


class PotentialDraft(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A need being drafted: what (text, CPV codes), where (a kommun or a whole län), how much,
    how many training places, and whether the buyer means to reserve it."""

    title: DraftTitle = ""
    description: LongText = ""
    cpv_codes: CpvCodes = msgspec.field(default_factory=list)
    kommun: KommunCode | None = None
    lan: LanCode | None = None
    estimated_value_sek: Sek | None = None
    training_places: Count = 0
    reserved: bool = False


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """Where the draft is: a kommun, or a whole län."""

    kind: Literal["kommun", "lan"]
    code: str


class RelevantSupplier(msgspec.Struct, frozen=True, kw_only=True):
    """A relevant ASF serving the place, with its score and what it can carry."""

    supplier_id: int
    name: str
    score: float
    meets_share: bool
    target_group_share: float
    max_contract_value_sek: int | None
    training_places: int


class PotentialReport(msgspec.Struct, frozen=True, kw_only=True):
    """The numbers behind the advice, and the advice."""

    place: Place
    # The score from which an ASF counts as relevant (ASFMATCH_POTENTIAL_MIN_SCORE).
    min_score: float
    # Active ASFs whose service area covers the place.
    serving: int
    # Of those, the ones the ranking scores at least min_score.
    relevant: int
    # Of those, the ones with a target-group share of at least 30 % (LOU 4 kap. 18 §).
    meet_share: int
    advice: Advice
    # The relevant ASFs, best first (at most 50).
    suppliers: list[RelevantSupplier]
    # The ranking model that scored them (the worker records the same in every match).
    model_version: str


def thresholds_of(settings: Settings) -> AdviceThresholds:
    """The advice thresholds configured in `settings`."""
    return AdviceThresholds(
        reserve_min_suppliers=settings.advice_reserve_min_suppliers,
        lot_min_suppliers=settings.advice_lot_min_suppliers,
        max_lots=settings.advice_max_lots,
        employment_min_value_sek=settings.advice_employment_min_value_sek,
    )


def checked_draft(draft: PotentialDraft) -> tuple[Place, RankedNeedInput]:
    """The draft's place and the need the ranking scores; Invalid names every bad field."""
    check = Checker()
    if draft.kommun is None and draft.lan is None:
        check.fail("kommun", "give a kommun or a län (lan)")
    elif draft.kommun is not None and draft.lan is not None:
        check.fail("lan", "give a kommun or a län, not both")
    elif draft.kommun is not None:
        check.kommun("kommun", draft.kommun)
    elif draft.lan is not None:
        check.lan("lan", draft.lan)
    codes = check.cpv_codes("cpv_codes", draft.cpv_codes)
    check.raise_if_failed()
    if draft.kommun is not None:
        place = Place(kind="kommun", code=draft.kommun)
        kommun, whole_lan = draft.kommun, False
    else:
        assert draft.lan is not None
        place = Place(kind="lan", code=draft.lan)
        kommun, whole_lan = f"{draft.lan}00", True
    # Scored without value, places or reservation: the filters would hide exactly the
    # suppliers whose capacities and shares the report is about.
    need = RankedNeedInput(
        id=0,
        title=draft.title,
        description=draft.description,
        cpv_codes=tuple(codes),
        kommun=kommun,
        whole_lan=whole_lan,
    )
    return place, need


def assess(index: MatchIndex, draft: PotentialDraft, settings: Settings) -> PotentialReport:
    """Score a checked draft against the index and advise (CPU only, no I/O)."""
    place, need = checked_draft(draft)
    if place.kind == "kommun":
        serving = [
            s
            for s in index.supplier_profiles()
            if s.active and serves_kommun(s.service_area, place.code)
        ]
    else:
        serving = [
            s
            for s in index.supplier_profiles()
            if s.active and serves_lan(s.service_area, place.code)
        ]
    scored = index.score_suppliers(
        need, limit=max(1, index.supplier_count), min_score=settings.potential_min_score
    )
    listed: list[RelevantSupplier] = []
    candidates: list[Candidate] = []
    for item in scored:
        profile = index.supplier_profile(item.id)
        if profile is None:
            continue
        meets = meets_reserved_share(profile.target_group_share)
        candidates.append(
            Candidate(
                supplier_id=profile.id,
                score=item.score,
                meets_share=meets,
                max_contract_value_sek=profile.max_contract_value_sek,
                training_places=profile.training_places,
            )
        )
        listed.append(
            RelevantSupplier(
                supplier_id=profile.id,
                name=profile.name,
                score=item.score,
                meets_share=meets,
                target_group_share=profile.target_group_share,
                max_contract_value_sek=profile.max_contract_value_sek,
                training_places=profile.training_places,
            )
        )
    terms = DraftTerms(
        estimated_value_sek=draft.estimated_value_sek,
        training_places=draft.training_places,
        reserved=draft.reserved,
    )
    advice = advise(terms, len(serving), candidates, thresholds_of(settings))
    return PotentialReport(
        place=place,
        min_score=settings.potential_min_score,
        serving=len(serving),
        relevant=len(candidates),
        meet_share=sum(c.meets_share for c in candidates),
        advice=advice,
        suppliers=listed[:LISTED_SUPPLIERS],
        model_version=index.version,
    )


async def potential(
    db: Connection,
    keeper: IndexKeeper,
    principal: Principal | None,
    draft: PotentialDraft,
    settings: Settings,
) -> PotentialReport:
    """The potential of a draft need and the advice, for a buyer (or an admin); the draft is
    checked before the index is touched."""
    require(principal, "admin", "buyer")
    checked_draft(draft)
    index = await keeper.sync(
        db, max_age=SYNC_MAX_AGE_SECONDS, rebuild_after=settings.reconcile_seconds
    )
    return assess(index, draft, settings)
