"""A match's explanation in words, built from its structure (terms, CPV links, filter outcomes
with their values) in the page's language; nothing is parsed out of English sentences."""

from __future__ import annotations

import msgspec

from asfmatch.matching.explanation import Explanation
from asfmatch.matching.filters import FilterCheck, FilterValues
from asfmatch.web.i18n import Translator
from asfmatch.web.rendering import area_name_in, cpv_label, kommun_list, kommun_name, lan_name


class Reason(msgspec.Struct, frozen=True):
    """One line of "why": its text and whether it speaks for (True) or against the match."""

    text: str
    passed: bool = True


def _cpv(code: str, t: Translator) -> str:
    return f"{code} {cpv_label(code, t.language)}"


def _filter_params(values: FilterValues, t: Translator) -> dict[str, object]:
    params: dict[str, object] = {}
    if values.kommun is not None:
        params["kommun"] = kommun_name(values.kommun)
    if values.kommuner is not None:
        params["kommuner"] = kommun_list(values.kommuner)
    if values.missing is not None:
        params["missing"] = kommun_list(values.missing)
    if values.lan is not None:
        params["lan"] = lan_name(values.lan)
    if values.service_area is not None:
        params["area"] = ", ".join(area_name_in(code, t) for code in values.service_area) or "–"
    if values.need_value_sek is not None:
        params["value"] = t.sek(values.need_value_sek)
    if values.max_contract_value_sek is not None:
        params["cap"] = t.sek(values.max_contract_value_sek)
    if values.wanted_places is not None:
        params["wanted"] = values.wanted_places
    if values.offered_places is not None:
        params["offered"] = values.offered_places
    if values.target_group_share is not None:
        params["share"] = t.percent(values.target_group_share)
    if values.min_share is not None:
        params["min_share"] = t.percent(values.min_share)
    if values.status is not None:
        params["status"] = t(f"status.{values.status}")
    return params


def filter_reason(check: FilterCheck, t: Translator) -> Reason:
    """One eligibility rule's outcome; a list stored before outcomes existed shows `reason`."""
    key = f"why.filter.{check.outcome}"
    if not check.outcome or not t.has(key):
        return Reason(check.reason, check.passed)
    return Reason(t(key, **_filter_params(check.values, t)), check.passed)


def explain(explanation: Explanation, t: Translator) -> list[Reason]:
    """Why a pair matched: the words, each CPV link, then every filter it passed (or failed)."""
    reasons: list[Reason] = []
    if explanation.terms:
        words = ", ".join(term.term for term in explanation.terms)
        reasons.append(Reason(t("why.terms", words=words)))
    for link in explanation.cpv:
        key = f"why.cpv.{link.relation}"
        text = t(
            key if t.has(key) else "why.cpv.related",
            need=_cpv(link.need_code, t),
            supplier=_cpv(link.supplier_code, t),
        )
        reasons.append(Reason(text))
    reasons.extend(
        filter_reason(check, t)
        for check in explanation.filters
        # "Not reserved", "no training places", "active", "open" say nothing a buyer needs.
        if not check.passed or check.outcome not in _QUIET
    )
    return reasons


_QUIET = {"not_reserved", "none_wanted", "active", "open", "value_unknown", "cap_unknown"}
