"""Reservation advice for a draft need: pure rules over the relevant ASFs' real capacities.

Le Marché de l'inclusion advises with fixed counts (more than 30 suitable suppliers and a budget
under 30 % of their average turnover: reserve; more than 10: reserve lots; more than 1: social
clause). An average hides whether anyone can actually carry the contract, so these rules count
the suppliers that can, one by one:

- reserve the whole contract (LOU 4 kap. 18 §) when at least `reserve_min_suppliers` relevant
  ASFs meeting the 30 % rule can each carry its whole value and training places;
- otherwise reserve lots when splitting into k lots (2..`max_lots`, the fewest that works) lets
  at least `lot_min_suppliers` of them each carry one lot;
- otherwise, for a contract worth at least `employment_min_value_sek`, set an employment
  requirement as a contract condition (LOU 17 kap. 1 §, Upphandlingsmyndigheten's model for
  sysselsättningskrav), which any supplier can meet;
- otherwise nothing.

A supplier whose largest contract value is unknown is not counted as able to carry a known
value: the advice rests on stated capacities (the ranking itself lets such suppliers through).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from asfmatch.matching.filters import RESERVED_MIN_SHARE

AdviceCode = Literal["reserve_contract", "reserve_lots", "employment_requirement", "none"]
RESERVE_CONTRACT: AdviceCode = "reserve_contract"
RESERVE_LOTS: AdviceCode = "reserve_lots"
EMPLOYMENT_REQUIREMENT: AdviceCode = "employment_requirement"
NO_ADVICE: AdviceCode = "none"

# Largest contract values listed in a capacity summary.
LARGEST_VALUES_SHOWN = 5


class AdviceThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """The settings the rules read (ASFMATCH_ADVICE_*; defaults documented in settings)."""

    reserve_min_suppliers: int = 3
    lot_min_suppliers: int = 2
    max_lots: int = 10
    employment_min_value_sek: int = 1_000_000


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A relevant ASF serving the draft's place, with what the rules need to know."""

    supplier_id: int
    score: float
    meets_share: bool
    max_contract_value_sek: int | None
    training_places: int


class DraftTerms(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of a draft need the rules weigh."""

    estimated_value_sek: int | None = None
    training_places: int = 0
    reserved: bool = False


class Capacities(msgspec.Struct, frozen=True, kw_only=True):
    """What the relevant ASFs meeting the 30 % rule can carry."""

    # How many of them can each carry the whole draft (value and training places).
    can_carry_whole: int
    # Their largest contract values, largest first (at most LARGEST_VALUES_SHOWN).
    largest_contract_values_sek: list[int]
    # How many of them state no largest contract value.
    unknown_contract_value: int
    max_training_places: int
    total_training_places: int


class LotPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A suggested split: `lots` lots of about `lot_value_sek` and `lot_training_places` each,
    `carriers` eligible ASFs able to carry one, and how many of the lots to reserve."""

    lots: int
    lot_value_sek: int | None
    lot_training_places: int
    carriers: int
    reserved_lots: int


class Reason(msgspec.Struct, frozen=True, kw_only=True):
    """One reason: a code with its numbers (pages word it per language) and English text."""

    code: str
    params: dict[str, int] = msgspec.field(default_factory=dict)
    text: str = ""


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    """The recommendation, its reasons (in order of weight) and, for lots, the plan."""

    code: AdviceCode
    reasons: list[Reason]
    lots: LotPlan | None = None
    capacities: Capacities


def _sek(value: int) -> str:
    return f"{value:,}".replace(",", " ") + " SEK"


def _plural(count: int, one: str, other: str, zero: str | None = None) -> str:
    """The English words for `count` of something (one is exactly 1; `zero` when given)."""
    if count == 0 and zero is not None:
        return zero
    return one if count == 1 else other


def _ceil_div(total: int, parts: int) -> int:
    return -(-total // parts)


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` in `parts` whole shares that differ by at most one and add up to it, larger
    first: each is at most the advised lot size (the ceiling of total / parts)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base, extra = divmod(total, parts)
    return [base + 1 if index < extra else base for index in range(parts)]


def can_carry(candidate: Candidate, value_sek: int | None, places: int) -> bool:
    """True when the supplier's stated capacity covers a contract of `value_sek` (None: any)
    and `places` training places."""
    if value_sek is not None:
        cap = candidate.max_contract_value_sek
        if cap is None or cap < value_sek:
            return False
    return candidate.training_places >= places


def capacities(eligible: Sequence[Candidate], terms: DraftTerms) -> Capacities:
    """Capacity summary of the relevant ASFs that meet the 30 % rule."""
    values = sorted(
        (c.max_contract_value_sek for c in eligible if c.max_contract_value_sek is not None),
        reverse=True,
    )
    return Capacities(
        can_carry_whole=sum(
            can_carry(c, terms.estimated_value_sek, terms.training_places) for c in eligible
        ),
        largest_contract_values_sek=values[:LARGEST_VALUES_SHOWN],
        unknown_contract_value=sum(c.max_contract_value_sek is None for c in eligible),
        max_training_places=max((c.training_places for c in eligible), default=0),
        total_training_places=sum(c.training_places for c in eligible),
    )


def plan_lots(
    eligible: Sequence[Candidate], terms: DraftTerms, thresholds: AdviceThresholds
) -> LotPlan | None:
    """The fewest lots (2..max_lots) that at least `lot_min_suppliers` eligible ASFs can each
    carry one of; None when the draft has nothing to split or no such split exists."""
    value, places = terms.estimated_value_sek, terms.training_places
    if value is None and places <= 0:
        return None
    for lots in range(2, thresholds.max_lots + 1):
        lot_value = None if value is None else _ceil_div(value, lots)
        lot_places = _ceil_div(places, lots) if places > 0 else 0
        carriers = sum(can_carry(c, lot_value, lot_places) for c in eligible)
        if carriers >= thresholds.lot_min_suppliers:
            # Each reserved lot keeps at least lot_min_suppliers possible bidders even after
            # the other reserved lots have gone to different ASFs.
            reserved = min(lots, carriers - thresholds.lot_min_suppliers + 1)
            return LotPlan(
                lots=lots,
                lot_value_sek=lot_value,
                lot_training_places=lot_places,
                carriers=carriers,
                reserved_lots=reserved,
            )
    return None


def advise(
    terms: DraftTerms,
    serving: int,
    relevant: Sequence[Candidate],
    thresholds: AdviceThresholds,
) -> Advice:
    """Recommend reserving the contract, reserving lots, an employment requirement, or nothing,
    from the relevant ASFs serving the place (`serving` counts every active one there)."""
    eligible = [c for c in relevant if c.meets_share]
    summary = capacities(eligible, terms)
    value, places = terms.estimated_value_sek, terms.training_places
    reasons: list[Reason] = []
    if serving == 0:
        reasons.append(
            Reason(code="no_supplier_serves_place", text="No active ASF serves the place.")
        )
    elif not relevant:
        reasons.append(
            Reason(
                code="none_relevant",
                params={"serving": serving},
                text=f"{serving} active "
                + _plural(
                    serving,
                    "ASF serves the place, but it does not offer",
                    "ASFs serve the place, but none offers",
                )
                + " what is asked.",
            )
        )
    elif not eligible:
        reasons.append(
            Reason(
                code="none_meet_share",
                params={
                    "relevant": len(relevant),
                    "min_share_percent": round(RESERVED_MIN_SHARE * 100),
                },
                text=f"{len(relevant)} relevant "
                + _plural(
                    len(relevant),
                    "ASF serves the place, but it does not have",
                    "ASFs serve the place, but none of them has",
                )
                + " the 30 % target-group share a reserved contract requires (LOU 4 kap. 18 §).",
            )
        )
    if value is None:
        reasons.append(
            Reason(
                code="value_unknown",
                text="No estimated value: contract values were not compared; give one for "
                "sharper advice.",
            )
        )

    whole = summary.can_carry_whole
    if eligible and whole >= thresholds.reserve_min_suppliers:
        reasons.insert(0, _carry_whole(whole, thresholds, value, places))
        return Advice(code=RESERVE_CONTRACT, reasons=reasons, capacities=summary)
    if eligible:
        reasons.insert(0, _too_few_for_whole(whole, thresholds, value, places))

    plan = plan_lots(eligible, terms, thresholds) if eligible else None
    employment_fits = value is not None and value >= thresholds.employment_min_value_sek
    if plan is not None:
        reasons.insert(1, _lots_reason(plan, thresholds))
        if plan.reserved_lots < plan.lots and employment_fits:
            reasons.append(
                Reason(
                    code="employment_on_open_lots",
                    params={"open_lots": plan.lots - plan.reserved_lots},
                    text=_plural(
                        plan.lots - plan.reserved_lots,
                        "The lot left open",
                        f"The {plan.lots - plan.reserved_lots} lots left open",
                    )
                    + " can carry an employment requirement (LOU 17 kap. 1 §).",
                )
            )
        if terms.reserved:
            reasons.append(_reserved_flag_risk(whole))
        return Advice(code=RESERVE_LOTS, reasons=reasons, lots=plan, capacities=summary)
    if eligible and (value is not None or places > 0):
        reasons.insert(
            1,
            Reason(
                code="no_lot_split",
                params={"max_lots": thresholds.max_lots, "min": thresholds.lot_min_suppliers},
                text=f"No split into {thresholds.max_lots} lots or fewer gives each lot "
                f"{thresholds.lot_min_suppliers} eligible "
                + _plural(thresholds.lot_min_suppliers, "ASF", "ASFs")
                + " able to carry it.",
            ),
        )
    if terms.reserved:
        reasons.append(_reserved_flag_risk(whole))
    if employment_fits:
        assert value is not None
        reasons.append(
            Reason(
                code="employment_value",
                params={"value_sek": value, "min_value_sek": thresholds.employment_min_value_sek},
                text=f"At {_sek(value)} (at least {_sek(thresholds.employment_min_value_sek)}) "
                "the contract can carry an employment requirement as a contract condition "
                "(LOU 17 kap. 1 §): the winning supplier offers jobs or work placements to "
                "people far from the labour market.",
            )
        )
        return Advice(code=EMPLOYMENT_REQUIREMENT, reasons=reasons, capacities=summary)
    if value is not None:
        reasons.append(
            Reason(
                code="value_below_employment",
                params={"value_sek": value, "min_value_sek": thresholds.employment_min_value_sek},
                text=f"At {_sek(value)} (under {_sek(thresholds.employment_min_value_sek)}) an "
                "employment requirement would be out of proportion.",
            )
        )
    return Advice(code=NO_ADVICE, reasons=reasons, capacities=summary)


def _what(value: int | None, places: int) -> str:
    parts = []
    if value is not None:
        parts.append(_sek(value))
    if places > 0:
        parts.append(f"{places} " + _plural(places, "training place", "training places"))
    return " and ".join(parts) if parts else "the contract"


def _carry_whole(
    whole: int, thresholds: AdviceThresholds, value: int | None, places: int
) -> Reason:
    params = {"carriers": whole, "min": thresholds.reserve_min_suppliers, "places": places}
    if value is not None:
        params["value_sek"] = value
    return Reason(
        code="carry_whole",
        params=params,
        text=f"{whole} relevant "
        + _plural(
            whole,
            "ASF meeting the 30 % rule can carry",
            "ASFs meeting the 30 % rule can each carry",
        )
        + f" {_what(value, places)} (at least {thresholds.reserve_min_suppliers} needed): reserve "
        "the contract (LOU 4 kap. 18 §).",
    )


def _too_few_for_whole(
    whole: int, thresholds: AdviceThresholds, value: int | None, places: int
) -> Reason:
    params = {"carriers": whole, "min": thresholds.reserve_min_suppliers, "places": places}
    if value is not None:
        params["value_sek"] = value
    return Reason(
        code="too_few_for_whole",
        params=params,
        text=_plural(
            whole,
            "Only 1 relevant ASF meeting the 30 % rule can carry",
            f"Only {whole} relevant ASFs meeting the 30 % rule can each carry",
            zero="No relevant ASF meeting the 30 % rule can carry",
        )
        + f" {_what(value, places)}; reserving the whole contract needs "
        f"{thresholds.reserve_min_suppliers}.",
    )


def _lots_reason(plan: LotPlan, thresholds: AdviceThresholds) -> Reason:
    params = {
        "lots": plan.lots,
        "carriers": plan.carriers,
        "min": thresholds.lot_min_suppliers,
        "reserved_lots": plan.reserved_lots,
        "lot_places": plan.lot_training_places,
    }
    if plan.lot_value_sek is not None:
        params["lot_value_sek"] = plan.lot_value_sek
    return Reason(
        code="lots_carriers",
        params=params,
        text=f"Split into {plan.lots} lots of {_what(plan.lot_value_sek, plan.lot_training_places)}"
        + ": "
        + _plural(
            plan.carriers,
            "1 eligible ASF can carry one",
            f"{plan.carriers} eligible ASFs can each carry one",
        )
        + f" (at least {thresholds.lot_min_suppliers} needed); reserve {plan.reserved_lots} of "
        "them.",
    )


def _reserved_flag_risk(whole: int) -> Reason:
    return Reason(
        code="reserved_few_bidders",
        params={"carriers": whole},
        text="The draft is marked reserved, but "
        + _plural(
            whole,
            "only 1 eligible ASF can carry",
            f"only {whole} eligible ASFs can carry",
            zero="no eligible ASF can carry",
        )
        + " all of it: expect few or no tenders.",
    )
