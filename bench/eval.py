"""Relevance evaluation: our ranker against a PostgreSQL full-text baseline on the labelled dev set.

Run from the repository root: `.venv/bin/python bench/eval.py [--json PATH] [--per-need]`.
Uses DATABASE_URL when set, otherwise starts the embedded PostgreSQL through `storage.servers`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Running as a script from a checkout: make `src` importable even without `pip install -e`.
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import asyncpg  # noqa: E402

from asfmatch.matching.model import Need, SupplierProfile  # noqa: E402
from asfmatch.reference.cpv import cpv_catalog, cpv_labels_sv, normalise_cpv  # noqa: E402
from asfmatch.reference.regions import is_area_code, kommuner  # noqa: E402

DEVSET = ROOT / "bench" / "eval_data" / "devset.json"
K = 10  # nDCG cut-off and number of suppliers asked of each ranker
P_AT = 5
RELEVANT_GRADE = 2  # precision counts grade >= 2 ("can clearly deliver") as a hit
WHOLE_COUNTRY = "SE"
RESERVED_MIN_SHARE = 0.30
CASE_TAGS = frozenset(
    {
        "synonym", "compound", "inflection", "misleading", "cpv_only", "nobody", "filters",
        "training", "english", "misspelling", "plain",
    }
)  # fmt: skip

Eligibility = Callable[[Need, SupplierProfile], bool]
Ranking = list[int]  # supplier ids, best first


# ----------------------------------------------------------------------------- dev set


@dataclass(frozen=True)
class DevSet:
    """The labelled dev set turned into the ranking core's value objects."""

    suppliers: list[SupplierProfile]
    needs: list[Need]
    supplier_keys: dict[int, str]
    need_keys: dict[int, str]
    cases: dict[int, tuple[str, ...]]
    qrels: dict[int, dict[int, int]]  # need id -> supplier id -> grade 1..3


class DevSetError(ValueError):
    """The dev set file breaks its own format (unknown code, key or tag)."""


def check_devset(raw: dict[str, Any]) -> list[str]:
    """Every problem in the raw dev set: CPV and area codes, kommuner, keys, grades, case tags."""
    problems: list[str] = []
    catalog = cpv_catalog()
    for kind in ("suppliers", "needs"):
        keys = [row["key"] for row in raw[kind]]
        problems += [
            f"duplicate {kind} key {k}" for k in sorted({k for k in keys if keys.count(k) > 1})
        ]
        for row in raw[kind]:
            for code in row["cpv_codes"]:
                if normalise_cpv(code) not in catalog:
                    problems.append(f"{row['key']}: CPV code {code!r} not in CPV 2008")
    for row in raw["suppliers"]:
        problems += [
            f"{row['key']}: service area {code!r} is no kommun, län or SE"
            for code in row["service_area"]
            if not is_area_code(code)
        ]
    for row in raw["needs"]:
        if row["kommun"] not in kommuner():
            problems.append(f"{row['key']}: kommun {row['kommun']!r} unknown")
        problems += [
            f"{row['key']}: case tag {tag!r} unknown"
            for tag in row.get("case", ())
            if tag not in CASE_TAGS
        ]
    need_keys = {row["key"] for row in raw["needs"]}
    supplier_keys = {row["key"] for row in raw["suppliers"]}
    for need_key, judged in raw["qrels"].items():
        if need_key not in need_keys:
            problems.append(f"qrels name unknown need {need_key!r}")
        for supplier_key, grade in judged.items():
            if supplier_key not in supplier_keys:
                problems.append(f"qrels of {need_key} name unknown supplier {supplier_key!r}")
            if grade not in (1, 2, 3):
                problems.append(f"qrels {need_key}/{supplier_key}: grade {grade!r} not in 1..3")
    problems += [f"need {k} has no qrels entry" for k in sorted(need_keys - set(raw["qrels"]))]
    return problems


def load_devset(path: Path = DEVSET) -> DevSet:
    """Read and check devset.json; ids are 1-based positions since the model wants ints."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    problems = check_devset(raw)
    if problems:
        # A typo in a key would silently drop judgements and skew every figure: refuse to run.
        raise DevSetError(f"{path}: " + "; ".join(problems))
    suppliers: list[SupplierProfile] = []
    supplier_ids: dict[str, int] = {}
    for number, row in enumerate(raw["suppliers"], start=1):
        supplier_ids[row["key"]] = number
        suppliers.append(
            SupplierProfile(
                id=number,
                name=row["name"],
                description=row["description"],
                cpv_codes=tuple(row["cpv_codes"]),
                service_area=tuple(row["service_area"]),
                target_group_share=float(row["target_group_share"]),
                max_contract_value_sek=row["max_contract_value_sek"],
                training_places=int(row["training_places"]),
                active=bool(row["active"]),
            )
        )
    needs: list[Need] = []
    need_ids: dict[str, int] = {}
    cases: dict[int, tuple[str, ...]] = {}
    for number, row in enumerate(raw["needs"], start=1):
        need_ids[row["key"]] = number
        cases[number] = tuple(row.get("case", ()))
        needs.append(
            Need(
                id=number,
                title=row["title"],
                description=row["description"],
                cpv_codes=tuple(row["cpv_codes"]),
                kommun=row["kommun"],
                estimated_value_sek=row["estimated_value_sek"],
                reserved=bool(row["reserved"]),
                training_places=int(row["training_places"]),
                status=row["status"],
            )
        )
    qrels: dict[int, dict[int, int]] = {number: {} for number in need_ids.values()}
    for need_key, judged in raw["qrels"].items():
        for supplier_key, grade in judged.items():
            qrels[need_ids[need_key]][supplier_ids[supplier_key]] = int(grade)
    return DevSet(
        suppliers=suppliers,
        needs=needs,
        supplier_keys={v: k for k, v in supplier_ids.items()},
        need_keys={v: k for k, v in need_ids.items()},
        cases=cases,
        qrels=qrels,
    )


# ----------------------------------------------------------------------------- eligibility


def domain_eligible(need: Need, supplier: SupplierProfile) -> bool:
    """The matching rules of DOMAIN.md, written out independently of `matching.filters`.

    The evaluation judges the rankers against this, so a bug in the code under test cannot
    hide itself. An inactive supplier is never eligible: a paused profile must not be offered.
    """
    if not supplier.active:
        return False
    area = supplier.service_area
    if not (need.kommun in area or need.kommun[:2] in area or WHOLE_COUNTRY in area):
        return False
    if (
        need.estimated_value_sek is not None
        and supplier.max_contract_value_sek is not None
        and need.estimated_value_sek > supplier.max_contract_value_sek
    ):
        return False
    if need.training_places > 0 and supplier.training_places < need.training_places:
        return False
    return not (need.reserved and supplier.target_group_share < RESERVED_MIN_SHARE)


def load_is_eligible() -> tuple[Eligibility | None, str]:
    """`matching.filters.is_eligible` if the module exists yet, else None and the reason."""
    try:
        from asfmatch.matching.filters import is_eligible
    except ImportError as error:
        return None, f"{type(error).__name__}: {error}"
    return is_eligible, ""


def eligibility_disagreements(
    dev: DevSet, is_eligible: Eligibility
) -> list[tuple[str, str, bool, bool]]:
    """(need, supplier, is_eligible, domain rules) for every pair where the two disagree."""
    found = []
    for need in dev.needs:
        for supplier in dev.suppliers:
            theirs = bool(is_eligible(need, supplier))
            ours = domain_eligible(need, supplier)
            if theirs != ours:
                key_n, key_s = dev.need_keys[need.id], dev.supplier_keys[supplier.id]
                found.append((key_n, key_s, theirs, ours))
    return found


# ----------------------------------------------------------------------------- metrics


def ideal_grades(dev: DevSet, need: Need) -> list[int]:
    """Grades of the relevant suppliers that are also eligible, best first."""
    by_id = {s.id: s for s in dev.suppliers}
    judged = dev.qrels[need.id]
    return sorted(
        (grade for sid, grade in judged.items() if domain_eligible(need, by_id[sid])),
        reverse=True,
    )


def dcg(grades: Sequence[int]) -> float:
    """Discounted cumulative gain with graded gains 2^rel - 1."""
    return sum((2.0**grade - 1.0) / math.log2(rank + 2) for rank, grade in enumerate(grades))


@dataclass
class NeedScore:
    """One ranker's figures on one need."""

    need_key: str
    ndcg: float
    precision: float | None  # None for needs whose right answer is nobody
    empty_correct: bool | None  # only for those needs
    violations: int
    returned: list[str]


def score_need(dev: DevSet, need: Need, ranking: Ranking) -> NeedScore:
    """nDCG@10, P@5, filter violations of one ranking; see `EXPLANATION` for the definitions."""
    by_id = {s.id: s for s in dev.suppliers}
    top = ranking[:K]
    eligible = [domain_eligible(need, by_id[sid]) for sid in top]
    # An ineligible supplier earns nothing even when relevant: it must never be offered.
    judged = dev.qrels[need.id]
    gains = [judged.get(sid, 0) if ok else 0 for sid, ok in zip(top, eligible, strict=True)]
    ideal = ideal_grades(dev, need)[:K]
    if ideal:
        ndcg = dcg(gains) / dcg(ideal)
        hits = sum(1 for grade in gains[:P_AT] if grade >= RELEVANT_GRADE)
        precision: float | None = hits / P_AT
        empty_correct: bool | None = None
    else:
        ndcg = 1.0 if not top else 0.0
        precision = None
        empty_correct = not top
    return NeedScore(
        need_key=dev.need_keys[need.id],
        ndcg=ndcg,
        precision=precision,
        empty_correct=empty_correct,
        violations=eligible.count(False),
        returned=[dev.supplier_keys[sid] for sid in top],
    )


@dataclass
class RankerResult:
    """One ranker's scores on every need, plus how long ranking took."""

    name: str
    scores: dict[int, NeedScore] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self, need_ids: Sequence[int] | None = None) -> dict[str, Any]:
        """Mean figures over `need_ids` (default: all needs)."""
        chosen = [self.scores[i] for i in (list(self.scores) if need_ids is None else need_ids)]
        answerable = [s for s in chosen if s.precision is not None]
        nobody = [s for s in chosen if s.empty_correct is not None]
        return {
            "ndcg@10": _mean([s.ndcg for s in chosen]),
            "ndcg@10_answerable": _mean([s.ndcg for s in answerable]),
            "p@5": _mean([s.precision for s in answerable if s.precision is not None]),
            "empty_answer_accuracy": _mean([1.0 if s.empty_correct else 0.0 for s in nobody]),
            "filter_violations": sum(s.violations for s in chosen),
            "n_needs": len(chosen),
            "n_answerable": len(answerable),
            "n_nobody": len(nobody),
        }


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ----------------------------------------------------------------------------- our ranker


def rank_ours(
    dev: DevSet, labels: dict[str, str], use_synonyms: bool | None
) -> tuple[dict[int, Ranking], float]:
    """Rankings from `matching.ranking.MatchIndex`; no extra filtering, violations must show."""
    from asfmatch.matching.ranking import MatchIndex

    start = time.perf_counter()
    if use_synonyms is None:
        index = MatchIndex.build(dev.suppliers, dev.needs, labels)
    else:
        index = MatchIndex.build(dev.suppliers, dev.needs, labels, use_synonyms=use_synonyms)
    rankings = {
        need.id: [item.supplier_id for item in index.rank_suppliers(need, limit=K)]
        for need in dev.needs
    }
    return rankings, time.perf_counter() - start


def synonyms_switch() -> tuple[bool, str]:
    """Whether `MatchIndex.build` takes `use_synonyms`, and why not if it cannot be told."""
    try:
        from asfmatch.matching.ranking import MatchIndex
    except ImportError as error:
        return False, f"{type(error).__name__}: {error}"
    try:
        params = inspect.signature(MatchIndex.build).parameters
    except (TypeError, ValueError):
        return False, "signature of MatchIndex.build unreadable"
    return "use_synonyms" in params, ""


# ----------------------------------------------------------------------------- baseline


def _labels_of(codes: Sequence[str], labels: dict[str, str]) -> str:
    # Codes may carry a check digit ("90910000-9"); the label table is keyed by 8 digits.
    found = []
    for raw in codes:
        code = normalise_cpv(raw)
        if code is not None and code in labels:
            found.append(labels[code])
    return " ".join(found)


@asynccontextmanager
async def database_url() -> AsyncIterator[tuple[str, str]]:
    """DATABASE_URL if set, else the embedded server from `storage.servers`; yields (url, how)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured, "DATABASE_URL"
        return
    import msgspec

    from asfmatch.storage.servers import running_servers
    from asfmatch.storage.settings import Settings

    settings = Settings.from_env()
    # The evaluation needs no Redis; a placeholder URL stops running_servers from starting an
    # embedded Redis that nothing would use (it only starts servers for unset URLs).
    if settings.redis_url is None:
        settings = msgspec.structs.replace(settings, redis_url="redis://unused.invalid")
    async with running_servers(settings) as servers:
        yield servers.database_url, "embedded PostgreSQL (storage.servers)"


async def rank_baseline(
    dev: DevSet, labels: dict[str, str], url: str, is_eligible: Eligibility
) -> tuple[dict[int, Ranking], float]:
    """PostgreSQL `swedish` full-text search with ts_rank_cd, then the eligibility filter."""
    by_id = {s.id: s for s in dev.suppliers}
    connection = await asyncpg.connect(url)
    try:
        start = time.perf_counter()
        # A TEMP table lives in this session's own pg_temp schema: app tables are never touched
        # and it disappears when the connection closes, even if the run crashes.
        await connection.execute(
            "CREATE TEMP TABLE eval_supplier_docs (id integer PRIMARY KEY, doc tsvector NOT NULL)"
        )
        await connection.executemany(
            "INSERT INTO eval_supplier_docs (id, doc) VALUES ($1, to_tsvector('swedish', $2))",
            [
                (s.id, f"{s.name} {s.description} {_labels_of(s.cpv_codes, labels)}")
                for s in dev.suppliers
            ],
        )
        # OR of the need's lexemes: plainto_tsquery ANDs every word, and a need text of 15-30
        # words never has all of them in one supplier's profile (on this dev set the AND query
        # matches no supplier for any of the 47 needs). ORing keeps plainto_tsquery's parsing, stemming and stop words
        # (the standard "any word" query) and lets ts_rank_cd reward suppliers matching more
        # and denser lexemes. No LIMIT: the eligibility filter runs after ranking, in Python,
        # with the same is_eligible our ranker uses, and the top 10 are taken afterwards.
        query = """
            WITH q AS (
                SELECT replace(plainto_tsquery('swedish', $1)::text, '&', '|')::tsquery AS query
            )
            SELECT d.id, ts_rank_cd(d.doc, q.query) AS score
            FROM eval_supplier_docs AS d, q
            WHERE d.doc @@ q.query
            ORDER BY score DESC, d.id
        """
        rankings: dict[int, Ranking] = {}
        for need in dev.needs:
            text = f"{need.title} {need.description} {_labels_of(need.cpv_codes, labels)}"
            rows = await connection.fetch(query, text)
            kept = [row["id"] for row in rows if is_eligible(need, by_id[row["id"]])]
            rankings[need.id] = kept[:K]
        return rankings, time.perf_counter() - start
    finally:
        await connection.close()


# ----------------------------------------------------------------------------- report

EXPLANATION = (
    "nDCG@10: gains 2^rel-1, ideal DCG over the relevant suppliers that pass the DOMAIN.md\n"
    "  eligibility rules (region, capacity, training places, reserved share >= 0.30, active).\n"
    "  A returned supplier failing those rules earns no gain and counts as a filter violation.\n"
    "  Needs whose ideal list is empty ('nobody'): nDCG = 1.0 if the ranker returns nothing,\n"
    "  0.0 if it returns anything. 'answerable' averages only the other needs.\n"
    "P@5: suppliers graded >= 2 among the top 5, divided by 5 (also when fewer are returned);\n"
    "  answerable needs only. Empty-answer accuracy: share of 'nobody' needs answered with\n"
    "  an empty list."
)


def _fmt(value: float | int | None, width: int, digits: int = 3) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, int):
        return str(value).rjust(width)
    return f"{value:.{digits}f}".rjust(width)


def print_report(dev: DevSet, results: list[RankerResult], notes: list[str]) -> None:
    """The overall table, the per-case nDCG table and the notes, to stdout."""
    name_width = max(len(r.name) for r in results) + 2
    header = (
        f"{'ranker':<{name_width}}{'nDCG@10':>9}{'nDCG@10*':>10}{'P@5':>7}"
        f"{'empty-acc':>11}{'violations':>12}{'needs':>7}{'secs':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        s = result.summary()
        print(
            f"{result.name:<{name_width}}{_fmt(s['ndcg@10'], 9)}"
            f"{_fmt(s['ndcg@10_answerable'], 10)}{_fmt(s['p@5'], 7)}"
            f"{_fmt(s['empty_answer_accuracy'], 11)}{_fmt(s['filter_violations'], 12)}"
            f"{_fmt(s['n_needs'], 7)}{_fmt(result.seconds, 7, 2)}"
        )
    first = results[0].summary()
    print(
        f"(* answerable needs only: {first['n_answerable']}; 'nobody' needs: "
        f"{first['n_nobody']}; P@5 ceiling of a perfect ranker: {oracle_precision(dev):.3f})"
    )
    print()
    case_names = sorted({case for cases in dev.cases.values() for case in cases})
    width = max(12, *(len(r.name) + 2 for r in results))
    print(f"{'nDCG@10 by case':<16}{'needs':>6}" + "".join(f"{r.name:>{width}}" for r in results))
    for case in case_names:
        ids = [need_id for need_id, cases in dev.cases.items() if case in cases]
        row = "".join(_fmt(r.summary(ids)["ndcg@10"], width) for r in results)
        print(f"{case:<16}{len(ids):>6}{row}")
    print()
    print(EXPLANATION)
    for note in notes:
        print(f"NOTE: {note}")


def oracle_precision(dev: DevSet) -> float:
    """P@5 of a ranker that returns the ideal list: many needs have fewer than 5 hits."""
    values = []
    for need in dev.needs:
        ideal = ideal_grades(dev, need)
        if ideal:
            values.append(sum(1 for g in ideal[:P_AT] if g >= RELEVANT_GRADE) / P_AT)
    return sum(values) / len(values)


def print_per_need(dev: DevSet, results: list[RankerResult]) -> None:
    """nDCG@10 and the top 5 returned per need and ranker, for reading failures."""
    for need in dev.needs:
        key = dev.need_keys[need.id]
        by_id = {s.id: s for s in dev.suppliers}
        judged = sorted(dev.qrels[need.id].items(), key=lambda item: -item[1])
        wanted = [
            f"{dev.supplier_keys[sid]}:{grade}"
            for sid, grade in judged
            if domain_eligible(need, by_id[sid])
        ]
        print(f"\n{key} [{','.join(dev.cases[need.id])}] {need.title}")
        print(
            f"  relevant & eligible: {' '.join(wanted) or 'nobody'}"
            f"  (relevant but ineligible: {len(judged) - len(wanted)})"
        )
        for result in results:
            score = result.scores[need.id]
            print(f"  {result.name:<24} nDCG {score.ndcg:.3f}  top: {score.returned[:5]}")


def to_json(
    dev: DevSet, path: Path, results: list[RankerResult], notes: list[str]
) -> dict[str, Any]:
    """All figures: overall, per case and per need."""
    case_names = sorted({case for cases in dev.cases.values() for case in cases})
    return {
        "devset": str(path),
        "k": K,
        "definitions": EXPLANATION,
        "notes": notes,
        "rankers": {
            r.name: {
                "overall": r.summary(),
                "seconds": r.seconds,
                "by_case": {
                    case: r.summary([i for i, cases in dev.cases.items() if case in cases])
                    for case in case_names
                },
                "by_need": {
                    s.need_key: {
                        "ndcg@10": s.ndcg,
                        "p@5": s.precision,
                        "empty_correct": s.empty_correct,
                        "violations": s.violations,
                        "returned": s.returned,
                    }
                    for s in r.scores.values()
                },
            }
            for r in results
        },
    }


# ----------------------------------------------------------------------------- main


def score_all(dev: DevSet, name: str, rankings: dict[int, Ranking], seconds: float) -> RankerResult:
    """Score every need of one ranker."""
    result = RankerResult(name=name, seconds=seconds)
    for need in dev.needs:
        result.scores[need.id] = score_need(dev, need, rankings[need.id])
    return result


async def run(args: argparse.Namespace) -> int:
    """Evaluate every available ranker on the dev set and report."""
    dev = load_devset(args.devset)
    labels = cpv_labels_sv()
    notes: list[str] = []
    results: list[RankerResult] = []

    tagged_nobody = {dev.need_keys[n.id] for n in dev.needs if "nobody" in dev.cases[n.id]}
    empty_ideal = {dev.need_keys[n.id] for n in dev.needs if not ideal_grades(dev, n)}
    if tagged_nobody != empty_ideal:
        only_tagged = sorted(tagged_nobody - empty_ideal)
        only_empty = sorted(empty_ideal - tagged_nobody)
        notes.append(
            f"'nobody' tag and empty ideal lists differ: tagged only {only_tagged}, "
            f"empty only {only_empty}"
        )

    is_eligible, missing_filters = load_is_eligible()
    if is_eligible is None:
        notes.append(
            f"matching.filters.is_eligible unavailable ({missing_filters}); the baseline uses "
            "the DOMAIN.md rules written out in this script instead"
        )
        baseline_filter: Eligibility = domain_eligible
    else:
        baseline_filter = is_eligible
        disagreements = eligibility_disagreements(dev, is_eligible)
        if disagreements:
            sample = ", ".join(
                f"{n}/{s} is_eligible={a} rules={b}" for n, s, a, b in disagreements[:8]
            )
            notes.append(
                f"is_eligible disagrees with the DOMAIN.md rules on {len(disagreements)} "
                f"(need, supplier) pairs, e.g. {sample}"
            )

    has_switch, missing_ranking = synonyms_switch()
    ours_name = "ours"
    if missing_ranking:
        notes.append(f"our ranker not evaluated: matching.ranking unavailable ({missing_ranking})")
    else:
        variants: list[tuple[str, bool | None]] = (
            [("ours (synonyms)", True), ("ours (no synonyms)", False)]
            if has_switch
            else [("ours", None)]
        )
        if not has_switch:
            notes.append("MatchIndex.build has no use_synonyms parameter; evaluated as is")
        ours_name = variants[0][0]
        for name, switch in variants:
            rankings, seconds = rank_ours(dev, labels, switch)
            results.append(score_all(dev, name, rankings, seconds))

    async with database_url() as (url, how):
        notes.append(f"baseline database: {how}")
        rankings, seconds = await rank_baseline(dev, labels, url, baseline_filter)
    baseline = score_all(dev, "baseline pg-fts", rankings, seconds)
    results.append(baseline)

    print(f"dev set: {len(dev.suppliers)} suppliers, {len(dev.needs)} needs ({args.devset})\n")
    print_report(dev, results, notes)
    if args.per_need:
        print_per_need(dev, results)

    ours = next((r for r in results if r.name == ours_name), None)
    if ours is None:
        verdict = "no (our ranker was not available)"
    else:
        ours_ndcg = ours.summary()["ndcg@10"]
        base_ndcg = baseline.summary()["ndcg@10"]
        verdict = "yes" if ours_ndcg > base_ndcg else "no"
        verdict += f" ({ours_name} {ours_ndcg:.3f} vs baseline {base_ndcg:.3f})"
    print(f"\nRESULT: ours beats baseline on nDCG@10: {verdict}")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = to_json(dev, args.devset, results, notes)
        figures["result_ours_beats_baseline"] = verdict.startswith("yes")
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 0


def main() -> int:
    """Parse arguments and run the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    parser.add_argument("--per-need", action="store_true", help="print each need's results")
    parser.add_argument("--devset", type=Path, default=DEVSET, help="dev set to evaluate")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
