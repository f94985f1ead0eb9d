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
