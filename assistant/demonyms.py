"""Words for a country's people and things ("Swedish", "Dutch") and the country's names,
so "nothing Italian" and "swedish veggies" reach a catalog's origin values ("Italy",
"The Netherlands"). General knowledge, not a catalog's: a word whose country is not a
value of the catalog names nothing.
"""

from __future__ import annotations

# adjective -> the names a catalog may use for the country
DEMONYMS: dict[str, tuple[str, ...]] = {
    "american": ("USA", "United States", "US", "America"), "argentinian": ("Argentina",),
    "argentine": ("Argentina",), "australian": ("Australia",), "austrian": ("Austria",),
    "belgian": ("Belgium",), "brazilian": ("Brazil",), "british": ("UK", "United Kingdom", "England"),
    "english": ("England", "UK", "United Kingdom"), "canadian": ("Canada",), "chilean": ("Chile",),
    "chinese": ("China",), "colombian": ("Colombia",), "costa rican": ("Costa Rica",), "cuban": ("Cuba",),
    "czech": ("Czech Republic", "Czechia"), "danish": ("Denmark",), "dutch": ("The Netherlands", "Netherlands", "Holland"),
    "ecuadorian": ("Ecuador",), "egyptian": ("Egypt",), "finnish": ("Finland",), "french": ("France",),
    "german": ("Germany",), "greek": ("Greece",), "hungarian": ("Hungary",), "icelandic": ("Iceland",),
    "indian": ("India",), "indonesian": ("Indonesia",), "irish": ("Ireland",), "israeli": ("Israel",),
    "italian": ("Italy",), "japanese": ("Japan",), "kenyan": ("Kenya",), "korean": ("South Korea", "Korea"),
    "mexican": ("Mexico",), "moroccan": ("Morocco",), "new zealand": ("New Zealand",), "norwegian": ("Norway",),
    "peruvian": ("Peru",), "philippine": ("Philippines",), "filipino": ("Philippines",), "polish": ("Poland",),
    "portuguese": ("Portugal",), "russian": ("Russia",), "scottish": ("Scotland",), "south african": ("South Africa",),
    "spanish": ("Spain",), "swedish": ("Sweden",), "swiss": ("Switzerland",), "thai": ("Thailand",),
    "turkish": ("Turkey",), "ukrainian": ("Ukraine",), "vietnamese": ("Vietnam",), "welsh": ("Wales",),
}

_EUROPE = ("Italy", "Spain", "France", "Germany", "The Netherlands", "Netherlands", "Holland", "Belgium",
           "Luxembourg", "Sweden", "Denmark", "Norway", "Finland", "Iceland", "Poland", "Portugal", "Greece",
           "Austria", "Switzerland", "Ireland", "UK", "United Kingdom", "England", "Scotland", "Wales",
           "Czech Republic", "Czechia", "Slovakia", "Hungary", "Romania", "Bulgaria", "Croatia", "Slovenia",
           "Serbia", "Estonia", "Latvia", "Lithuania", "Ukraine", "Cyprus", "Malta")
_SOUTH_AMERICA = ("Argentina", "Brazil", "Chile", "Colombia", "Ecuador", "Peru", "Uruguay", "Paraguay",
                  "Bolivia", "Venezuela")
_CENTRAL_AMERICA = ("Costa Rica", "Panama", "Guatemala", "Honduras", "Nicaragua", "El Salvador", "Belize",
                    "Dominican Republic", "Cuba", "Jamaica")
_NORTH_AMERICA = ("USA", "United States", "US", "America", "Canada", "Mexico")
_AFRICA = ("Egypt", "Morocco", "Tunisia", "Kenya", "South Africa", "Ghana", "Ivory Coast", "Côte d'Ivoire",
           "Ethiopia", "Senegal", "Uganda", "Tanzania", "Nigeria", "Cameroon")
_ASIA = ("China", "India", "Japan", "South Korea", "Korea", "Thailand", "Vietnam", "Indonesia", "Philippines",
         "Malaysia", "Pakistan", "Sri Lanka", "Bangladesh", "Israel", "Turkey")
_OCEANIA = ("Australia", "New Zealand")
# continent and region words -> the country names a catalog may use ("fruit grown in europe",
# "nothing from south america")
REGIONS: dict[str, tuple[str, ...]] = {
    "europe": _EUROPE, "european": _EUROPE, "eu": _EUROPE,
    "south america": _SOUTH_AMERICA, "south american": _SOUTH_AMERICA,
    "latin america": _SOUTH_AMERICA + _CENTRAL_AMERICA + ("Mexico",),
    "latin american": _SOUTH_AMERICA + _CENTRAL_AMERICA + ("Mexico",),
    "central america": _CENTRAL_AMERICA, "central american": _CENTRAL_AMERICA,
    "north america": _NORTH_AMERICA, "north american": _NORTH_AMERICA,
    "africa": _AFRICA, "african": _AFRICA, "asia": _ASIA, "asian": _ASIA,
    "oceania": _OCEANIA, "the tropics": _SOUTH_AMERICA + _CENTRAL_AMERICA + _AFRICA,
}
