"""Ranking bench: latency of rank_suppliers / rank_needs against a naive full scan, build time, RSS.

Run: .venv/bin/python bench/bench_ranking.py [--quick] [--sizes 10000,100000,1000000]
Each size runs in a fresh subprocess so its RSS is its own. Profiles are synthetic but shaped
like the real ones: Swedish sector vocabulary, real CPV service codes, service areas weighted by
kommun population (mostly one kommun or a few, some a whole län, ~2 % "SE").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import psutil

from matching.filters import is_eligible
from matching.model import Need, SupplierProfile
from matching.ranking import MatchIndex, need_document, supplier_document
from reference.cpv import cpv_labels_sv
from reference.regions import kommuner


@dataclass(frozen=True)
class Sector:
    """One line of business: what suppliers say they do and buyers say they need."""

    cpv: tuple[str, ...]
    offers: tuple[str, ...]
    objects: tuple[str, ...]


SECTORS: dict[str, Sector] = {
    "städ": Sector(
        cpv=("90910000", "90911200", "90919200", "90919300", "90911300", "90911000"),
        offers=(
            "lokalvård",
            "städning",
            "kontorsstädning",
            "storstädning",
            "flyttstädning",
            "fönsterputsning",
            "trappstädning",
            "golvvård",
            "hemstädning",
            "byggstädning",
            "städtjänster",
            "daglig lokalvård",
            "periodisk städning",
            "sanering",
            "cleaning",
        ),
        objects=("kontor", "skolor", "förskolor", "trapphus", "omklädningsrum", "gym"),
    ),
    "mat": Sector(
        cpv=("55520000", "55524000", "55523100", "55321000", "55330000", "55300000"),
        offers=(
            "catering",
            "skolmåltider",
            "måltider",
            "lunchservering",
            "matlådor",
            "kafé",
            "café",
            "fika",
            "konferensmat",
            "specialkost",
            "mattransporter",
            "frukost",
            "vegetarisk mat",
            "matlagning",
            "servering",
            "kioskverksamhet",
        ),
        objects=("skolor", "förskolor", "äldreboenden", "konferenser", "möten", "evenemang"),
    ),
    "fastighet": Sector(
        cpv=("98341130", "70330000", "50700000", "50800000", "98341120"),
        offers=(
            "fastighetsskötsel",
            "fastighetsservice",
            "vaktmästeri",
            "enklare underhåll",
            "fastighetsunderhåll",
            "reparationer",
            "tillsyn av lokaler",
            "felanmälan",
            "soprumsskötsel",
            "byte av lampor",
            "målning",
            "tapetsering",
        ),
        objects=("bostadsområden", "skolor", "kontor", "lokaler", "lägenheter"),
    ),
    "grönt": Sector(
        cpv=("77310000", "77311000", "77314000", "77312000", "92330000"),
        offers=(
            "trädgårdsskötsel",
            "grönyteskötsel",
            "parkskötsel",
            "gräsklippning",
            "ogräsrensning",
            "häckklippning",
            "plantering",
            "lövkrattning",
            "utemiljö",
            "trädbeskärning",
            "rabattskötsel",
        ),
        objects=("parker", "skolgårdar", "bostadsgårdar", "kyrkogårdar", "lekplatser"),
    ),
    "snö": Sector(
        cpv=("90620000", "90630000", "90610000"),
        offers=(
            "snöröjning",
            "snöskottning",
            "halkbekämpning",
            "sandning",
            "vinterväghållning",
            "taksnöskottning",
            "sopning",
            "gatsopning",
        ),
        objects=("gångvägar", "parkeringar", "skolgårdar", "entréer", "tak"),
    ),
    "tvätt": Sector(
        cpv=("98310000", "98311000", "98311100"),
        offers=(
            "tvätteri",
            "tvätt",
            "mangling",
            "textilvård",
            "arbetskläder",
            "tvätt av mattor",
            "kemtvätt",
            "strykning",
            "tvätthämtning",
            "tvättjänster",
        ),
        objects=("äldreboenden", "förskolor", "restauranger", "hotell", "idrottsföreningar"),
    ),
    "flytt": Sector(
        cpv=("98392000", "60100000", "63100000", "64120000", "60161000"),
        offers=(
            "flyttjänster",
            "flytthjälp",
            "kontorsflytt",
            "bohagsflytt",
            "magasinering",
            "budtjänst",
            "transporter",
            "varutransporter",
            "tömning av lokaler",
            "bortforsling",
            "kurirtjänster",
        ),
        objects=("kontor", "skolor", "privatpersoner", "förvaltningar"),
    ),
    "återbruk": Sector(
        cpv=("50850000", "39100000", "90510000", "90513000", "79996000"),
        offers=(
            "återbruk",
            "second hand",
            "möbelrenovering",
            "reparation av möbler",
            "återanvändning",
            "cykelreparationer",
            "insamling",
            "sortering",
            "demontering",
            "elektronikåtervinning",
            "loppis",
        ),
        objects=("kontorsmöbler", "skolmöbler", "cyklar", "textilier", "elektronik"),
    ),
    "it": Sector(
        cpv=("72611000", "72250000", "50300000", "79999100", "72000000"),
        offers=(
            "it-support",
            "helpdesk",
            "datorreparationer",
            "skanning",
            "digitalisering",
            "dokumenthantering",
            "installation av datorer",
            "återställning av datorer",
            "dataradering",
            "it-drift",
        ),
        objects=("skolor", "kontor", "förvaltningar", "äldre", "föreningar"),
    ),
    "tryck": Sector(
        cpv=("79810000", "79811000", "79823000", "79530000"),
        offers=(
            "tryckeri",
            "trycksaker",
            "digitaltryck",
            "kuvertering",
            "utskick",
            "bokbinderi",
            "skyltar",
            "profilprodukter",
            "utskrifter",
        ),
        objects=("förvaltningar", "skolor", "föreningar", "evenemang"),
    ),
    "snickeri": Sector(
        cpv=("45421000", "45420000", "45442100", "45432100", "45450000"),
        offers=(
            "snickeri",
            "snickeriarbeten",
            "målning",
            "golvläggning",
            "tillverkning av möbler",
            "byggnation av altaner",
            "renovering",
            "fasadmålning",
            "staket",
            "fågelholkar",
            "odlingslådor",
        ),
        objects=("skolor", "förskolor", "parker", "bostadsområden"),
    ),
    "arbetsträning": Sector(
        cpv=("85312000", "80530000", "85312300", "79620000"),
        offers=(
            "arbetsträning",
            "arbetsprövning",
            "praktikplatser",
            "arbetsrehabilitering",
            "daglig verksamhet",
            "stöd till personer långt från arbetsmarknaden",
            "handledning",
            "kartläggning",
            "språkpraktik",
            "yrkesutbildning",
            "sysselsättning",
            "stöd och matchning",
        ),
        objects=(
            "personer med funktionsnedsättning",
            "nyanlända",
            "unga vuxna",
            "långtidsarbetslösa",
            "personer i rehabilitering",
        ),
    ),
    "hotell": Sector(
        cpv=("55100000", "55400000", "79992000", "92521000"),
        offers=(
            "vandrarhem",
            "konferenslokaler",
            "hotell",
            "reception",
            "uthyrning av lokaler",
            "guidning",
            "museivärdar",
            "evenemangsservice",
        ),
        objects=("konferenser", "besökare", "evenemang", "turister"),
    ),
}

SECTOR_NAMES = tuple(SECTORS)
ORG_WORDS = (
    "Kooperativet",
    "Föreningen",
    "Verkstaden",
    "Gården",
    "Kraften",
    "Steget",
    "Vägen",
    "Huset",
    "Nyckeln",
    "Möjligheten",
)
SUPPLIER_OPENINGS = (
    "Vi är ett arbetsintegrerande socialt företag som erbjuder",
    "Ekonomisk förening som sedan många år utför",
    "Vårt kooperativ levererar",
    "ASF med lång erfarenhet av",
    "Vi arbetar med",
    "Socialt företag i {ort} som säljer",
)
SUPPLIER_CLOSINGS = (
    "Vi tar emot personer i arbetsträning och har handledare på plats.",
    "Våra medarbetare har varit långt från arbetsmarknaden.",
    "Vi samarbetar med Arbetsförmedlingen och kommunen.",
    "Alla överskott återinvesteras i verksamheten.",
    "Kvalitet och miljö är viktigt för oss, vi har rutiner för egenkontroll.",
    "Vi har kollektivavtal och F-skattsedel.",
    "",
)
NEED_OPENINGS = (
    "Kommunen söker leverantör av",
    "Behov av",
    "Vi behöver hjälp med",
    "Direktupphandling av",
    "Marknadsdialog inför upphandling av",
    "Förvaltningen efterfrågar",
)
NEED_CLOSINGS = (
    "Uppdraget kan delas upp i delkontrakt.",
    "Avtalet löper på två år med möjlighet till förlängning.",
    "Sociala hänsyn ska tas, leverantören ska erbjuda praktikplatser.",
    "Start snarast.",
    "Reserverat kontrakt enligt LOU 4 kap 18 §.",
    "",
)


def _misspell(word: str, rng: random.Random) -> str:
    # Busy writers swap neighbouring letters now and then.
    if len(word) < 5 or rng.random() > 0.03:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _sentence(words: list[str], rng: random.Random) -> str:
    return " ".join(_misspell(word, rng) for word in " ".join(words).split())


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


class Generator:
    """Deterministic generator of suppliers and needs with population-weighted kommuner."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.kommuner = sorted(kommuner().values(), key=lambda k: k.code)
        self.weights = [max(k.population, 1) for k in self.kommuner]
        self.by_lan: dict[str, list[str]] = {}
        for kommun in self.kommuner:
            self.by_lan.setdefault(kommun.lan_code, []).append(kommun.code)

    def _kommun(self) -> str:
        return self.rng.choices(self.kommuner, self.weights)[0].code

    def _area(self) -> tuple[str, ...]:
        roll = self.rng.random()
        home = self._kommun()
        if roll < 0.02:
            return ("SE",)
        if roll < 0.14:
            return (home[:2],)
        if roll < 0.62:
            return (home,)
        neighbours = self.by_lan[home[:2]]
        extra = self.rng.sample(neighbours, min(len(neighbours), self.rng.randint(1, 4)))
        return tuple(dict.fromkeys([home, *extra]))

    def _sectors(self) -> list[str]:
        count = 1 if self.rng.random() < 0.65 else 2 if self.rng.random() < 0.8 else 3
        return self.rng.sample(SECTOR_NAMES, count)

    def supplier(self, supplier_id: int) -> SupplierProfile:
        """One ASF supplier profile."""
        rng = self.rng
        sectors = self._sectors()
        offers: list[str] = []
        codes: list[str] = []
        for name in sectors:
            sector = SECTORS[name]
            offers += rng.sample(sector.offers, rng.randint(2, 5))
            codes += rng.sample(sector.cpv, rng.randint(1, 2))
        objects = rng.sample(SECTORS[sectors[0]].objects, 2)
        ort = self.kommuner[rng.randrange(len(self.kommuner))].name
        text = (
            f"{rng.choice(SUPPLIER_OPENINGS).format(ort=ort)} {_join(offers)}. "
            f"Vi har uppdrag för {_join(objects)}. {rng.choice(SUPPLIER_CLOSINGS)}"
        )
        has_cap = rng.random() < 0.7
        return SupplierProfile(
            id=supplier_id,
            name=f"{rng.choice(ORG_WORDS)} {ort} {supplier_id}",
            description=_sentence([text], rng),
            cpv_codes=tuple(codes) if rng.random() < 0.9 else (),
            service_area=self._area(),
            target_group_share=round(rng.uniform(0.1, 0.9), 2),
            max_contract_value_sek=rng.choice((200_000, 500_000, 1_000_000, 3_000_000))
            if has_cap
            else None,
            training_places=rng.choice((0, 0, 2, 4, 8, 15)),
            active=rng.random() < 0.97,
        )

    def need(self, need_id: int) -> Need:
        """One procurement need, usually about one sector."""
        rng = self.rng
        name = rng.choice(SECTOR_NAMES)
        sector = SECTORS[name]
        offers = rng.sample(sector.offers, rng.randint(1, 3))
        objects = rng.sample(sector.objects, rng.randint(1, 2))
        text = (
            f"{rng.choice(NEED_OPENINGS)} {_join(offers)} för {_join(objects)}. "
            f"{rng.choice(NEED_CLOSINGS)}"
        )
        training = name == "arbetsträning" and rng.random() < 0.7
        return Need(
            id=need_id,
            title=f"{offers[0].capitalize()} {objects[0]}",
            description=_sentence([text], rng),
            cpv_codes=tuple(rng.sample(sector.cpv, rng.randint(1, 2)))
            if rng.random() < 0.85
            else (),
            kommun=self._kommun(),
            estimated_value_sek=rng.choice((None, 100_000, 300_000, 700_000, 2_000_000)),
            reserved=rng.random() < 0.15,
            training_places=rng.choice((2, 4, 6)) if training else 0,
            status="open" if rng.random() < 0.95 else "closed",
        )


NEEDS_MAX = 100_000
QUERIES = 300
NAIVE_QUERIES = 60
WARMUP = 30
LIMIT = 20


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    """Wall-clock latency of each call, and this thread's CPU time for the same call."""

    # Wall time is the figure; CPU time is shown beside it because other processes share the
    # two cores, and the gap between the two is time spent waiting for a core.

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, call: Callable[[], list[Any]]) -> list[Any]:
        wall, cpu = time.perf_counter(), time.thread_time()
        result = call()
        self.cpu.append(time.thread_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        return result

    def summary(self) -> dict[str, float]:
        wall = np.array(self.wall) * 1e3
        return {
            "p50": float(np.percentile(wall, 50)),
            "p95": float(np.percentile(wall, 95)),
            "cpu_p50": float(np.percentile(np.array(self.cpu) * 1e3, 50)),
        }


def _naive_top(scores: np.ndarray, eligible: Callable[[int], bool]) -> list[int]:
    # Full argsort of every row's score, then walk it applying the filters until LIMIT pass.
    order = np.argsort(-scores, kind="stable")
    found: list[int] = []
    for row in order.tolist():
        if scores[row] <= 0 or len(found) == LIMIT:
            break
        if eligible(row):
            found.append(row)
    return found


def _naive_suppliers(index: MatchIndex, need: Need, labels: dict[str, str]) -> list[int]:
    # Text cosine with every supplier row (CSR @ q), full argsort, then the filters.
    model, rows = index._model, index._suppliers.main_rows
    profiles = list(index._supplier_profiles.values())  # slot order: built sorted by id
    query = model.vectorize(need_document(need, labels))
    dense = np.zeros(model.size)
    dense[query.cols] = query.vals
    return _naive_top(rows @ dense, lambda row: is_eligible(need, profiles[row]))


def _naive_needs(index: MatchIndex, supplier: SupplierProfile, labels: dict[str, str]) -> list[int]:
    model, rows = index._model, index._needs.main_rows
    profiles = list(index._need_profiles.values())
    query = model.vectorize(supplier_document(supplier, labels))
    dense = np.zeros(model.size)
    dense[query.cols] = query.vals
    return _naive_top(rows @ dense, lambda row: is_eligible(profiles[row], supplier))


def _worker(size: int) -> dict[str, Any]:
    labels = cpv_labels_sv()
    started = time.perf_counter()
    generator = Generator(seed=1)
    suppliers = [generator.supplier(i) for i in range(size)]
    needs = [generator.need(i) for i in range(min(size, NEEDS_MAX))]
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    index = MatchIndex.build(suppliers, needs, labels)
    build_s = time.perf_counter() - started
    rss, peak = _rss_mb(), _peak_mb()

    # Fresh queries, not in the index: the analysis of their text is part of the timing.
    queries = Generator(seed=2)
    fresh_needs = (queries.need(10**9 + i) for i in range(10 * QUERIES))
    need_queries = [n for n in fresh_needs if n.status == "open"][: QUERIES + WARMUP]
    fresh_suppliers = (queries.supplier(10**9 + i) for i in range(10 * QUERIES))
    supplier_queries = [s for s in fresh_suppliers if s.active][: QUERIES + WARMUP]

    forward, forward_naive, reverse, reverse_naive = Timer(), Timer(), Timer(), Timer()
    results = 0
    for need in need_queries[:WARMUP]:
        index.rank_suppliers(need, limit=LIMIT)
    for need in need_queries[WARMUP:]:
        results += len(forward.time(partial(index.rank_suppliers, need, limit=LIMIT)))
    for need in need_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        forward_naive.time(partial(_naive_suppliers, index, need, labels))
    for supplier in supplier_queries[:WARMUP]:
        index.rank_needs(supplier, limit=LIMIT)
    for supplier in supplier_queries[WARMUP:]:
        reverse.time(partial(index.rank_needs, supplier, limit=LIMIT))
    for supplier in supplier_queries[WARMUP : WARMUP + NAIVE_QUERIES]:
        reverse_naive.time(partial(_naive_needs, index, supplier, labels))
    return {
        "suppliers": size,
        "needs": len(needs),
        "generate_s": generate_s,
        "build_s": build_s,
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "fwd": forward.summary(),
        "fwd_naive": forward_naive.summary(),
        "fwd_mean_results": results / len(forward.wall),
        "rev": reverse.summary(),
        "rev_naive": reverse_naive.summary(),
        "version": index.version,
    }


def _machine() -> str:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"CPU: {model}; {os.cpu_count()} logical cores; {memory:.0f} GiB RAM; "
        f"Python {platform.python_version()}; numpy {np.__version__}"
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'suppliers':>10} {'needs':>8} {'build s':>8} {'RSS MB':>7} {'peak MB':>8} | "
        f"{'p50 ms':>7} {'p95 ms':>7} {'cpu p50':>8} {'naive p50':>10} {'x':>6} | "
        f"{'rev p50':>8} {'rev p95':>8} {'cpu p50':>8} {'naive p50':>10} {'x':>6}"
    )
    for r in results:
        fwd, fwd_naive, rev, rev_naive = r["fwd"], r["fwd_naive"], r["rev"], r["rev_naive"]
        print(
            f"{r['suppliers']:>10,} {r['needs']:>8,} {r['build_s']:>8.1f} {r['rss_mb']:>7.0f} "
            f"{r['peak_rss_mb']:>8.0f} | {fwd['p50']:>7.2f} {fwd['p95']:>7.2f} "
            f"{fwd['cpu_p50']:>8.2f} {fwd_naive['p50']:>10.2f} "
            f"{fwd_naive['p50'] / fwd['p50']:>5.0f}x | {rev['p50']:>8.2f} {rev['p95']:>8.2f} "
            f"{rev['cpu_p50']:>8.2f} {rev_naive['p50']:>10.2f} {rev_naive['p50'] / rev['p50']:>5.0f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only 10k suppliers (smoke)")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker)))
        return
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    print(_machine())
    print(f"load average before: {_load()}")
    results = []
    for size in sizes:
        # A fresh interpreter per size, so RSS and peak RSS are that size's own.
        done = subprocess.run(
            [sys.executable, __file__, "--worker", str(size)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {size:>9,} suppliers: built in {results[-1]['build_s']:.1f} s", flush=True)
    print(f"load average after: {_load()}")
    print()
    _print_table(results)
    print()
    print(
        f"p50/p95: wall-clock ms of rank_suppliers(limit={LIMIT}) for {QUERIES} fresh needs\n"
        "(text analysis, filters, top-k and explanations included; warm index); cpu p50: this\n"
        "thread's CPU time for the same calls. naive: text cosine X @ q over all supplier rows\n"
        "(scipy CSR), full argsort, then filters until 20 pass, same queries; x = naive p50 / p50.\n"
        f"rev: rank_needs for {QUERIES} fresh suppliers against the needs (naive likewise).\n"
        "RSS: after build, in a fresh process holding the generated profiles; peak: max RSS."
    )


if __name__ == "__main__":
    main()
