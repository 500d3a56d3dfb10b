"""Country names, codes and usual variants resolved to ISO 3166-1 alpha-2 with pycountry.

pycountry is the master list: codes, ISO names, common and official names, and forms derived
from them ("Korea, Republic of" -> "Republic of Korea"). On top of it sits a small table of the
spellings conference lists really use and pycountry does not know ("ROC", "IR Iran",
"Lao PDR", "Turkey", demonyms in a "Nationality" column). Matching ignores case, accents and
punctuation; a partial or misspelt name ("Phillipines") is resolved only when exactly one
country fits, and is marked as a guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

# Usual variants pycountry misses, keyed by their normalised form (see `normalise`).
# Demonyms cover APO member economies and a few frequent others, because a "Nationality"
# column holds "Filipino", not "Philippines".
_VARIANTS: dict[str, str] = {
    "roc": "TW",
    "republic of china": "TW",
    "republic of china taiwan": "TW",
    "chinese taipei": "TW",
    "taiwan roc": "TW",
    "ir iran": "IR",
    "i r iran": "IR",
    "iran ir": "IR",
    "turkey": "TR",
    "lao pdr": "LA",
    "lao": "LA",
    "korea": "KR",
    "rok": "KR",
    "korea south": "KR",
    "s korea": "KR",
    "dprk": "KP",
    "korea north": "KP",
    "pr china": "CN",
    "prc": "CN",
    "mainland china": "CN",
    "china mainland": "CN",
    "taiwan china": "TW",
    "hong kong sar": "HK",
    "hong kong china": "HK",
    "hksar": "HK",
    "macau": "MO",
    "macao sar": "MO",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "america": "US",
    "united states": "US",
    "uae": "AE",
    "russia": "RU",
    "burma": "MM",
    "ivory coast": "CI",
    "east timor": "TL",
    "holland": "NL",
    "swaziland": "SZ",
    "cape verde": "CV",
    "macedonia": "MK",
    "palestine": "PS",
    "vatican": "VA",
    "brunei": "BN",
    "fiji islands": "FJ",
    # Demonyms (nationality column).
    "bangladeshi": "BD",
    "cambodian": "KH",
    "taiwanese": "TW",
    "fijian": "FJ",
    "indian": "IN",
    "indonesian": "ID",
    "iranian": "IR",
    "japanese": "JP",
    "korean": "KR",
    "south korean": "KR",
    "laotian": "LA",
    "malaysian": "MY",
    "mongolian": "MN",
    "nepalese": "NP",
    "nepali": "NP",
    "pakistani": "PK",
    "filipino": "PH",
    "filipina": "PH",
    "philippine": "PH",
    "singaporean": "SG",
    "sri lankan": "LK",
    "thai": "TH",
    "turkish": "TR",
    "vietnamese": "VN",
    "chinese": "CN",
    "american": "US",
    "british": "GB",
    "australian": "AU",
    "german": "DE",
    "french": "FR",
    "egyptian": "EG",
}

# Names for badges and reports: APO-style economy names where the APO uses its own form,
# otherwise pycountry's common name, otherwise its ISO name.
_DISPLAY_NAMES: dict[str, str] = {
    "TW": "Republic of China",
    "KR": "Republic of Korea",
    "KP": "DPR Korea",
    "IR": "IR Iran",
    "LA": "Lao PDR",
    "VN": "Vietnam",
    "TR": "Türkiye",
    "RU": "Russia",
    "US": "United States",
    "GB": "United Kingdom",
    "CD": "DR Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VA": "Vatican City",
}

# A typo guess must be this similar to a known name, and clearly better than the next one.
_TYPO_CUTOFF = 0.86
_TYPO_MARGIN = 0.04

_PUNCTUATION = re.compile(r"[^0-9a-z]+")
# Combining accents of Latin, Greek and Cyrillic letters (what "diacritic-insensitive" means).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@dataclass(frozen=True, slots=True)
class CountryMatch:
    """A resolved country: the ISO code and whether the text was a guess (a typo or a partial)."""

    code: str
    guessed: bool


def normalise(text: str) -> str:
    """Fold case, accents and punctuation: "Côte d'Ivoire" -> "cote d ivoire"."""
    bare = text
    if not text.isascii():
        bare = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
        # Dotless i and similar letters have no decomposition; fold the usual ones by hand.
        bare = bare.replace("ı", "i").replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    folded = _PUNCTUATION.sub(" ", bare.casefold().replace("&", " and ")).strip()
    if folded.startswith("the "):
        folded = folded[4:]
    return folded


@cache
def _name_index() -> dict[str, str]:
    """Every name form pycountry knows, normalised, mapped to alpha-2.

    Derived forms (reordered, without a parenthesis, the part before a comma) never replace
    a real name, and a derived form two countries share ("Virgin Islands") is left out.
    """
    index: dict[str, str] = {}
    derived: dict[str, str | None] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names = [country.name]
        for attribute in ("common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names.append(value)
        for name in names:
            index.setdefault(normalise(name), code)
            forms: list[str] = []
            # "Korea, Republic of" is also written "Republic of Korea" or just "Korea".
            if ", " in name:
                head, _, tail = name.partition(", ")
                forms += [f"{tail} {head}", head]
            # "Holy See (Vatican City State)" -> "Holy See" and "Vatican City State".
            if "(" in name:
                forms.append(re.sub(r"\s*\([^)]*\)", "", name))
                forms += re.findall(r"\(([^)]*)\)", name)
            for form in forms:
                key = normalise(form)
                derived[key] = code if derived.get(key, code) == code else None
    for key, owner in derived.items():
        if owner is not None and key:
            index.setdefault(key, owner)
    return index


@cache
def _codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        codes[country.alpha_2.lower()] = country.alpha_2
        codes[country.alpha_3.lower()] = country.alpha_2
    return codes


def _fuzzy(key: str) -> str | None:
    """Partial and misspelt names, matched against pycountry's names; None when unsure.

    pycountry's own search_fuzzy is not used: it also matches subdivisions ("Manila" -> PH)
    and substrings of other countries' names, and it takes milliseconds per call.
    """
    names = _name_index()
    if len(key) >= 4:
        starts = re.compile(rf"\b{re.escape(key)}")
        owners = {code for name, code in names.items() if starts.search(name)}
        if len(owners) == 1:
            return owners.pop()
    matcher = difflib.SequenceMatcher(b=key)
    scored: list[tuple[float, str]] = []
    for name, code in names.items():
        if len(name) <= 3 or abs(len(name) - len(key)) > 3:
            continue
        matcher.set_seq1(name)
        if matcher.real_quick_ratio() >= _TYPO_CUTOFF and matcher.quick_ratio() >= _TYPO_CUTOFF:
            scored.append((matcher.ratio(), code))
    scored.sort(reverse=True)
    if not scored or scored[0][0] < _TYPO_CUTOFF:
        return None
    best_score, best_code = scored[0]
    for score, code in scored[1:]:
        if code != best_code:
            return best_code if best_score - score >= _TYPO_MARGIN else None
    return best_code


@lru_cache(maxsize=4096)
def match_country(text: str) -> CountryMatch | None:
    """Resolve a country name, ISO code or usual variant; None when it is not a country."""
    key = normalise(text)
    if not key:
        return None
    code = _VARIANTS.get(key) or _codes().get(key) or _name_index().get(key)
    if code:
        return CountryMatch(code, guessed=False)
    guess = _fuzzy(key)
    return CountryMatch(guess, guessed=True) if guess else None


def resolve_country(text: str) -> str | None:
    """Return the ISO 3166-1 alpha-2 code for a name, code or variant, or None if unknown."""
    found = match_country(text)
    return found.code if found else None


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """Return the name to print for an alpha-2 code (APO-style economy names, see module doc)."""
    code = code.strip().upper()
    if code in _DISPLAY_NAMES:
        return _DISPLAY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)
