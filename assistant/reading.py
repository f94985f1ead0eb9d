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
class Range:
    """A numeric condition. ``field`` is "year", "number" (the catalog's price-like field)
    or "relative" (compared with a referenced item: ``ref`` is its position or None for
    the items just shown, ``field_hint`` "price" or "year")."""

    field: str
    op: str  # "<", "<=", ">", ">=", "="
    value: float | None
    label: str
    start: int
    end: int
    ref: int | None = None
    field_hint: str = ""
    # "not from the 80s": the items outside the range
    negated: bool = False


@dataclass
class Reference:
    """A reference to an item just shown: ``position`` 0-based (-1 = the last one) and what
    the user feels about it: "liked", "rejected", "seed" (more like it) or "neutral"."""

    position: int
    feeling: str
    start: int
    end: int


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
    retract: list[Phrase] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    shift_cue: bool = False
    refine_cue: bool = False
    # asks for items not shown yet: "another one", "more", "something else"
    more_cue: bool = False
    # a request of its own ("any drink?", "do you have X"): a new topic unless it refines
    request: bool = False
    # "the same director", "its lead actor": (what the field is called, reference position
    # or None for the item last talked about)
    same: list[tuple[str, int | None]] = field(default_factory=list)
    # the message without the constructions above: what the user is asking for
    topic_text: str = ""

    @property
    def content(self) -> bool:
        """Whether the message asks for something beyond its conditions."""
        return bool(content_words(self.topic_text))


# ---- vocabulary ---------------------------------------------------------------------------

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
             "4th": 3, "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6,
             "eighth": 7, "8th": 7, "ninth": 8, "9th": 8, "tenth": 9, "10th": 9, "last": -1,
             "final": -1, "top": 0, "latter": -1, "former": 0}
_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
                 "seventies": 70, "eighties": 80, "nineties": 90}

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
""".split())
GENERIC_HEADS = ("ones", "one", "stuff", "things", "thing", "products", "product", "items", "item",
                 "movies", "movie", "films", "film", "flavours", "flavour", "flavors", "flavor",
                 "kinds", "kind", "types", "type", "sorts", "sort", "options", "option", "dishes",
                 "brands", "brand", "genre", "genres")
_LEADING = ("the", "a", "an", "any", "more", "those", "these", "that", "this", "some", "such",
            "other", "of", "kind of", "type of", "sort of", "too much", "so much", "much", "many",
            "with", "from", "like", "really", "all", "anything with", "anything from", "food with",
            "stuff with", "movies with", "films with", "based on", "about", "involving", "set in",
            "starring", "featuring", "directed by", "made by", "written by", "by", "anything by")
_TRAILING = ("please", "pls", "plz", "thanks", "thank you", "btw", "by the way", "lol", "tho", "anymore",
             "in those", "in these", "in them", "in there", "in that",
             "any more", "at all", "for me", "again",
             "now", "today", "then", "either", "though", "tonight", "this time", "this evening",
             "after all", "in it", "in them", "included", "whatsoever", "ok", "okay")

_WORD = r"[\w'’&.+-]*\w"
_BOUNDARY = re.compile(
    r"[.,;:!?()\n]|\s(?:but|and\s+(?:i|we|it|maybe|also|please|something|anything|show|give)|so|because|"
    r"since|though|although|which|that\s+(?:is|are|has|have)|if|unless|please|for|to|instead|rather|"
    r"while|when|where|in\s+(?:a|an|the|my)|as|like|just|except|without|not|no|or\s+(?:something|anything|maybe))\b",
    re.I)

# cues that rule out what follows
_EXCLUDE_CUE = re.compile(r"""(?ix)\b(?:
    anything\s+(?:but|except|other\s+than)
  | nothing\s+(?:from|with|by|like|of|starring|featuring|made\s+by|directed\s+by)
  | none\s+of | no\s+more | no\s+longer | not\s+any(?:more)?
  | apart\s+from | other\s+than | except(?:\s+for)? | excluding | exclude | besides
  | (?:an?\s+)?(?:alternative|substitute|replacement)\s+(?:to|for)
  | nothing\s+(?:about|involving|set\s+in|on) | not\s+about | no\s+(?:stories|films|movies)\s+about
  | (?:is|are|was|were)\s*n[o']?['’]?t\s+(?:from|made\s+from|made\s+with|with|about|containing)
  | (?:does|do)\s*n['’]?o?t\s+(?:contain|have|include)
  | (?:i\s+am|i['’]m|we\s+are|we['’]re|am|is|are)\s+(?:very\s+|severely\s+|also\s+)?allergic\s+to | allergic\s+to
  | without | w/o | minus | hold\s+the | skip(?:\s+the)? | avoid(?:ing)?
  | rather\s+than | instead\s+of | never\s+(?:again\s+)?(?:liked?|enjoyed|want(?:ed)?)
  | (?:i|we)\s+(?:really\s+|just\s+|also\s+|still\s+)?(?:do\s*n[o']?t|don['’]?t|didn['’]?t|did\s+not|won['’]?t|will\s+not)
        \s+(?:really\s+)?(?:like|want|eat|drink|care\s+for|enjoy|fancy|need|love|watch|do|dig)
  | (?:i|we)\s+(?:really\s+|just\s+|also\s+)?(?:hate|hated|dislike|disliked|detest|loathe|can['’]?t\s+stand|cannot\s+stand
        |can['’]?t\s+eat|cannot\s+eat|can['’]?t\s+have|cannot\s+have|can['’]?t\s+drink|cannot\s+drink
        |can['’]?t\s+handle|cannot\s+handle)
  | (?:i\s+am|i['’]m|we\s+are|we['’]re|i\s+get|i\s+got)\s+(?:so\s+|really\s+|a\s+bit\s+|totally\s+)?(?:tired|sick|bored)\s+of
  | (?:i\s+am|i['’]m|we\s+are|we['’]re)\s+(?:so\s+|really\s+|totally\s+|kind\s+of\s+)?(?:not\s+(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of|not\s+into|done\s+with|over)
  | (?:my\s+\w+|he|she|they|the\s+kids|kids|everyone|nobody\s+here)\s+(?:really\s+)?(?:won['’]?t|will\s+not|doesn['’]?t|does\s+not|don['’]?t|do\s+not|can['’]?t|cannot)\s+(?:eat|drink|stand|like|want|have|tolerate|handle)
  | (?:my\s+\w+|he|she|they)\s+(?:really\s+)?(?:hates?|dislikes?|is\s+allergic\s+to|are\s+allergic\s+to)
  | (?:way\s+|far\s+)?too\s+much
  | (?:i|we)\s+(?:have|['’]ve)\s+had\s+enough\s+of | had\s+enough\s+of
  | not\s+(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of | not\s+into | not\s+(?:really\s+)?in\s+the\s+mood\s+for(?:\s+anything)?
  | (?:^|(?<=[.!?,;:]\s)|(?<=^\s))(?:really\s+)?(?:can['’]?t\s+stand|cannot\s+stand|hate|dislike|detest|loathe
        |do\s*n['’]?t\s+(?:like|want|fancy|enjoy|care\s+for))
  | nothing(?!\s+(?:beats|compares|else|but|more|special|at\s+all|too|much|wrong|fancy|in\s+particular|like\s+(?:a|an|the)\b)\b)
  | keep\s+away\s+from | stay\s+away\s+from | spare\s+me(?:\s+the)?
  | but\s+not | and\s+not | not | no
)\s+""")
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
IDIOMS = (r"without\s+(?:a\s+)?doubt|no\s+doubt|no\s+wonder|not\s+only|not\s+to\s+mention|nothing\s+beats|"
          r"never\s+(?:had|tried|tasted|eaten|seen|watched|heard\s+of|read|been\s+to)|not\s+gonna\s+lie|"
          r"do\s*n['’]?t\s+(?:judge|get\s+me\s+wrong|worry)|doesn['’]?t\s+mind|do\s*n['’]?t\s+mind|wouldn['’]?t\s+mind|"
          r"can['’]?t\s+go\s+wrong|can['’]?t\s+wait|no\s+matter|none\s+other\s+than|never\s+mind|no\s+problem|"
          r"no\s+worries|not\s+bad|no\s+idea|not\s+sure|no\s+thanks")
_IDIOMS = re.compile(rf"(?i)\b(?:{IDIOMS})\b")
# "not sweet enough", "not too": degree words: the phrase is a soft preference, cut from the text
_DEGREE_NOT = re.compile(r"(?i)\bnot\s+(?:too|very|so|overly|that|super|extremely|particularly)\s+" + _WORD)

_DIET_PATTERNS = [
    ("vegan", r"\bvegans?\b|\bplant[- ]based\b|\bno\s+animal\s+products\b"),
    ("vegetarian", r"\bvegetarians?\b|\b(?:i|we)\s+(?:do\s*n[o']?t|don['’]?t|never)\s+eat\s+meat\b|\bno\s+meat\b|\bmeat[- ]free\b"),
    ("dairy-free", r"\bdairy[- ]free\b|\bno\s+dairy\b|\bwithout\s+dairy\b|\b(?:milk|dairy)\s+allerg(?:y|ies|ic)\b"
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
)\b""")
_FIELD_WORD = (r"director|directors|brand|maker|manufacturer|company|actors?|actress|stars?|cast|lead(?:\s+actors?|\s+actress|\s+role)?"
               r"|writer|author|genre|country|origin|studio|producer|year|decade")
_SAME = re.compile(rf"""(?ix)\b(?:
    (?:the\s+)?same\s+(?P<f>{_FIELD_WORD})
  | (?:by\s+)?(?:whoever|the\s+(?:guy|person|one|woman|man)\s+(?:who|that))\s+(?P<f4>directed|wrote|made|produced)\s+(?:it|that|this|them)
  | the\s+(?P<f5>{_FIELD_WORD})\s+(?:of|from|in)\s+(?:it|that|this)(?:\s+one|\s+movie|\s+film|\s+item)?
  | (?:that|this)\s+(?P<f6>brand|director|maker|manufacturer|company|studio|writer|author)(?!\s+(?:is|was)\b)
  | (?:came\s+out|released|made)\s+(?:in\s+)?(?:that|the)\s+same\s+(?P<f7>year)
  | (?:its|his|her|their|that\s+(?:movie|film|one|item)['’]s)\s+(?P<f2>{_FIELD_WORD})
  | (?:by|from|with)\s+(?:that|this)\s+(?P<f3>{_FIELD_WORD})
)\b""")
_MORE_CUE = re.compile(r"(?i)\b(?:another|more|others?|else|next|one\s+more|different\s+ones?|new\s+ones?|similar)\b")
# a request of its own: "any drink?", "do you have X", "I need X", "show me X"
_REQUEST = re.compile(r"""(?ix)(?:^|[.,;:!?]\s*|\b(?:and|but|so)\s+)(?:
    any | do\s+you\s+have | have\s+you\s+got | got\s+any | is\s+there | are\s+there
  | (?:i|we)\s+(?:really\s+)?(?:want|need|['’]d\s+like|would\s+like|['’]d\s+love|would\s+love|am\s+looking\s+for|['’]m\s+looking\s+for
        |look\s+for|fancy|feel\s+like|['’]m\s+in\s+the\s+mood\s+for|am\s+in\s+the\s+mood\s+for|['’]m\s+after|am\s+after|crave)
  | show\s+me | give\s+me | find\s+me | get\s+me | recommend | suggest
  | can\s+you\s+(?:recommend|suggest|find|show) | looking\s+for | in\s+the\s+mood\s+for
  | what\s+(?:\w+\s+)?(?:goes|go|is\s+good|are\s+good|would\s+you) | which\s+\w+
  | (?:something|anything)(?=\s+(?:to|for)\s)
)\b""")
# "something sweeter", "another one", "more like that": the same request, refined;
# "something to drink", "anything for breakfast" ask for a thing of their own
_REFINE_OBJECT = re.compile(r"(?i)^\s*(?:a\s+|an\s+|some\s+)?(?:something|anything|one|ones|another|more|similar|else|other|others)\b"
                            r"(?!\s+(?:to|for|with|from|in|that|which)\b)")

_POSITIVE_REF = re.compile(r"(?i)\b(?:like|love|liked|loved|want|take|prefer|choose|pick|go\s+with|sounds?\s+(?:good|great|nice|perfect)|"
                           r"looks?\s+(?:good|great|nice|perfect|tasty|interesting)|is\s+(?:good|great|perfect|nice)|perfect|great|nice|yes|yum)\b")
_NEGATIVE_REF = re.compile(r"(?i)\b(?:not|no|don['’]?t|didn['’]?t|hate|hated|dislike|disliked|can['’]?t\s+stand|nope|"
                           r"(?:looks?|sounds?|is)\s+(?:bad|boring|awful|terrible|meh|gross)|bad|boring|awful|yuck)\b")
_SEED_REF = re.compile(r"(?i)\b(?:more\s+like|similar\s+to|something\s+like|anything\s+like|others?\s+like|stuff\s+like|ones?\s+like|in\s+the\s+style\s+of|along\s+the\s+lines\s+of)\s*$")

_RETRACT_AFTER = re.compile(r"(?ix)^\s*(?:is|are|['’]s|['’]re|would\s+be|will\s+be)\s+(?:fine|ok|okay|good|alright|all\s+right|allowed|back|welcome|acceptable)\b"
                            r"|^\s*(?:after\s+all|are\s+back\s+on|is\s+back\s+on|again\s+please)\b")
_RETRACT_BEFORE = re.compile(r"""(?ix)(?:
    (?:i|we)\s+(?:do\s+|actually\s+|really\s+)?(?:['’]d\s+|would\s+)?(?:like|love|want|eat|fancy|take)\s*
  | bring\s+back | you\s+can\s+(?:show|include|suggest)(?:\s+me)? | include | allow | show\s+me
  | changed\s+my\s+mind\s+(?:about|on) | okay\s+with | ok\s+with | fine\s+with
)\s+(?:a\s+|an\s+|some\s+|the\s+)?$""")
_RETRACT_MARK = re.compile(r"(?i)\b(?:after\s+all|now|again|changed\s+my\s+mind|fine|okay|ok|alright|back)\b")


def content_words(text: str) -> list[str]:
    """The words of ``text`` that ask for something (not fillers, cues or generic heads)."""
    return [w for w in re.findall(r"[\w'’-]+", text.lower()) if w not in FILLER and w not in GENERIC_HEADS
            and not w.isdigit() and len(w) > 1]


def clean_phrase(text: str) -> str:
    """A phrase without leading determiners and trailing fillers or generic heads:
    "any more of those green ones please" -> "green"."""
    words = text.strip(" \t'\"‘’“”-").split()
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
        for trail in _TRAILING + GENERIC_HEADS:
            if low.endswith(" " + trail) or (low == trail and trail in _TRAILING):
                words = words[: len(words) - len(trail.split())]
                changed = True
                break
    return " ".join(words).strip(" \t'\"‘’“”-")


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
        for part in re.split(r"\s+(?:or|and|nor|&)\s+(?:no\s+|not\s+)?", piece):
            k = piece.find(part)
            phrase = clean_phrase(part)
            if phrase and len(phrase.split()) <= max_words:
                out.append(Phrase(phrase, offset + max(k, 0), offset + max(k, 0) + len(part)))
    return out, end


# ---- references ------------------------------------------------------------------------------

_REFERENCE = re.compile(r"""(?ix)\b(?:
    (?:the\s+)?(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|5th|6th|7th|8th|9th|10th)
        (?:\s+(?:one|item|option|suggestion|movie|film|product|pick|choice|recommendation))?
  | the\s+(?P<ord2>last|final|top|latter|former)(?:\s+(?:one|item|option|suggestion|movie|film|product|pick|choice|recommendation))?
  | (?:number|no\.|\#)\s*(?P<num>\d{1,2})
  | (?P<that>(?:that|this)\s+(?:one|last\s+one|movie|film|item|product))
)\b""")


def _references(text: str) -> list[Reference]:
    out = []
    for m in _REFERENCE.finditer(text):
        if m.group("ord"):
            word = m.group("ord").lower()
            # "first" needs "the" or "one": "at first", "first time" are not references
            if not re.match(r"(?i)the\s", m.group(0)) and not re.search(r"\s\w+$", m.group(0)):
                continue
            pos = _ORDINALS[word]
        elif m.group("ord2"):
            pos = _ORDINALS[m.group("ord2").lower()]
        elif m.group("num"):
            pos = int(m.group("num")) - 1
            if pos < 0:
                continue
        else:
            pos = 0
        before = text[max(0, m.start() - 40): m.start()]
        clause_start = max(before.rfind(c) for c in ".!?;,") + 1
        before = before[clause_start:]
        after = text[m.end(): m.end() + 30]
        after = re.split(r"[.!?;,]|\bbut\b", after)[0]
        if _SEED_REF.search(before):
            feeling = "seed"
        elif _NEGATIVE_REF.search(before) or _NEGATIVE_REF.search(after):
            feeling = "rejected"
        elif _POSITIVE_REF.search(before) or _POSITIVE_REF.search(after):
            feeling = "liked"
        else:
            feeling = "neutral"
        out.append(Reference(pos, feeling, m.start(), m.end()))
    return out


# ---- numeric ranges --------------------------------------------------------------------------

_YEAR = r"(?:1[89]\d\d|20\d\d|['’‘]\d\d(?![\d'’]?s\b)(?!\d))"


def _to_year(text: str) -> int:
    """ "1995" -> 1995, "'95" -> 1995, "'05" -> 2005."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 2:
        n = int(digits)
        return 2000 + n if n <= 30 else 1900 + n
    return int(digits)
_NUM = r"(?:[$€£]\s*)?\d+(?:[.,]\d+)?(?:\s*(?:[$€£]|euros?|dollars?|bucks|kr|sek|usd|eur|gbp|pounds?))?"
_RANGE_PATTERNS = [
    # decades: "the 90s", "1990s", "'80s", "the nineties"
    ("decade", re.compile(r"(?i)\b(?:from|in|of|during)?\s*(?:the\s+)?(?P<part>early|mid|late)?[\s-]*(?:(?P<century>19|20)(?P<d1>\d)0['’]?s|['’]?(?P<d2>\d)0['’]?s|(?P<word>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties))\b")),
    ("recent", re.compile(r"(?i)\b(?:(?:something|anything|one|ones|movies?|films?|stuff)\s+)?(?:recent(?:ly)?|latest|newest|brand[\s-]new"
                          r"|from\s+the\s+(?:last|past)\s+(?:few|couple\s+of|\d+)\s+years|in\s+(?:the\s+)?(?:last|past|recent)\s+(?:few\s+)?years)\b")),
    ("between", re.compile(rf"(?i)\b(?:between|from)\s+(?P<a>{_YEAR})\s+(?:and|to|till|until|-)\s+(?P<b>{_YEAR})\b|\b(?P<a2>{_YEAR})\s*[-–]\s*(?P<b2>{_YEAR})\b")),
    ("after", re.compile(rf"(?i)\b(?:(?P<strict>after|newer\s+than|later\s+than|post)|(?P<incl>since|starting(?:\s+from|\s+in)?|not\s+before|no\s+earlier\s+than|from(?=\s+\S+\s+(?:on\b|onwards?\b|or\s+later|and\s+later|and\s+up|to\s+(?:now|today)))))[\s-]+(?P<y>{_YEAR})(?!\s*(?:and|to|-)\s*{_YEAR})(?P<onwards>\s+(?:on(?:wards?)?|or\s+(?:later|newer|after)|and\s+(?:later|newer|up)|to\s+(?:now|today)))?\b")),
    ("after2", re.compile(rf"(?i)\b(?P<y>{_YEAR})\s+(?:or|and)\s+(?:later|newer|after|up)\b|\b(?P<y2>{_YEAR})\s+onwards?\b")),
    ("before", re.compile(rf"(?i)\b(?:(?P<strict>before|older\s+than|earlier\s+than|pre)|(?P<incl>until|till|up\s+to|not\s+after|no\s+later\s+than))[\s-]+(?P<y>{_YEAR})\b")),
    ("before2", re.compile(rf"(?i)\b(?P<y>{_YEAR})\s+(?:or|and)\s+(?:earlier|older|before)\b")),
    ("year", re.compile(rf"(?i)\b(?:from|in|released\s+in|made\s+in|of)\s+(?P<y>{_YEAR})\b")),
    ("under", re.compile(rf"(?i)\b(?:(?P<strict>under|below|less\s+than|cheaper\s+than|lower\s+than|beneath)|(?P<incl>at\s+most|max(?:imum)?|up\s+to|no\s+more\s+than|not\s+more\s+than|within|tops))\s+(?P<n>{_NUM})")),
    ("over", re.compile(rf"(?i)\b(?:(?P<strict>over|above|more\s+than|higher\s+than|pricier\s+than)|(?P<incl>at\s+least|min(?:imum)?|no\s+less\s+than|not\s+less\s+than))\s+(?P<n>{_NUM})")),
    ("or_less", re.compile(rf"(?i)\b(?P<n>{_NUM})\s+or\s+(?:less|under|cheaper|below)\b")),
    ("or_more", re.compile(rf"(?i)\b(?P<n>{_NUM})\s+or\s+(?:more|over|above)\b")),
    ("relative", re.compile(r"(?i)\b(?P<word>cheaper|less\s+expensive|more\s+affordable|more\s+expensive|pricier|newer|more\s+recent|older|earlier)"
                            r"(?:\s+(?:ones?|options?|movies?|films?|items?|products?))?(?:\s+than\s+(?P<than>[\w\s]{1,30}?))?(?=[.,;:!?]|$|\s+(?:please|but|and|with|from)\b)")),
]


def _number(text: str) -> float:
    digits = re.search(r"\d+(?:[.,]\d+)?", text).group(0).replace(",", ".")
    value = float(digits)
    return int(value) if value.is_integer() else value


def _ranges(text: str, taken: list[tuple[int, int]]) -> list[Range]:
    out: list[Range] = []

    def free(s, e):
        return all(e <= a or s >= b for a, b in taken)

    for kind, rx in _RANGE_PATTERNS:
        for m in rx.finditer(text):
            s, e = m.start(), m.end()
            if not free(s, e):
                continue
            g = m.groupdict()
            new: list[Range] = []
            if kind == "decade":
                if g["word"]:
                    lo = 1900 + _DECADE_WORDS[g["word"].lower()]
                elif g["century"]:
                    lo = int(g["century"]) * 100 + int(g["d1"]) * 10
                else:
                    d = int(g["d2"])
                    # "the 90s" -> 1990s, "the 00s" / "10s" / "20s" -> this century
                    lo = 2000 + d * 10 if d <= 2 else 1900 + d * 10
                hi = lo + 9
                part = (g.get("part") or "").lower()
                if part == "early":
                    hi = lo + 4
                elif part == "mid":
                    lo, hi = lo + 3, lo + 7
                elif part == "late":
                    lo = lo + 5
                label = f"{part + ' ' if part else ''}{lo if not part else g['d2'] or g['d1'] or ''}0s".strip()
                new = [Range("year", ">=", lo, label, s, e), Range("year", "<=", hi, label, s, e)]
            elif kind == "recent":
                # the catalog's latest years: the tracker reads "recent" against them
                new = [Range("recent", ">=", None, "recent", s, e)]
            elif kind == "between":
                a, b = _to_year(g["a"] or g["a2"]), _to_year(g["b"] or g["b2"])
                a, b = min(a, b), max(a, b)
                new = [Range("year", ">=", a, f"{a}–{b}", s, e), Range("year", "<=", b, f"{a}–{b}", s, e)]
            elif kind in ("after", "after2"):
                y = _to_year(g.get("y") or g.get("y2"))
                op = ">" if g.get("strict") and not g.get("onwards") else ">="
                new = [Range("year", op, y, f"year {op} {y}", s, e)]
            elif kind in ("before", "before2"):
                y = _to_year(g["y"])
                op = "<" if g.get("strict") else "<="
                new = [Range("year", op, y, f"year {op} {y}", s, e)]
            elif kind == "year":
                y = _to_year(g["y"])
                new = [Range("year", "=", y, f"year {y}", s, e)]
            elif kind in ("under", "over", "or_less", "or_more"):
                n = _number(g["n"])
                if re.fullmatch(_YEAR, str(n)) and kind in ("under", "over"):
                    # "under 1990" reads as a year only through before/after; leave it alone
                    continue
                if kind in ("under", "or_less"):
                    op = "<" if g.get("strict") else "<="
                else:
                    op = ">" if g.get("strict") else ">="
                new = [Range("number", op, n, f"{op} {n}", s, e)]
            elif kind == "relative":
                word = g["word"].lower()
                hint = "price" if word in ("cheaper", "less expensive", "more affordable", "more expensive", "pricier") else "year"
                op = "<" if word in ("cheaper", "less expensive", "more affordable", "older", "earlier") else ">"
                ref = None
                than = (g.get("than") or "").strip()
                if than:
                    refs = _references(than)
                    ref = refs[0].position if refs else (0 if re.match(r"(?i)(?:that|this|it)\b", than) else None)
                    if ref is None:
                        continue  # "cheaper than 20" is a number, read above
                new = [Range("relative", op, None, word, s, e, ref=ref, field_hint=hint)]
            if re.search(r"(?i)\b(?:not|no|nothing|except|excluding|anything\s+but)\s+(?:from\s+|in\s+|of\s+)?$", text[max(0, s - 25):s]) \
                    or re.match(r"(?i)(?:not|no)\s", m.group(0)):
                for rg in new:
                    rg.negated = True
                cue = re.search(r"(?i)\b(?:not|no|nothing|except|excluding|anything\s+but)\s+(?:from\s+|in\s+|of\s+)?$", text[max(0, s - 25):s])
                if cue:
                    s = max(0, s - 25) + cue.start()
                    for rg in new:
                        rg.start = s
            out.extend(new)
            taken.append((s, e))
    return out


# ---- the reader ----------------------------------------------------------------------------


def _spans_free(s: int, e: int, taken: list[tuple[int, int]]) -> bool:
    return all(e <= a or s >= b for a, b in taken)


def read(text: str, diets: list[tuple[str, str]] | None = None) -> Reading:
    """What ``text`` says. ``diets`` adds ``(name, regex)`` triggers to the built-in ones
    (the settings' own diets)."""
    r = Reading(text=text)
    taken: list[tuple[int, int]] = []

    # diets first: "no dairy" is a diet, not an exclusion of the word "dairy"
    for name, pattern in list(_DIET_PATTERNS) + list(diets or []):
        for m in re.finditer(pattern, text, re.I):
            if name not in r.diets:
                r.diets.append(name)
            taken.append((m.start(), m.end()))

    # references to shown items: "not the first one" is a rejection of that item
    for ref in _references(text):
        if _spans_free(ref.start, ref.end, taken):
            r.references.append(ref)
    ref_spans = [(x.start, x.end) for x in r.references]

    r.ranges = _ranges(text, taken)

    # "more from the same director", "others with its lead actor"
    for m in _SAME.finditer(text):
        if _spans_free(m.start(), m.end(), taken):
            inside = [x for x in r.references if m.start() <= x.start < m.end() + 30]
            word = m.group("f") or m.group("f2") or m.group("f3") or m.group("f5") or m.group("f6") or m.group("f7") or {
                "directed": "director", "wrote": "writer", "made": "maker", "produced": "producer"}.get(
                (m.group("f4") or "").lower(), "")
            r.same.append((" ".join(word.lower().split()), inside[0].position if inside else None))
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
        phrases = [p for p in phrases if _spans_free(p.start, p.end, taken) and not _is_reference_text(p.text)]
        if not phrases:
            continue
        r.exclude.extend(phrases)
        if cue in ("without", "w/o", "hold the", "minus"):
            r.lacking.extend(p.text for p in phrases)
        if re.fullmatch(r"(?:instead\s+of|rather\s+than|other\s+than|(?:an?\s+)?(?:alternative|substitute|replacement)\s+(?:to|for))", cue):
            # "something instead of yoghurt": things like yoghurt, but not yoghurt
            r.instead_of.extend(p.text for p in phrases)
        taken.append((m.start(), end))

    # "X-free": items saying so are preferred (not a diet, nothing excluded)
    for m in re.finditer(r"(?i)\b([a-z][\w]*(?:\s[a-z]\w*)?)[- ]free\b", text):
        word = m.group(1).split()[-1].lower()
        if word in ("sugar", "lactose", "gluten", "fat", "dairy", "nut", "alcohol", "caffeine", "salt", "meat",
                    "egg", "soy", "wheat", "pulp", "seed", "stone", "pit", "bpa", "cruelty", "additive", "preservative",
                    "fragrance", "sodium", "grain", "peanut") and _spans_free(m.start(), m.end(), taken):
            r.lacking.append(word)

    # wanted attributes: "from Sweden", "with Tom Hanks", "by Nolan"
    for m in re.finditer(r"(?i)\b(?:from|made\s+in|made\s+by|by|with|starring|featuring|directed\s+by|written\s+by|produced\s+by|grown\s+in)\s+", text):
        if not _spans_free(m.start(), m.end(), taken):
            continue
        phrases, end = _object_after(text, m.end(), max_words=4, taken=taken)
        for p in phrases:
            if _spans_free(p.start, p.end, taken) and not _is_reference_text(p.text):
                p.start = m.start()
                p.cue = " ".join(m.group(0).lower().split())
                r.want.append(p)

    r.shift_cue = bool(_SHIFT_CUE.search(text))
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


def _is_reference_text(phrase: str) -> bool:
    return bool(_REFERENCE.fullmatch(phrase.strip()) or re.fullmatch(r"(?i)(?:that|this|it|them|those|these)(?:\s+ones?)?", phrase.strip()))


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
        m = re.search(r"(?i)\b(?:is|are|['’]s|['’]re|would\s+be|will\s+be)\s+(?:fine|ok|okay|good|alright|all\s+right|allowed|back|welcome|acceptable)\b", c)
        if m and not re.search(r"(?i)\b(?:not|no|never|isn['’]?t|aren['’]?t)\b", c[m.start(): m.end() + 1]):
            subject = re.split(r"(?i)\b(?:actually|well|ok|okay|oh|hmm|but|and|so|then)\b|,", c[: m.start()])[-1]
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
        if not m:
            m = re.search(r"(?ix)\b(?:forget|ignore|scratch|drop|disregard)\s+(?:about\s+)?(?:the|that|my)\s+(?P<x>[\w\s'-]{1,30}?)\s+"
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
            if phrase and not re.search(r"(?i)\b(?:not|no|never)\b", phrase):
                # the wish stays a request: only its verb leaves the search text
                out.append(Phrase(phrase, base + m.start(), base + m.start("x")))
    return out
