"""Read one user message for what it says about the conversation, with no model: the
phrases it rules out, the ones it asks for, numeric ranges, diets, topic shifts,
retractions and references to the items just shown.

This module knows English, not the catalog: every phrase it returns is still words
("apples", "tom hanks", "the 90s"). :mod:`assistant.catalog_terms` resolves them against
the catalog's values and texts, and :mod:`assistant.tracker` turns both into session state.

The patterns follow how people phrase these things in a shopping or movie chat. Controls
matter as much as hits: "not sure, maybe apples", "I can't decide between mango and
papaya", "not too sweet" and "do you have lactose-free milk?" rule nothing out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .ranges import Range, read_ranges
from .references import Reference, is_reference, read_references

# ---- phrases and the spans they take ----------------------------------------------------


@dataclass
class Phrase:
    """A phrase of the message and the span of the whole construction it came from
    ("but not apples" for "apples"), which is cut from the search text."""

    text: str
    start: int
    end: int
    # the words that introduced it: "by", "with", "from" ... (for wanted values)
    cue: str = ""


@dataclass
class Reading:
    """Everything :func:`read` found in one message."""

    text: str
    exclude: list[Phrase] = field(default_factory=list)
    # "without X": items whose text says they lack X are preferred
    lacking: list[str] = field(default_factory=list)
    # "instead of X": ruled out, yet what is wanted is like it
    instead_of: list[str] = field(default_factory=list)
    want: list[Phrase] = field(default_factory=list)
    ranges: list[Range] = field(default_factory=list)
    diets: list[str] = field(default_factory=list)
    # diets the user says do not apply ("she isn't vegan")
    diets_off: list[str] = field(default_factory=list)
    retract: list[Phrase] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    shift_cue: bool = False
    # the only cue is "actually", "wait" or "what about": "actually something old school",
    # "what about plain ones?" refine, "actually, a juice" names a new kind
    shift_weak: bool = False
    refine_cue: bool = False
    # asks for items not shown yet: "another one", "more", "something else"
    more_cue: bool = False
    # a request of its own ("any drink?", "do you have X"): a new topic unless it refines
    request: bool = False
    # "a different brand": the field whose values of the items shown are ruled out
    different: list[str] = field(default_factory=list)
    # "only the organic ones": words every item shown must say
    only: list[str] = field(default_factory=list)
    # "the same director", "its lead actor": (what the field is called, reference position
    # or None for the item last talked about)
    same: list[tuple[str, int | None]] = field(default_factory=list)
    # the same, ruled out: "not a fan of that brand", "nothing else by that director"
    not_same: list[tuple[str, int | None]] = field(default_factory=list)
    # "I've seen all the ones with Kevin Hart": whose items are all known (the tracker rules
    # them out when the phrase names a person)
    seen_all: list[Phrase] = field(default_factory=list)
    # the message without the constructions above: what the user is asking for
    topic_text: str = ""

    @property
    def content(self) -> bool:
        """Whether the message asks for something beyond its conditions."""
        return bool(content_words(self.topic_text))


# ---- vocabulary ---------------------------------------------------------------------------

# words that carry no request of their own (politeness, fillers, generic heads)
FILLER = frozenset("""
a an the and or but so then please thanks thank you ok okay yes yeah yep hi hello hey well
i me my we us our it its this that these those there here some any anything something
one ones another other others more else also too just really very quite maybe perhaps
want wanted need like love would could can should will shall might may must do does did
have has had get got give show find see look looking search suggest recommend recommendation
recommendations suggestion suggestions idea ideas is are was were be been am to of for in on
at with from by about as into what which who how when where why good nice great best something
instead actually now wait forget never mind again still either rather kind sort type lot lots
sure not no don't dont im i'm i'd id i've ive let's lets tell option options pick choice
item items thing things stuff product products after all
he him his she her hers they them their theirs half without though tho older newer recent cheaper pricier
both either neither hmm hm hmmm umm um uh ah oh eh ooh welp lol haha
home cellar pantry cupboard dvd
""".split())
GENERIC_HEADS = ("ones", "one", "stuff", "things", "thing", "products", "product", "items", "item",
                 "movies", "movie", "films", "film", "flavours", "flavour", "flavors", "flavor",
                 "kinds", "kind", "types", "type", "sorts", "sort", "options", "option", "dishes",
                 "brands", "brand", "genre", "genres", "sequels", "sequel", "franchise", "series", "saga", "trilogy",
                 "adaptations", "adaptation", "books", "book", "novels", "novel")
_LEADING = ("the", "a", "an", "any", "more", "those", "these", "that", "this", "some", "such",
            "other", "of", "kind of", "type of", "sort of", "too much", "so much", "much", "many",
            "with", "from", "like", "really", "all", "anything with", "anything from", "food with",
            "stuff with", "movies with", "films with", "based on", "about", "involving", "set in",
            "starring", "featuring", "directed by", "made by", "written by", "by", "anything by", "anything",
            "ones with", "ones from", "ones by", "ones starring", "ones about", "movies about", "films about",
            "stuff from", "products from", "those with", "those from", "any of the", "of the", "grown in",
            "made in", "produced in", "coming from", "imported from", "produced by", "to buy", "to eat",
            "to get", "to use", "to watch", "buying", "eating", "ones made from", "ones made with", "made from",
            "made with", "the ones made from", "any made from")
_TRAILING = ("please", "pls", "plz", "thanks", "thank you", "btw", "by the way", "lol", "tho", "anymore",
             "in those", "in these", "in them", "in there", "in that", "anything", "stuff", "whatsoever",
             "inside", "produce", "either", "at all",
             "any more", "at all", "for me", "again",
             "now", "today", "then", "either", "though", "tonight", "this time", "this evening",
             "after all", "in it", "in them", "included", "whatsoever", "ok", "okay", "at the moment", "right now",
             "for now", "these days", "lately", "tbh", "honestly", "this week", "this month", "this year",
             "for a while", "for the moment", "fyi", "imo", "haha", "obviously", "either way", "and", "or",
             "now that i think about it", "come to think of it", "unfortunately", "sadly", "obvs", "obv", "tbf")

# "right now" before "now": a phrase ends without either
_TRAILING_LONGEST_FIRST = sorted(_TRAILING + GENERIC_HEADS, key=lambda t: -len(t.split()))

_WORD = r"[\w'’&.+-]*\w"
_BOUNDARY = re.compile(
    r"[.,;:!?()\n]|\s(?:but|and\s+(?:i|we|it|maybe|also|please|something|anything|show|give)|so|because|"
    r"since|though|although|which|that\s+(?:is|are|has|have)|if|unless|please|for|to|instead|rather|"
    r"while|when|where|in\s+(?:a|an|the|my)|as|like|just|except|without|not|no|or\s+(?:something|anything|maybe)"
    r"|at\s+home|on\s+(?:dvd|blu-?ray)|already|(?:i|we|you|they|he|she)['’](?:d|ll|m|re|ve)"
    r"|(?:they|it|he|she|we|i|you)\s+(?:give|make|are|is|was|were|taste|get|have|had|do|did|will|would)|(?:is|are)\s+(?:a|an|the|way|so|too)"
    # a quoted aside ("no liam neeson 'particular set of skills' stuff") is no part of a name
    r")\b|\s[-–—]\s|(?<!the)(?<!no)(?<!any)(?<!\ba)(?<!an)(?<!not)(?<!of)\s(?=['\"‘“]\w[^'\"’”]{0,40}\s[^'\"’”]{0,40}['\"’”])|[\U0001F300-\U0001FAFF\u2600-\u27BF]",
    re.I)

# cues that rule out what follows
_EXCLUDE_CUE = re.compile(r"""(?ix)\b(?:
    anything\s+(?:but|except|other\s+than)
  | nothing\s+(?:from|with|by|like|of|starring|featuring|made\s+by|directed\s+by)
  | none\s+of | no\s+more | no\s+longer | not\s+any(?:more)?
  | apart\s+from | other\s+than | except(?:\s+for)? | excluding | exclude | besides
  | (?:an?\s+)?(?:alternative|substitute|replacement)\s+(?:to|for)(?!\s+(?:him|her|me|us|them|my\s|our\s|the\s+kids|kids)\b)
  | nothing\s+(?:about|involving|set\s+in|on) | not\s+about | no\s+(?:stories|films|movies)\s+about
  | (?:is|are|was|were)\s*n[o']?['’]?t\s+(?:from|made\s+from|made\s+with|with|about|containing)
  | (?:that|which)\s+(?:is|are|['’]s|['’]re)\s*(?:n[o']?['’]?t|not)
  | never\s+(?:buy|eat|drink|watch|want|use) | try\s+not\s+to\s+(?:buy|eat|get|use|watch|have)
  | avoid\s+(?:buying|eating|getting|watching|using)
  | (?<![\w'’])(?:can['’]?t|cannot)\s+(?:have|eat|drink|take|tolerate|digest|do)(?!\s+(?:that|this|it|much|without)\b)
  | none\s+(?:from|with|by|starring|featuring|about)
  | (?:does|do)\s*n['’]?o?t\s+(?:contain|have|include)
  | (?:i\s+am|i['’]m|we\s+are|we['’]re|am|is|are)\s+(?:very\s+|severely\s+|also\s+)?allergic\s+to | allergic\s+to
  | (?:reacts?|reacted|reacting|is\s+sensitive|are\s+sensitive|(?:is|are)\s+intolerant)\s+(?:badly\s+|really\s+badly\s+)?(?:to|of)
        (?:\s+(?:anything|everything)\s+(?:in|from|of))?
  | without | w/o | minus | hold\s+the | skip(?:\s+the)? | avoid(?:ing)?
  | rather\s+than | instead\s+of | never\s+(?:again\s+)?(?:liked?|enjoyed|want(?:ed)?)
  | (?:i|we)\s+(?:really\s+|just\s+|also\s+|still\s+)?(?:do\s*n[o']?t|don['’]?t|didn['’]?t|did\s+not|won['’]?t|will\s+not)
        \s+(?:really\s+|ever\s+)?(?:like|want|eat|drink|care\s+for|enjoy|fancy|need|love|watch|do|dig|buy|purchase|touch|trust)
  | (?:i|we)\s+(?:really\s+|just\s+|also\s+|honestly\s+|seriously\s+|literally\s+|genuinely\s+|absolutely\s+)?(?:hate|hated|dislike|disliked|detest|loathe|can['’]?t\s+stand|cannot\s+stand
        |can['’]?t\s+eat|cannot\s+eat|can['’]?t\s+have|cannot\s+have|can['’]?t\s+drink|cannot\s+drink
        |can['’]?t\s+handle|cannot\s+handle)
  | (?:i\s+am|i['’]m|we\s+are|we['’]re|i\s+get|i\s+got)\s+(?:so\s+|really\s+|a\s+bit\s+|totally\s+)?(?:tired|sick|bored)\s+of
  | (?:(?:i\s+am|i['’]m|im|we\s+are|we['’]re)\s+)?(?:s+o+\s+|really\s+|a\s+bit\s+|totally\s+|kinda\s+|completely\s+)?(?:(?:burnt|burned)\s+out\s+on|fed\s+up\s+with|done\s+with|sick\s+of|tired\s+of)
  | (?:(?:i\s+am|i['’]m|im|we\s+are|we['’]re)\s+)?boycott(?:ing)?
  | (?:i\s+am|i['’]m|we\s+are|we['’]re)\s+(?:so\s+|really\s+|totally\s+|kind\s+of\s+)?(?:not\s+(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of|not\s+into|done\s+with|over)
  | (?:my\s+\w+|he|she|they|the\s+kids|kids|everyone|nobody\s+here)\s+(?:really\s+)?(?:won['’]?t|will\s+not|doesn['’]?t|does\s+not|don['’]?t|do\s+not|can['’]?t|cannot)\s+(?:eat|drink|stand|like|want|have|tolerate|handle|buy|touch|do|watch|see)
  | (?:(?:my\s+\w+|he|she|they|i|we)\s+)?(?:refuses?|refused|refusing)\s+to\s+(?:eat|drink|buy|watch|have|touch|use|get|see)
  | as\s+long\s+as\s+(?:it|they|its|it['’]s|they['’]re)\s*(?:is|are)?\s*(?:n['’]?t|not)
  | (?:my\s+\w+|he|she|they)\s+(?:really\s+)?(?:hates?|dislikes?|is\s+allergic\s+to|are\s+allergic\s+to)
  | (?:way\s+|far\s+)?too\s+much
  | (?:i|we)\s+(?:have|['’]ve)\s+had\s+enough\s+of | had\s+enough\s+of
  | not\s+(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of | not\s+(?:really\s+|that\s+|too\s+|very\s+|super\s+|big\s+)?into | not\s+(?:really\s+)?in\s+the\s+mood\s+for(?:\s+anything)?
  | (?:^|(?<=[.!?,;:]\s)|(?<=^\s))(?:really\s+)?(?:can['’]?t\s+stand|cannot\s+stand|hate|dislike|detest|loathe
        |do\s*n['’]?t\s+(?:like|want|fancy|enjoy|care\s+for))
  | nothing(?!\s+(?:beats|compares|else|but|more|special|at\s+all|too|much|wrong|fancy|in\s+particular|like\s+(?:a|an|the)\b)\b)
  | keep\s+away\s+from | stay\s+away\s+from | spare\s+me(?:\s+the)?
  | already\s+(?:got|have|has|own|owns|bought|seen|watched)(?:\s+(?:some|all(?:\s+of)?))?
  | but\s+not | and\s+not | not | no
)\s+""")
_OWNED_ALREADY = re.compile(
    r"(?i)\b(?:we|i|they)\s*(?:['’]ve\s+got|have\s+got|have|got|['’]ve)\s+(?:(?:a|an|some|plenty\s+of|loads\s+of|lots\s+of|tons\s+of)\s+)?"
    r"(?:(?:whole|big|huge|massive|full)\s+)?(?:(?:sack|bag|box|crate|load|ton|bunch|pile|stack|kilo|jar|bottle|carton|tub)s?\s+of\s+)?"
    r"(?!(?:seen|watched|done|tried|had|been|made|bought|read|eaten|finished|told|asked|said|it|that|this|them)\b)"
    r"(?P<x>[\w'’ ,&-]{2,40}?)\s+(?:(?:at\s+home|in\s+the\s+\w+|on\s+dvd|in\s+stock)\s+)?already\b")
# the usual variety of a kind: "instead of normal milk" asks for a milk
_USUAL_KIND = re.compile(r"(?i)^(?:normal|regular|ordinary|usual|standard|plain\s+old|conventional|traditional)\s+(?=\w)")
# someone already named: "skip him", "not by her", "I can't stand the guy"
_PERSON = re.compile(r"(?i)(?:him|her|them|his|hers|their|theirs|(?:(?:the|that|this)\s+)?(?:guy|man|woman|dude|lady))"
                     r"(?:\s+(?:stuff|movies|films|work|face|voice|acting|humou?r|style|ones))?")


_MALE = re.compile(r"(?i)\b(?:he|him|his|guy|man|dude)\b")
_FEMALE = re.compile(r"(?i)\b(?:she|her|hers|woman|lady)\b")


def names_a_person(phrase: str) -> bool:
    """Whether a phrase only points at someone already named ("him", "his movies", "the guy")."""
    return bool(_PERSON.fullmatch(phrase.strip()))


def the_other_gender(phrase: str) -> re.Pattern | None:
    """The pronouns of the other gender than ``phrase``'s ("him" -> she/her/hers), None
    when it has none ("them")."""
    return _FEMALE if _MALE.search(phrase) else _MALE if _FEMALE.search(phrase) else None
# a clause saying what the ruled-out things show, and its subject and verb
_CONTENT_CLAUSE = re.compile(r"(?i)\s*(?:where|in\s+which|(?:that|which)\s+(?:has|have|involves?|shows?))\s+")
_CLAUSE_SUBJECT = re.compile(r"(?i)^(?:(?:someone|somebody|anyone|anybody|people|a\s+character|characters|a\s+person|they|it)\s+)?"
                             r"(?:has|have|had|is|are|was|gets?|got|being|involves?|shows?)\s+(?:a\s+|an\s+|the\s+)?")
# after "not" / "no" these are not exclusions ("not sure", "not too sweet", "no idea")
_NOT_AN_EXCLUSION = re.compile(r"""(?ix)^(?:
    sure|too|very|so|that|really|quite|overly|exactly|much|necessarily|only|just|bad|yet|now|
    certain|decided|particularly|especially|super|extremely|totally|entirely|always|everything|
    all|a\s+lot|in\s+the\s+mood\s+for\s+anything|idea|preference|problem|matter|worries|wait|thanks|
    thank|clue|way|doubt|rush|need|longer\s+sure|one|more\s+than|less\s+than|later|earlier|
    older|newer|over|under|above|below|cheaper|expensive|fan\s+of\s+(?:choosing|deciding)|
    i|we|you|it|it['’]s|its|that['’]s|thats|this|actually|please|seen|watched|tried|heard|
    \d|more\s+\d|before|after|since
)\b""")
# a subject that is a pronoun points back ("skip the peppers they give me heartburn"): what
# it points at is read by the cue before it
_NOT_A_PRONOUN = "".join(rf"(?<!\b{w})" for w in ("they", "it", "that", "this", "these", "those"))
_SUBJECT_RULED_OUT = re.compile(
    r"(?i)(?P<x>[\w'’ -]{2,40}?)\s+(?:is|are|['’]s|['’]re)\s+(?:a\s+)?(?:no[\s-]go|not\s+for\s+(?:me|us)|off[\s-]limits|"
    r"off\s+the\s+(?:table|list|menu)|out\s+of\s+the\s+question|a\s+no|banned|(?:a\s+)?deal[\s-]?breaker|"
    r"(?:way\s+|far\s+)?too\s+(?:much|big|large|expensive|pricey|heavy)\s+for\s+(?:me|us)|"
    # "lemons and limes are way too sour for that": what the subject is like rules it out
    r"(?:(?:way|far|much|just|a\s+bit|kinda|kind\s+of|really)\s+)?too\s+(?:sour|bitter|sweet|spicy|hot|salty|"
    r"tart|acidic|sugary|fatty|greasy|bland|strong|old|long|slow|violent|scary|gory|sad|depressing|cheesy))\b"
    r"|(?P<y>\b(?:[a-z]+\s)?[a-z]+)\s+allerg(?:y|ies)\b".replace("(?P<y>", "(?P<x2>")
    # "soy tastes like cardboard", "the cheap ones taste awful"
    + r"|(?P<x3>[\w'’ -]{2,40}?)\s+(?:tastes?|tasted|smells?|smelled)\s+(?:like\s+(?:cardboard|crap|soap|dirt|chalk|"
    r"plastic|water|nothing|medicine|feet|sh\w+)|(?:so\s+|really\s+|just\s+)?(?:awful|bad|gross|horrible|disgusting|"
    r"terrible|vile|nasty|off|weird|funny|wrong))\b"
    # "soy makes him bloated", "cucumber and tomatoes are obviously out for that"
    r"|(?P<x4>[\w'’ -]{2,40}?)" + _NOT_A_PRONOUN + r"\s+(?:makes?|made|gives?|gave)\s+(?:me|him|her|them|us|my\s+\w+)\s+(?:feel\s+)?"
    r"(?:sick|ill|bloated|gassy|nauseous|queasy|itchy|a\s+rash|hives|heartburn|migraines?|headaches?|a\s+stomach\s*ache)\b"
    r"|(?P<x5>[\w'’ -]{2,40}?)" + _NOT_A_PRONOUN + r"\s+(?:is|are|['’]s|['’]re)\s+(?:obviously\s+|definitely\s+|totally\s+|completely\s+|also\s+|so\s+)?"
    r"out\b(?!\s+(?:of|there|now|yet|in|on|today|soon|here)\b)")
# a clause of its own, not a thing named: "I love it", "we tried"
_CLAUSE_START = re.compile(r"(?i)(?:i|we|you|he|she|they|it|this|that|there)\b")
# allergies the diets table reads itself ("nut allergy", "milk allergy")
_DIET_WORDS = frozenset({"nut", "nuts", "peanut", "milk", "dairy", "lactose", "gluten", "wheat", "food"})
IDIOMS = (r"without\s+(?:a\s+)?doubt|no\s+doubt|no\s+wonder|not\s+only|not\s+to\s+mention|nothing\s+beats|"
          r"never\s+(?:had|tried|tasted|eaten|seen|watched|heard\s+of|read|been\s+to)|not\s+gonna\s+lie|"
          r"(?:never|wouldn['’]?t|would\s+not|can['’]?t|could\s+never)\s+say\s+no\s+to|never\s+get\s+tired\s+of|"
          r"do\s*n['’]?t\s+(?:judge|get\s+me\s+wrong|worry)|doesn['’]?t\s+mind|do\s*n['’]?t\s+mind|wouldn['’]?t\s+mind|"
          r"can['’]?t\s+go\s+wrong|can['’]?t\s+wait|no\s+matter|none\s+other\s+than|never\s+mind|no\s+problem|"
          r"no\s+worries|not\s+bad|no\s+idea|not\s+sure|no\s+thanks")
_IDIOMS = re.compile(rf"(?i)\b(?:{IDIOMS})\b")
# "not sweet enough", "not too": degree words: the phrase is a soft preference, cut from the text
_DEGREE_NOT = re.compile(r"(?i)\bnot\s+(?:too|very|so|overly|that|super|extremely|particularly)\s+" + _WORD)

# "the vegan experiment lasted 4 days, forget it": the diet is given up
_DIET_GIVEN_UP = re.compile(r"(?i)[^.!?]{0,40}?(?:[.!?,]|\s)\s*\W{0,4}\s*(?:forget\s+it|scratch\s+that|never\s*mind|nvm"
                            r"|(?:i\s+)?gave\s+(?:it\s+)?up|is\s+over|didn['’]?t\s+(?:work\s+out|last))\b")
_DIET_PATTERNS = [
    ("vegan", r"\bve(?:ga|g|ag)ns?\b|\bplant[- ]based\b|\bno\s+animal\s+products\b"),
    ("vegetarian", r"\bvegetarians?\b|\b(?:i|we)\s+(?:do\s*n[o']?t|don['’]?t|never)\s+eat\s+meat\b|\bno\s+meat\b|\bmeat[- ]free\b"),
    ("dairy-free", r"\bdairy[- ]free\b|\bno\s+dairy\b|\bwithout\s+dairy\b|\b(?:plant|non[- ]?dairy)(?=\s+(?:milks?|drinks?)\b)|\b(?:milk|dairy)\s+allerg(?:y|ies|ic)\b"
                   r"|\ballergic\s+to\s+(?:milk|dairy)\b|\b(?:i|we)\s+(?:can['’]?t|cannot|do\s*n[o']?t|don['’]?t)\s+(?:have|eat|drink|do)\s+dairy\b"),
    ("lactose-free", r"\blactose[- ]intoleran(?:t|ce)\b|\bintoleran(?:t|ce)\s+to\s+lactose\b|\ballergic\s+to\s+lactose\b"
                     r"|\b(?:i|we)\s+(?:can['’]?t|cannot|do\s*n[o']?t|don['’]?t)\s+(?:have|digest|tolerate|take|do)\s+lactose\b"
                     r"|\bno\s+lactose\b|\bavoid(?:ing)?\s+lactose\b|\blactose\s+(?:sensitive|sensitivity)\b"),
    ("gluten-free", r"\bcoeliac\b|\bceliac\b|\bgluten\s+intoleran(?:t|ce)\b|\ballergic\s+to\s+(?:gluten|wheat)\b"
                    r"|\b(?:i\s+am|i['’]m|we\s+are|we['’]re|i\s+eat|i\s+need|i\s+must\s+eat|must\s+be|has\s+to\s+be|i['’]m\s+on\s+a|on\s+a)\s+gluten[- ]free\b"
                    r"|\bno\s+gluten\b|\bwithout\s+gluten\b|\b(?:i|we)\s+(?:can['’]?t|cannot)\s+(?:have|eat)\s+gluten\b"),
    ("nut-free", r"\bnut\s+allerg(?:y|ies|ic)\b|\ballergic\s+to\s+(?:pea)?nuts?\b|\bnut[- ]free\b|\bno\s+nuts\b"
                 r"|\b(?:i|we)\s+(?:can['’]?t|cannot)\s+(?:have|eat)\s+nuts\b"),
]

_SHIFT_CUE = re.compile(r"""(?ix)\b(?:
    instead | actually | forget\s+(?:that|it|this|those|about\s+(?:it|that|this|those|the\s+\w+)) | never\s*mind
  | no,?\s+wait | wait,? | scratch\s+that | on\s+second\s+thoughts? | change\s+of\s+plans?
  | now,?\s+(?:show|give|find|let['’]?s|i\s+(?:want|need|would|['’]d)|something|how\s+about|what\s+about)
  | something\s+(?:else|different)(?:\s+(?:entirely|altogether|completely))?\s*(?=[,:]|\s+(?:maybe|like|perhaps|a|an|some)\b)
  | switch(?:ing)?\s+gears | change\s+of\s+pace | (?:a\s+)?different\s+direction
  | let['’]?s\s+(?:switch|change|try\s+something|move\s+on|go\s+with) | switch(?:ing)?\s+to | moving\s+on
  | how\s+about | what\s+about | different\s+topic | new\s+topic | change\s+the\s+subject
)\b""")
_REFINE_CUE = re.compile(r"""(?ix)\b(?:
    another(?:\s+one)? | more\s+like | more\s+of | similar | others? | anything\s+else | something\s+else
  | (?:a\s+)?different\s+one | one\s+more | (?:some\s+)?more(?=\s*(?:[.!?]|$|please|options|suggestions))
  | cheaper | less\s+expensive | more\s+expensive | pricier | newer | older | more\s+recent
  | sweeter | less\s+\w+ | more\s+\w+er | \w+er\s+ones? | \w+\s+ones\b
  | like\s+(?:that|this|those|these|it|them)\b | the\s+same
  | (?:in|of|from|among|out\s+of)\s+that\s+lot
  | (?:any|which|anything|one)\s+(?:[\w-]+\s+){0,3}?(?:of|among|from)\s+(?:those|these|them)
    # a wish about the request made so far: "one where he's being funny would be ideal",
    # "with some comedy in it would be even better", "bonus points if it's short"
  | ^\s*(?:(?:ideally|preferably|maybe|and|but|oh|ooh|ok)[,\s]+)*(?:one|ones)\s+(?:where|that|with|in\s+which|without)
  | ^\s*(?:(?:ideally|preferably|maybe|and|but|oh|ooh|ok)[,\s]+)*with\s+(?:some|a\s+bit\s+of|a\s+little|a\s+touch\s+of|more)\s+\w+
  | would\s+be\s+(?:even\s+)?(?:better|ideal|perfect|great|nice|a\s+bonus)
  | bonus(?:\s+points)?\s+if | (?:ideally|preferably)
)\b""")
_FIELD_WORD = (r"director|directors|brand|maker|manufacturer|company|actors?|actress|stars?|cast|lead(?:\s+actors?|\s+actress|\s+role)?"
               r"|writer|author|genre|country|origin|studio|producer|year|decade")
_SAME = re.compile(rf"""(?ix)\b(?:
    (?:the\s+)?same\s+(?P<f>{_FIELD_WORD})
  | (?:by\s+)?(?:whoever|the\s+(?:guy|person|one|woman|man)\s+(?:who|that))\s+(?P<f4>directed|wrote|made|produced)\s+(?:it|that|this|them)
  | the\s+(?P<f5>{_FIELD_WORD})\s+(?:of|from|in)\s+(?:it|that|this)(?:\s+one|\s+movie|\s+film|\s+item)?
  | (?:that|this)\s+(?P<f6>brand|director|maker|manufacturer|company|studio|writer|author)(?!\s+(?:is|was)\b)
  | (?:came\s+out|released|made)\s+(?:in\s+)?(?:that|the)\s+same\s+(?P<f7>year)
  | the\s+(?P<f8>(?:lead|main)\s+(?:actors?|actress|stars?|role)|two\s+leads|leads?)(?=\s+(?:been|in|from|play|star|do|made|act))
  | (?:its|his|her|their|that\s+(?:movie|film|one|item)['’]s)\s+(?P<f2>{_FIELD_WORD})
  | (?:by|from|with)\s+(?:that|this)\s+(?P<f3>{_FIELD_WORD})
)\b""")
_MORE_CUE = re.compile(r"(?i)\b(?:another|more|others?|else|next|one\s+more|different\s+ones?|new\s+ones?|similar)\b")
# a request of its own: "any drink?", "do you have X", "I need X", "show me X"
_REQUEST = re.compile(r"""(?ix)(?:^|[.,;:!?]\s*|\b(?:and|but|so)\s+)(?:
    any | do\s+you\s+have | have\s+you\s+got | got\s+any | is\s+there | are\s+there
  | (?:i|we)\s+(?:really\s+|just\s+|only\s+)?(?:want|need|['’]d\s+like|would\s+like|['’]d\s+love|would\s+love|am\s+looking\s+for|['’]m\s+looking\s+for
        |look\s+for|fancy|feel\s+like|['’]m\s+in\s+the\s+mood\s+for|am\s+in\s+the\s+mood\s+for|['’]m\s+after|am\s+after|crave)
  | (?:my\s+\w+|he|she|they|the\s+kids)\s+(?:really\s+|just\s+)?(?:wants|want|needs|need|would\s+like|['’]d\s+like)\s+(?=(?:something|anything|a|an|some)\b)
  | show\s+me | give\s+me | find\s+me | get\s+me | recommend | suggest
  | can\s+you\s+(?:recommend|suggest|find|show) | looking\s+for | in\s+the\s+mood\s+for
  | what\s+(?:\w+\s+)?(?:goes|go|is\s+good|are\s+good|would\s+you) | which\s+\w+
  | (?:something|anything)(?=\s+(?:to|for)\s)
)\b""")
# "something sweeter", "another one", "more like that": the same request, refined;
# "something to drink", "anything for breakfast" ask for a thing of their own
_REFINE_OBJECT = re.compile(r"(?i)^\s*(?:a\s+|an\s+|some\s+)?(?:something|anything|one|ones|another|more|similar|else|other|others)\b"
                            r"(?!\s+(?:to|for|with|from|in|that|which)\b)")

def content_words(text: str) -> list[str]:
    """The words of ``text`` that ask for something (not fillers, cues or generic heads)."""
    return [w for w in re.findall(r"[\w'’-]+", text.lower()) if w not in FILLER and w not in GENERIC_HEADS
            and not w.isdigit() and len(w) > 1]


def clean_phrase(text: str) -> str:
    """A phrase without leading determiners and trailing fillers or generic heads:
    "any more of those green ones please" -> "green"."""
    text = re.sub(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u200d\ufe0f]+", " ", text)
    words = text.strip(" \t'\"‘’“”-—–").split()
    changed = True
    while words and changed:
        changed = False
        low = " ".join(words).lower()
        for lead in _LEADING:
            if low == lead or low.startswith(lead + " "):
                words = words[len(lead.split()):]
                changed = True
                break
        low = " ".join(words).lower()
        for trail in _TRAILING_LONGEST_FIRST:
            if low.endswith(" " + trail) or (low == trail and trail in _TRAILING):
                words = words[: len(words) - len(trail.split())]
                changed = True
                break
    phrase = " ".join(words).strip(" \t'\"‘’“”-")
    # "horror-ish", "sweetish": the word it comes from
    return re.sub(r"(?i)(?<=\w{3})-ish$", "", phrase)


# "are the avocados from peru??": a question about the items, asking for nothing
_ITEMS_QUESTION = re.compile(r"(?i)\s*(?:(?:wait|so|hmm+|oh|and|but|um+|also|btw|ok|okay)[,\s]+)*"
                             r"(?:are|is|were|was|aren['’]?t|isn['’]?t)\s+(?:the|these|those|they|it|this|that|your)\b[^.!?]*\?")


def _asks_of_the_items(text: str, at: int) -> bool:
    """Whether ``at`` lies in a question about the items ("are the avocados from peru?")."""
    start = max(text.rfind(c, 0, at) for c in ".!?\n") + 1
    m = _ITEMS_QUESTION.match(text, start)
    return bool(m) and m.end() > at


def _object_after(text: str, start: int, max_words: int = 6,
                  taken: list[tuple[int, int]] = ()) -> tuple[list[Phrase], int]:
    """The phrase(s) governed by a cue ending at ``start``: up to the next clause boundary
    or construction already read ("by Nolan | from the 90s"), a list "apples, pears or
    bananas" split into its members. Returns them and the end."""
    b = _BOUNDARY.search(text, start)
    end = b.start() if b else len(text)
    end = min([end] + [s for s, _ in taken if start < s < end])
    chunks = [(start, end)]
    # a list continues over commas only when it ends in "or X" / "and X" / "nor X"
    pos = end
    tail = []
    while pos < len(text) and text[pos] == ",":
        m = re.match(r",\s*(?:(or|and|nor)\s+)?", text[pos:])
        s = pos + m.end()
        b2 = _BOUNDARY.search(text, s)
        e = b2.start() if b2 else len(text)
        if len(text[s:e].split()) > 3 or s == e:
            break
        tail.append((s, e, bool(m.group(1))))
        pos = e
    if tail and (tail[-1][2] or re.search(r"(?i)\s(?:or|and|nor)\s", text[tail[-1][0]:tail[-1][1]])):
        chunks += [(s, e) for s, e, _ in tail]
        end = tail[-1][1]
    out = []
    for s, e in chunks:
        piece = text[s:e]
        offset = s
        for part in re.split(r"\s+(?:or|and|nor|&)\s+(?:no\s+|not\s+)?|\s*/\s*", piece):
            k = piece.find(part)
            phrase = clean_phrase(part)
            if phrase and len(phrase.split()) <= max_words:
                out.append(Phrase(phrase, offset + max(k, 0), offset + max(k, 0) + len(part)))
    return out, end


_DRAWN_OUT = re.compile(r"(?i)([a-z])\1{2,}\b")

# ---- the reader ----------------------------------------------------------------------------


def _spans_free(s: int, e: int, taken: list[tuple[int, int]]) -> bool:
    return all(e <= a or s >= b for a, b in taken)


def read(text: str, diets: list[tuple[str, str]] | None = None) -> Reading:
    """What ``text`` says. ``diets`` adds ``(name, regex)`` triggers to the built-in ones
    (the settings' own diets)."""
    # "moreee like that", "soooo done with": a letter drawn out at a word's end, once
    text = _DRAWN_OUT.sub(r"\1", text)
    r = Reading(text=text)
    taken: list[tuple[int, int]] = []

    # diets first: "no dairy" is a diet, not an exclusion of the word "dairy"; "she isn't
    # vegan" takes one back
    for name, pattern in list(_DIET_PATTERNS) + list(diets or []):
        for m in re.finditer(pattern, text, re.I):
            if re.search(r"(?i)\b(?:is|am|are|['’]m|['’]s|['’]re)\s*(?:n['’]t|not|no\s+longer)\s+(?:a\s+)?$|\bnot\s+$"
                         # "never mind the dairy-free thing"
                         r"|\b(?:forget|ignore|scratch|drop|disregard|never\s*mind)\s+(?:about\s+)?(?:the|that|my)\s+$",
                         text[max(0, m.start() - 24):m.start()]) or _DIET_GIVEN_UP.match(text, m.end()):
                r.diets_off.append(name)
            elif name not in r.diets:
                r.diets.append(name)
            taken.append((m.start(), m.end()))

    # references to shown items: "not the first one" is a rejection of that item
    for ref in read_references(text):
        if _spans_free(ref.start, ref.end, taken):
            r.references.append(ref)
    ref_spans = [(x.start, x.end) for x in r.references]

    r.ranges = read_ranges(text, taken)
    _rule_out_ranges(text, r.ranges)
    # "newer than that one" compares; it does not like or reject "that one"
    r.references = [x for x in r.references
                    if not any(g.field == "relative" and g.start <= x.start < g.end for g in r.ranges)]

    # "a different brand", "other directors": not the ones of the items shown
    for m in re.finditer(rf"(?i)\b(?:a\s+)?(?:different|another|other)\s+(?P<f>{_FIELD_WORD})(?:s)?\b", text):
        if _spans_free(m.start(), m.end(), taken):
            r.different.append(m.group("f").lower().rstrip("s"))
            taken.append((m.start(), m.end()))
    # "only the organic ones": a word the items must say
    for m in re.finditer(r"(?i)\b(?:only|just)\s+(?:the\s+|those\s+|ones\s+)?(?P<x>[\w'’-]+(?:\s+[\w'’-]+)?)\s+(?:ones|kind|kinds|stuff|products|ones\s+please)\b"
                         r"|\bonly\s+(?:(?:ever\s+)?(?:buy|eat|get|want|drink|use|shop)\s+)?(?P<y>organic|ecological|eco|vegan|fresh|local|swedish|italian|spanish)\b"
                         # "just the veg though": one word closing the clause
                         r"|\b(?:just|only)\s+(?:the\s+|those\s+)(?P<z>[\w'’-]+)(?=\s*(?:though|tho|please|pls|then)?\s*(?:$|[.!?,;]))",
                         text):
        phrase = clean_phrase(m.group("x") or m.group("y") or m.group("z"))
        if _spans_free(m.start(), m.end(), taken) and content_words(phrase):
            r.only.append(phrase)
            taken.append((m.start(), m.end()))

    # "more from the same director", "others with its lead actor"
    for m in _SAME.finditer(text):
        if _spans_free(m.start(), m.end(), taken):
            inside = [x for x in r.references if m.start() <= x.start < m.end() + 30]
            word = m.group("f") or m.group("f2") or m.group("f3") or m.group("f5") or m.group("f6") or m.group("f7") \
                or (m.group("f8") and ("leads" if re.search(r"(?i)actress|leads", m.group("f8")) else "lead")) or {
                "directed": "director", "wrote": "writer", "made": "maker", "produced": "producer"}.get(
                (m.group("f4") or "").lower(), "")
            said = (" ".join(word.lower().split()), inside[0].position if inside else None)
            (r.not_same if _AFTER_CUE.search(text[max(0, m.start() - 80):m.start()].rstrip() + " ") else r.same).append(said)
            taken.append((m.start(), m.end()))

    # idioms with a negation that rule nothing out: "without a doubt", "no wonder"
    for m in _IDIOMS.finditer(text):
        taken.append((m.start(), m.end()))
    # soft negatives: "not too sweet" asks for less, it rules nothing out
    for m in _DEGREE_NOT.finditer(text):
        if _spans_free(m.start(), m.end(), taken):
            taken.append((m.start(), m.end()))

    # retractions: "apples are fine after all", "I'd love a lemon now"
    for phrase in _retractions(text, taken):
        r.retract.append(phrase)
        taken.append((phrase.start, phrase.end))

    for m in _SEEN_ALL.finditer(text):
        g = "x" if m.group("x") else "y"
        x = m.group(g)
        if x.lower() not in ("those", "these") and not names_a_person(x) and not content_words(clean_phrase(x)):
            continue  # "we've all seen both obviously": nothing named
        # "those": the series the message names ("like harry potter, but I've seen every
        # single one of those")
        if _spans_free(m.start(), m.end(), taken) and (names_a_person(x) or x.lower() in ("those", "these") or (
                content_words(x) and not re.match(r"(?i)(?:them|those|these|that|this|it)\b", x))):
            r.seen_all.append(Phrase(x if x.lower() in ("those", "these") else clean_phrase(x), m.start(g), m.end(g)))
            taken.append((m.start(), m.end()))

    # "arla is a no-go for me", "melons are too much for me", "a soy allergy"
    for m in _SUBJECT_RULED_OUT.finditer(text):
        if _spans_free(m.start(), m.end(), taken):
            group = next(g for g in ("x", "x2", "x3", "x4", "x5") if m.group(g))
            clause = re.split(r"(?i)\b(?:but|so|though|also|oh|hmm|well|ok|okay|right|has|have|a|an|says|said|thinks|reckons)\b|[,.;:!?]",
                              m.group(group))[-1]
            # "lemons and limes are way too sour": each of a list of things; "I love it and
            # apples are a no-go": the last clause's subject only
            members = [clean_phrase(x) for x in re.split(r"(?i)\s+(?:and|or|&)\s+", clause)]
            if len(members) > 1 and any(len(x.split()) > 3 or _CLAUSE_START.match(x) for x in members):
                members = members[-1:]
            for phrase in members:
                if phrase and not is_reference(phrase) and phrase.lower() not in FILLER and phrase.lower() not in _DIET_WORDS:
                    r.exclude.append(Phrase(phrase, m.start(group), m.end(group)))
                    taken.append((m.start(), m.end()))
    # "keep Tom Cruise out of it", "leave the onions out"
    for m in re.finditer(r"(?i)\b(?:keep|leave|cut|take)\s+(?P<x>[\w\s'’.-]{2,40}?)\s+out\b(?:\s+of\s+(?:it|this|that|them))?", text):
        if _spans_free(m.start(), m.end(), taken):
            phrase = clean_phrase(m.group("x"))
            if phrase and not is_reference(phrase):
                r.exclude.append(Phrase(phrase, m.start("x"), m.end("x")))
                taken.append((m.start(), m.end()))
    # "we have a whole sack of potatoes in the cellar already": owned, not wanted
    for m in _OWNED_ALREADY.finditer(text):
        if _spans_free(m.start(), m.end(), taken):
            for phrase in [clean_phrase(x) for x in re.split(r"(?i)\s*(?:,|\band\b|&)\s*", m.group("x"))]:
                if phrase and content_words(phrase) and not is_reference(phrase):
                    r.exclude.append(Phrase(phrase, m.start("x"), m.end("x")))
            taken.append((m.start(), m.end()))
    # exclusions
    for m in _EXCLUDE_CUE.finditer(text):
        if not _spans_free(m.start(), m.end(), taken):
            continue
        rest = text[m.end():]
        cue = m.group(0).strip().lower()
        if cue in ("no", "not", "but not", "and not") and _NOT_AN_EXCLUSION.match(rest):
            if re.match(r"(?i)(?:too|very|so|really|that|quite|overly)\b", rest):
                taken.append((m.start(), m.end()))
            continue
        if cue == "no" and re.match(r"\s*[,!]", text[m.end() - 1:m.end() + 1]):
            continue
        if any(s <= m.end() < e for s, e in ref_spans):
            continue  # "not the first one": a reference, read above
        phrases, end = _object_after(text, m.end(), taken=taken)
        said = [p for p in phrases if _spans_free(p.start, p.end, taken)]
        # "no movies where ...": a generic head alone names nothing to rule out
        phrases = [p for p in said if not is_reference(p.text)
                   and (content_words(p.text) or re.search(r"\d", p.text) or names_a_person(p.text))]
        # "not his 90s stuff": "his" says whose; the range is what is ruled out
        phrases = [p for p in phrases if not (_POSSESSIVE.fullmatch(p.text.strip())
                                              and any(g.negated and 0 <= g.start - p.end <= 2 for g in r.ranges))]
        # "not a fan of The Rock (Dwayne Johnson)": the name in brackets is who is meant
        bracket = re.match(r"\s*\(([^()]{3,40})\)", text[end:]) if len(phrases) == 1 else None
        # ("he read an article", "she hates them" is an aside, not a name)
        # nor a list of examples ("the sci-fi stuff (aliens, dinosaurs etc)")
        if bracket and content_words(bracket.group(1)) and not _CLAUSE_START.match(bracket.group(1)) \
                and not re.search(r"(?i),|\betc\b|\be\.?g\b|\blike\b|\bsuch\s+as\b", bracket.group(1)):
            phrases = [Phrase(clean_phrase(bracket.group(1)), end + bracket.start(1), end + bracket.end(1))]
            end += bracket.end()
        # "no tearjerkers where someone has cancer or is dying": what the clause names too
        clause = _CONTENT_CLAUSE.match(text, end) if said else None
        if clause:
            told, clause_end = _object_after(text, clause.end(), taken=taken)
            for p in told:
                p.text = _CLAUSE_SUBJECT.sub("", p.text).strip()
                if content_words(p.text) and _spans_free(p.start, p.end, taken):
                    phrases.append(p)
                    end = clause_end
        if not phrases:
            if said and all(p.text.lower() in ("them", "it", "those", "these", "that", "this") for p in said):
                # "my partner hates them": about what was already named; not a request
                taken.append((m.start(), end))
            continue
        if re.fullmatch(r"(?:instead\s+of|rather\s+than|other\s+than|(?:an?\s+)?(?:alternative|substitute|replacement)\s+(?:to|for))", cue):
            # "something instead of yoghurt": things like yoghurt, but not yoghurt;
            # "instead of normal milk": a milk, only not the usual kind (the diet says which)
            usual = [p for p in phrases if _USUAL_KIND.match(p.text)]
            r.instead_of.extend(_USUAL_KIND.sub("", p.text) if p in usual else p.text for p in phrases)
            phrases = [p for p in phrases if p not in usual]
        r.exclude.extend(phrases)
        if cue in ("without", "w/o", "hold the", "minus"):
            r.lacking.extend(p.text for p in phrases)
        taken.append((m.start(), end))

    # "X-free": items saying so are preferred (not a diet, nothing excluded)
    for m in re.finditer(r"(?i)\b([a-z][\w]*(?:\s[a-z]\w*)?)[- ]free\b", text):
        word = m.group(1).split()[-1].lower()
        if word in ("sugar", "lactose", "gluten", "fat", "dairy", "nut", "alcohol", "caffeine", "salt", "meat",
                    "egg", "soy", "wheat", "pulp", "seed", "stone", "pit", "bpa", "cruelty", "additive", "preservative",
                    "fragrance", "sodium", "grain", "peanut") and _spans_free(m.start(), m.end(), taken):
            r.lacking.append(word)

    # "any of his", "more of hers": the person last named, wanted
    for m in re.finditer(r"(?i)\b(?:any|some|more|others?|ones?|anything|something)\s+(?:else\s+)?of\s+(?P<x>his|hers|theirs)\b"
                         r"|\b(?:show\s+me|give\s+me|what\s+about|how\s+about|let['’]?s\s+see|try)\s+(?P<y>his|her|their)\s+"
                         r"(?:stuff|movies|films|work|ones|best)\b", text):
        if _spans_free(m.start(), m.end(), taken):
            r.want.append(Phrase(m.group("x") or m.group("y"), m.start(), m.end(), "of"))
            taken.append((m.start(), m.end()))
    # wanted attributes: "from Sweden", "with Tom Hanks", "by Nolan"
    for m in re.finditer(r"(?i)\b(?:from|made\s+in|made\s+by|by|with|starring|featuring|directed\s+by|written\s+by|produced\s+by|grown\s+in)\s+", text):
        if not _spans_free(m.start(), m.end(), taken) or _asks_of_the_items(text, m.start()):
            continue
        phrases, end = _object_after(text, m.end(), max_words=4, taken=taken)
        for p in phrases:
            if _spans_free(p.start, p.end, taken) and not is_reference(p.text):
                p.start = m.start()
                p.cue = " ".join(m.group(0).lower().split())
                r.want.append(p)

    cues = [m.group(0).lower() for m in _SHIFT_CUE.finditer(text)]
    r.shift_cue = bool(cues)
    r.shift_weak = bool(cues) and all(re.fullmatch(r"actually|(?:no,?\s+)?wait,?|(?:how|what)\s+about", c) for c in cues)
    r.refine_cue = bool(_REFINE_CUE.search(text)) or any(x.feeling == "seed" for x in r.references)
    r.more_cue = bool(_MORE_CUE.search(text)) or any(x.feeling == "seed" for x in r.references)
    r.request = _is_request(text, taken)

    # what is left asks for something: cut the constructions and the cue words
    keep = []
    last = 0
    for s, e in sorted(taken + ref_spans):
        if s >= last:
            keep.append(text[last:s])
            last = e
        elif e > last:
            last = e
    keep.append(text[last:])
    rest = " ".join(keep)
    rest = _SHIFT_CUE.sub(" ", rest)
    r.topic_text = " ".join(rest.split()).strip(" ,.;:!?-")
    return r


# what an exclusion cue governs: "not into [80s stuff]", "not a fan of [that brand]"
_AFTER_CUE = re.compile(_EXCLUDE_CUE.pattern + r"(?:(?:the|any|anything|something|movies?|films?|stuff|ones?"
                        r"|from|in|of|made|released|all|his|her|their|its)\s+)*$")
# whose: "not his 90s stuff" rules out the range, not the person
_POSSESSIVE = re.compile(r"(?i)his|her|their|its")
# "seen all the ones with Kevin Hart", "he's seen every clint eastwood movie", "I've seen
# all of his": everything by someone is known already (ruled out when it names a person)
_SEEN_ALL = re.compile(r"""(?ix)\b(?:seen|watched|saw|done)\s+(?:
    (?:them\s+)?(?:(?:basically|pretty\s+much|literally|just\s+about|nearly|almost|practically)\s+)?(?:all|every(?:\s+single)?|both)\s+
    (?:(?:one|ones|movie|movies|film|films)\s+)?(?:of\s+)?(?:the\s+)?(?:(?:ones?|movies?|films?)\s+)?
    (?:(?:with|by|from|starring)\s+)?
    (?P<x>[\w'’.-]+(?:\s+[\w'’.-]+){0,2}?)
    (?=\s+(?:in\s+them|movies?|films?|ones?|stuff|ever|already|too|as\s+well|so|like|about|a\s+(?:million|thousand|hundred)
          |times|twice|tho|though|lol)\b|\s*(?:[.,;:!?]|$))
    # "seen the dollars trilogy": the series by its name
  | (?:all\s+(?:of\s+)?)?the\s+(?P<y>[\w'’.-]+(?:\s+[\w'’.-]+){0,2}?)\s+(?:trilogy|series|saga|franchise|sequels|films|movies)\b)""")
# a complaint about what was shown: "these are all so 80s", "they're way too 90s"
_RANGE_COMPLAINT = re.compile(r"(?i)\b(?:these|those|they|them|all\s+of\s+them|it|this|that)\s*(?:all\s+)?"
                              r"(?:are\s+|is\s+|['’]re\s+|['’]s\s+|looks?\s+|feels?\s+|seems?\s+)?(?:all\s+)?"
                              r"(?:(?:so|too|way\s+too|very|pretty|kinda|kind\s+of|a\s+bit|really|super)\s+)+$")


def _rule_out_ranges(text: str, ranges: list[Range]) -> None:
    """Negate the ranges an exclusion cue governs, or that complain about the items shown;
    a range both asked for and ruled out in one message ("these are so 80s, not into 80s
    stuff") is ruled out."""
    for rg in ranges:
        if rg.negated or rg.field == "relative":
            continue
        # the range's own leading words ("of", "from the") may be the cue's object words
        lead = re.match(r"(?i)\s*(?:(?:from|in|of|during|the)\s+)*", text[rg.start:])
        before = text[:rg.start + lead.end()].rstrip() + " "
        if _AFTER_CUE.search(before[-80:]) or _RANGE_COMPLAINT.search(before[-60:]):
            rg.negated = True
    ruled_out = {(rg.field, rg.label) for rg in ranges if rg.negated}
    for rg in ranges:
        if not rg.negated and (rg.field, rg.label) in ruled_out:
            rg.negated = True


def _is_request(text: str, taken: list[tuple[int, int]]) -> bool:
    """A request frame whose object is a thing of its own ("any drink?"), not a refinement
    ("anything similar?", "another one")."""
    for m in _REQUEST.finditer(text):
        if not _spans_free(m.end() - 1, m.end(), taken):
            continue
        obj = re.split(r"[.,;:!?]|\bbut\b", text[m.end():])[0]
        if _REFINE_OBJECT.match(obj):
            continue
        if content_words(obj):
            return True
    return False


def _retractions(text: str, taken: list[tuple[int, int]]) -> list[Phrase]:
    """Phrases the user takes back a refusal of: "apples are fine after all" (the subject
    before "is fine"), "I'd love a lemon now" (the object of a wish with "now", "after
    all", "again"). Whether one really undoes an exclusion is decided against the state."""
    out = []
    for clause in re.finditer(r"[^.!?;]+", text):
        c = clause.group(0)
        base = clause.start()
        # "<X> are fine (after all)"
        m = re.search(r"(?i)\b(?:is|are|['’]s|['’]re|would\s+be|will\s+be)\s+(?:totally\s+|perfectly\s+|actually\s+|absolutely\s+|really\s+|completely\s+|still\s+)?"
                      r"(?:fine|ok|okay|good|alright|all\s+right|allowed|back|welcome|acceptable)\b", c)
        if m and not re.search(r"(?i)\b(?:not|no|never|isn['’]?t|aren['’]?t)\b", c[m.start(): m.end() + 1]):
            subject = re.split(r"(?i)\b(?:actually|well|ok|okay|oh|hmm|but|and|so|then|on\s+second\s+thoughts?"
                               r"|come\s+to\s+think\s+of\s+it)\b|,", c[: m.start()])[-1]
            phrase = clean_phrase(subject)
            if phrase and len(phrase.split()) <= 4 and phrase.lower() not in ("it", "that", "this", "they", "i", "everything", "all"):
                out.append(Phrase(phrase, base + c.find(subject.strip()), base + m.end()))
                continue
        # "<X> after all" / "I'd love a lemon now"
        m = re.search(r"(?ix)\b(?:i|we)(?:\s+|(?=['’]))(?:do\s+|actually\s+|really\s+)?(?:['’]d\s+|would\s+)?(?:like|love|want|eat|fancy|take)\s+"
                      r"(?:a\s+|an\s+|some\s+|the\s+)?(?P<x>[\w\s'-]{1,40}?)\s+(?:now|after\s+all|again|then)\b", c)
        if not m:
            m = re.search(r"(?ix)\b(?:bring\s+back|changed\s+my\s+mind\s+(?:about|on)|(?:i['’]m|i\s+am)\s+(?:ok|okay|fine)\s+with)\s+"
                          r"(?:a\s+|an\s+|some\s+|the\s+)?(?P<x>[\w\s'-]{1,40}?)(?=\s*(?:$|[,]|\s+(?:now|after\s+all|again|then)\b))", c)
        if not m:
            m = re.search(r"(?ix)(?:^|,)\s*(?:actually,?\s+)?(?P<x>[\w\s'-]{1,30}?)\s+after\s+all\b", c)
        giving_in = False
        if not m:
            # "ok fine, Tropicana then": giving in to what was ruled out (only that, whole:
            # "ok, yoghurt then" after "no Arla" asks for yoghurt, it allows no Arla one)
            m = re.search(r"(?ix)\b(?:ok(?:ay)?|fine|alright|all\s+right)[,\s]+(?:(?:fine|then|i\s+guess)[,\s]+)?"
                          r"(?P<x>[\w\s'’-]{1,30}?)\s+(?:then|it\s+is)\b", c)
            giving_in = bool(m)
        if not m:
            m = re.search(r"(?ix)\b(?:forget|ignore|scratch|drop|disregard|never\s*mind)\s+(?:about\s+)?(?:the|that|my)\s+(?P<x>[\w\s'-]{1,30}?)\s+"
                          r"(?:thing|bit|part|rule|condition|filter|restriction)\b", c)
        if not m:
            m = re.search(r"(?ix)\b(?:i|we)\s+do\s+(?:need|want|like|eat|love)\s+(?:a\s+|an\s+|some\s+|the\s+)?"
                          r"(?P<x>[\w\s'-]{1,30}?)(?=\s*(?:$|[,;]|\s+(?:after\s+all|now|then|for|please)\b))", c)
        if not m and re.search(r"(?i)\bchanged\s+my\s+mind\b", text):
            m = re.search(r"(?ix)\b(?:i|we)\s+(?:do\s+|really\s+)?(?:need|want|like|love|['’]d\s+like)\s+(?:a\s+|an\s+|some\s+|the\s+)?"
                          r"(?P<x>[\w\s'-]{1,30}?)(?=\s*(?:$|[,;]|\s+(?:after\s+all|now|then|for|please)\b))", c)
        if not m:
            m = re.search(r"(?ix)\b(?:forget|ignore|scratch|take\s+back|disregard)\s+(?:what\s+i\s+(?:said|told\s+you)|my\s+\w+)"
                          r"\s+(?:about|on|regarding)\s+(?P<x>[\w\s'-]{1,30}?)(?=\s*(?:$|[,;]|\s+(?:then|now|please)\b))", c)
        if m and _spans_free(base + m.start(), base + m.end(), taken):
            phrase = clean_phrase(m.group("x"))
            if phrase and content_words(phrase) and not re.search(r"(?i)\b(?:not|no|never)\b", phrase):
                # the wish stays a request: only its verb leaves the search text
                out.append(Phrase(phrase, base + m.start(), base + m.start("x"), cue="giving in" if giving_in else ""))
    return out
