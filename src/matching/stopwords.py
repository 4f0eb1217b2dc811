"""Words the text analyser drops: Swedish function words, procurement boilerplate, some English."""

from __future__ import annotations

# The lists are kept compact, a screenful each, rather than one word per line.
# fmt: off
# Swedish function words: the Snowball/NLTK Swedish list, extended with numerals, modal verbs
# and abbreviation parts seen in procurement text ("bl", "fl", "st"). Matched on the casefolded
# surface form before stemming, so inflected forms ("dessa", "denna") are listed separately.
SWEDISH_FUNCTION_WORDS = frozenset(
    [
        "aldrig", "alla", "allt", "alltid", "andra", "annan", "annat", "att", "av", "bara", "bl",
        "bland", "blev", "bli", "blir", "blivit", "både", "bör", "ca", "cirka", "de", "dem", "den",
        "denna", "deras", "dess", "dessa", "det", "detta", "dig", "din", "dina", "ditt", "dock",
        "du", "dvs", "där", "därför", "då", "efter", "eftersom", "ej", "eller", "en", "endast",
        "enligt", "er", "era", "ert", "etc", "ett", "ex", "finns", "fl", "fler", "flera", "från",
        "får", "för", "genom", "gjorde", "gjort", "gärna", "gör", "göra", "görs", "ha", "hade",
        "han", "hans", "har", "hela", "henne", "hennes", "hon", "honom", "hos", "hur", "här",
        "icke", "igen", "ingen", "inom", "inte", "jag", "ju", "just", "kan", "kommer", "kring",
        "kunde", "kunna", "kunnat", "lite", "man", "med", "medan", "mellan", "men", "mer", "mest",
        "mig", "min", "mina", "mindre", "minst", "mitt", "mm", "mot", "mycket", "många", "måste",
        "ni", "nog", "nu", "när", "någon", "något", "några", "och", "också", "ofta", "olika", "om",
        "oss", "osv", "per", "på", "redan", "samma", "samt", "sedan", "sig", "sin", "sina", "sitta",
        "själv", "ska", "skall", "sker", "skett", "skulle", "som", "st", "så", "sådan", "sådana",
        "sådant", "sådär", "tex", "till", "under", "upp", "ut", "utan", "vad", "var", "vara",
        "varav", "varför", "varit", "varje", "vars", "vart", "vem", "vi", "via", "vid", "vilka",
        "vilkas", "vilken", "vilket", "vill", "väl", "vår", "våra", "vårt", "än", "ännu", "är",
        "även", "åt", "över",
        # Numerals: "två skolor", "tre gånger per år" say how much, not what.
        "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "första", "tredje",
    ]
)

# Words nearly every profile or need contains in this domain; they say nothing about what is
# bought, and their long posting lists would make every document a candidate for every query.
PROCUREMENT_BOILERPLATE = frozenset(
    [
        "ab", "arbetsintegrerad", "arbetsintegrerande", "asf", "avser", "avtal", "avtalet", "behov",
        "behovet", "behöver", "efterfrågar", "ekonomisk", "erbjuda", "erbjudande", "erbjuder",
        "förening", "företag", "företaget", "företagets", "gäller", "ingår", "inklusive", "kommun",
        "kommunen", "kommunens", "kontrakt", "kooperativ", "leverans", "leverantör", "leverantören",
        "leverantörens", "leverantörer", "leverera", "levererar", "omfattar", "region", "regionen",
        "social", "sociala", "socialt", "söker", "tjänst", "tjänsten", "tjänster", "uppdrag",
        "uppdraget", "upphandla", "upphandling", "upphandlingen", "utför", "utföra", "utförs",
        "verksamhet", "verksamheten", "verksamheter", "önskar",
    ]
)

# English function words: busy writers mix in English ("Cleaning services for offices").
ENGLISH_FUNCTION_WORDS = frozenset(
    [
        "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it's", "of", "on",
        "or", "our", "service", "services", "that", "the", "this", "to", "we", "with", "you",
    ]
)
# fmt: on

STOP_WORDS: frozenset[str] = (
    SWEDISH_FUNCTION_WORDS | PROCUREMENT_BOILERPLATE | ENGLISH_FUNCTION_WORDS
)
