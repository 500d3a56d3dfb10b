"""Country names, codes and variants resolve to ISO 3166-1 alpha-2."""

from __future__ import annotations

import pytest

from desktop.countries import country_name, match_country, normalise, resolve_country


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("VIETNAM", "VN"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("ROC", "TW"),
        ("Republic of China", "TW"),
        ("Chinese Taipei", "TW"),
        ("Taiwan", "TW"),
        ("IR Iran", "IR"),
        ("I.R. Iran", "IR"),
        ("Iran (Islamic Republic of)", "IR"),
        ("Islamic Republic of Iran", "IR"),
        ("Türkiye", "TR"),
        ("TURKIYE", "TR"),
        ("Turkey", "TR"),
        ("Lao PDR", "LA"),
        ("Lao People's Democratic Republic", "LA"),
        ("Laos", "LA"),
        ("Hong Kong", "HK"),
        ("Hong Kong, China", "HK"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Philippines", "PH"),
        ("  philippines ", "PH"),
        ("PH", "PH"),
        ("ph", "PH"),
        ("PHL", "PH"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("The Netherlands", "NL"),
        ("Congo", "CG"),
        ("Democratic Republic of the Congo", "CD"),
        ("Niger", "NE"),
        ("Nigeria", "NG"),
        ("Sri-Lanka", "LK"),
        ("Malaysia.", "MY"),
        ("Filipino", "PH"),
        ("Indonesian", "ID"),
        ("Russia", "RU"),
        ("Micronesia", "FM"),
        ("Holy See", "VA"),
    ],
)
def test_names_codes_and_variants_resolve(text: str, code: str) -> None:
    found = match_country(text)
    assert found is not None
    assert found.code == code
    assert not found.guessed
    assert resolve_country(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("Phillipines", "PH"), ("Philipines", "PH"), ("Indonesa", "ID"), ("Bangaldesh", "BD")],
)
def test_misspelt_names_are_guesses(text: str, code: str) -> None:
    found = match_country(text)
    assert found is not None
    assert (found.code, found.guessed) == (code, True)


@pytest.mark.parametrize(
    "text",
    ["Atlantis", "Manila", "", "   ", "xx", "Virgin Islands", "Austrlia", "12345", "N/A"],
)
def test_unknown_or_ambiguous_text_is_none(text: str) -> None:
    # "Manila" is a city (pycountry's fuzzy search would say PH through a subdivision);
    # "Virgin Islands" is two territories; "Austrlia" is as close to Austria as to Australia.
    assert resolve_country(text) is None


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Côte d'Ivoire ") == "cote d ivoire"
    assert normalise("TÜRKİYE") == "turkiye"
    assert normalise("The Gambia") == "gambia"
    assert normalise("Bosnia & Herzegovina") == "bosnia and herzegovina"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("TW", "Republic of China"),
        ("KR", "Republic of Korea"),
        ("IR", "IR Iran"),
        ("LA", "Lao PDR"),
        ("VN", "Vietnam"),
        ("TR", "Türkiye"),
        ("PH", "Philippines"),
        ("BO", "Bolivia"),
        ("JP", "Japan"),
        ("ph", "Philippines"),
    ],
)
def test_country_name_uses_economy_names(code: str, name: str) -> None:
    assert country_name(code) == name


def test_country_name_of_unknown_code_is_the_code() -> None:
    assert country_name("XX") == "XX"


def test_every_display_name_resolves_back_to_its_code() -> None:
    for code in ["TW", "KR", "IR", "LA", "VN", "TR", "RU", "US", "GB", "PH", "SG", "BD"]:
        assert resolve_country(country_name(code)) == code
