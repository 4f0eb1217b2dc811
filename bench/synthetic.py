"""Synthetic but realistic profiles for the benchmarks: Swedish sector vocabulary, real CPV
service codes, service areas weighted by kommun population (mostly one kommun or a few, some a
whole län, about 2 % the whole country)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.reference.regions import kommuner


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
