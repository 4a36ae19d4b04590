"""UK recognisers for the disclosure check, as presidio recognisers.

Structured identifiers are presidio ``PatternRecognizer``s with context words (postcodes,
phone numbers, NHS numbers, email addresses, case references); those whose reportable span is
only part of what the pattern needs to see (a date of birth needs "born" before it, a
labelled case reference needs its label) are ``EntityRecognizer``s that report a regular
expression's ``hit`` group. Person names combine spaCy's PERSON entities, filtered, with a
list of first names and courtesy titles, because the small English model both misses names
("Ellie-Rose", lower-case "jane") and tags other things as people ("Leeds LS6 2AB",
"St Mary's", "Law" in "Clare's Law").

Recognisers know nothing of the allow-list: the engine applies it afterwards, with the caller's
phrases, to every recogniser's results. An AGE_AND_PLACE result says in its metadata which
part of it is the place, so that an allowed place (a force area, a local authority) does not
make "a 15-year-old girl in Cumbria" a hit.

Repetitions in these patterns are bounded or separated by a literal, so a long text cannot make
them backtrack catastrophically; presidio also runs its own patterns with a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)

from .allowlist import TITLE_WORDS

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.tokens import Doc, Span, Token

PLACE_KEY = "place_span"  # recognition_metadata key of an AGE_AND_PLACE result's place

# ---------------------------------------------------------------------------------------------
# Shared vocabulary

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string, a word list being easier to read that way."""
    return frozenset(text.split())


_MONTH_WORDS = frozenset(MONTHS.lower().split("|"))
_DAY_WORDS = _words("monday tuesday wednesday thursday friday saturday sunday christmas easter")

STREET_TYPES = (
    "Road|Rd|Street|Avenue|Ave|Lane|Close|Drive|Crescent|Way|Court|Gardens|Terrace|Place|"
    "Grove|Walk|Mews|Row|Square|Hill|Park|View|Rise|Green|Parade|Gate|Vale|Wharf|Yard|Fold|"
    "Croft|Meadows?|Brow|Bank|Chase|Heights|Boulevard|Promenade|Quay|Crest|Dene|Garth|Nook|"
    "Wynd|Lea|Ley|Field|Fields|Hey|Side|End|Approach|Circus|Precinct|Estate|Cottages"
)
# Street words that are not also surnames (Lane, Hill, Green and Field are).
_STREET_WORDS = _words(
    "road rd street st avenue ave close drive crescent terrace gardens mews way place court "
    "square parade precinct estate"
)

# Common first names in England and Wales, of many origins, lower case. A capitalised word
# from this list is a name; a lower-case one is a name unless it is also an ordinary word.
FIRST_NAMES: frozenset[str] = _words("""
    aaliyah aaron abbie abbey abby abdi abdirahman abdul abdullah abdullahi abel abigail abu
    ada adam adaeze adebayo adeel adele adil aditi aditya adrian adriana agnieszka ahmad ahmed
    aidan aiden aimee aisha aishah ajay akash alan alana albie alec aleksander aleksandra
    alesha alex alexa alexander alexandra alexandru alexis alfie ali alice alicia alisha alison
    aliyah alys amaan amal amanda amani amara amari amber amelia amelie amina amir amira
    amna amy ana anastasia andre andrea andrei andrew andy aneurin angela angharad anika anil
    anita anna annabel annabelle anne annie anthony antonio anya aoife arabella archie ariana
    arjun arlo arthur aryan asha ashley ashton aston aurora austin ava avery ayaan ayaan ayesha
    ayla ayman bartosz beatrice beatrix bella ben benjamin beth bethan bethany billy blessing
    bobby bogdan bonnie bradley brandon brendan brian brianna bronwen brooke bryony caden
    caelan caitlin callum calum calvin cameron cara carl carla carlos caroline carys casey
    cassie catherine cerys chantelle charlie charlotte chelsea chidi chinedu chioma chloe
    chris christian christina christopher ciara cian ciaran claire clara clare cody colin
    connie connor conor corey courtney craig cristian curtis daisy dale damian damien dan
    dana daniel daniela daniella danielle danny dante daria dariusz darnell darren david
    dawid dawood deborah declan deepak demi denis denise dennis derek desmond dev devika
    dexter dhruv diana diego dimitri dominic dominik donna douglas duncan dylan ebony eden
    edward efe eilidh elena eleanor eli elias elif elijah elin eliza elizabeth ella elle
    ellie ellis elliot elliott elsa elsie emanuel emeka emil emilia emily emma emmanuel emre
    enzo erin esme esther ethan eva evan evelyn evie ewa ezra faisal farah fatima fatuma
    felix filip finlay finley finn fiona fleur florence francesca francis freddie freya
    gabriel gabriela gabriella gareth gavin gemma georgia georgina gethin gianluca gracie
    gruffudd gurpreet gwen gwenllian hafsa haider haleema hamza hana hannah harjit harley
    harmony harpreet harriet harrison harry harvey hassan hayden hayley hazel heidi helen
    helena henry hollie holly hugo hussain hussein huw iain ian ibrahim idris ifeoma ifan
    igor ikechukwu ilyas imogen imran iman ines ioan ioana iona iqra isaac isabel isabella
    isabelle isaiah isha isla ismail iwan izzy jack jackson jacob jade jaden jakub jamal
    james jamie jan jane janet janice jasmine jason jaxon jayden jaydon jemima jenna jennifer
    jenny jeremy jerome jesse jessica jessie jimmy jo joanna joanne jodie joe joel joey john
    johnny jonathan jordan jordon joseph josh joshua josie jude julia julian julie justin
    justyna kacper kadeem kai kaitlyn kamil kamila karen karim karina karol kasia kate
    katherine kathryn katie kaur kayden kayla kayleigh keeley keira keisha keith kelly kelsey
    kenneth kerry kevin khadija kian kieran kiera kim kimberley kirsty krishna kristian
    krzysztof kyle kyra lacey lachlan laila lana lara laura lauren layla leah leila lena
    leo leon leonardo lewis lexi lexie liam libby lila lilly lily lily-mae lisa logan lola
    lorenzo louie louis louise luca lucas lucja lucy luis luka lukas luke maciej madison
    madeleine mahnoor maisie maja maks maksymilian malachi malik manpreet marcel marcus
    margaret maria mariam marie marta martha martin mary maryam mason matei mateo mateusz
    matilda matthew matteo max maxwell maya megan mehmet melissa mia michael michaela michal
    michelle miguel mihai mikolaj milan millie mila mirela mohamed mohammad mohammed molly
    morgan muhammad mustafa nadia naomi natalia natalie natasha nathan nathaniel neil nia
    niall nicholas nicola nicole nikita nikola noah noor nora nuala nyla nylah obinna ola
    olamide oliver olivia oliwia ollie oluwadamilare oluwaseun oluwatobi omar oscar osian
    owen paige patricia patrick paul paula pawel peter petra phoebe piotr poppy precious
    priya priyanka qasim rachel radu rahul rajesh ramona rania rashid rayan rebecca reece
    reggie rehan reuben rhian rhiannon rhodri rhys ricardo richard riley rio rishi robert
    robyn rohan ronan ronnie rory rosa rosie rowan ruby ruth ryan saanvi sacha sadia safa
    safiya sahil saira sally sam samantha samir samira samuel sana sandeep sanjay sara sarah
    sasha scarlett scott sean sebastian seren shabana shakira shanice shannon sharon shauna
    shayla shaun shelby shreya sian sienna simon simone sinead siobhan sofia sophia sophie
    stacey stanley stefan stella stephanie stephen steven stuart sukhjinder sumaya sunita
    sunny susan suzanne sydney sylvia szymon tahir tamara tanisha tanya tara taylor teagan
    teddy temitope tendai terry tevin thea theo theodore thomas tia tiago tiffany tilly
    tobi tobias toby tomasz tommy toni tony travis trinity tristan tyler tyrone tyson umar
    usman valentina vanessa vicky victor victoria vikram vinnie violet vivek wiktor wiktoria
    william willow wojciech xander xavier yahya yara yasmin yasmine yousef yusuf zac zach
    zachary zahra zain zainab zak zara zayn zeynep zoe zofia zuzanna
    ade adaobi akosua ama ayodele babatunde bisi chiamaka damilola femi folake funmi kayode
    kofi kojo kwabena kwame kwaku ngozi nneka olumide segun tunde uche yaw yetunde
    farhan hibo hodan ikram ilhan mohamud sagal warsame
    andreea dmytro florin ionela ionut iryna olena oleksandr tetiana vasile yulia
    aarav anaya ishaan vihaan gurdeep harleen jaspreet kuldeep mandeep navdeep parminder
    rajinder simran asif bilal hamid junaid kashif naveed rahim rukhsana shahid shazia
    tahmina tariq waqas zeeshan zubair nasreen rubina farhana shamima khalid huda
    carl craig danny gary glen glenn kirsty leanne shane stacey tracey wayne jayden-lee
    grace casey
    """)

# First names that are also ordinary words, months or places: names when capitalised and
# followed by a surname (or when spaCy tags them), never in lower case; alone, only those in
# the two sets after this one.
AMBIGUOUS_NAMES: frozenset[str] = _words("""
    amber angel april art autumn bill blessing bob bonnie brooke chase chelsea dale dawn
    destiny devon drew eden ellis faith florence frank grace guy harmony hazel holly hope
    ivy jack jade jan jordan joy june kai kent king lana lee max may milan morgan nick
    patience paris pat precious prince ray rich river rob robin rosa rose rowan ruby sally
    sky star summer sunny sydney terry trinity victoria violet will willow
    abbey billy bobby christian daisy ebony georgia jasmine lily mason poppy sienna
    taylor teddy victor casey
    """)
# ... of which these are names wherever they are capitalised, even alone ("Ruby said"),
NAMES_RARELY_CAPITALISED_WORDS: frozenset[str] = _words("""
    daisy ebony hazel holly ivy jasmine lily poppy rosa ruby sienna teddy violet willow
    """)
# ... and these alone only in the middle of a sentence ("officers spoke to Grace").
NAMES_ALONE_MID_SENTENCE: frozenset[str] = _words("""
    blessing destiny faith grace harmony hope jack jade joy kai max morgan patience precious
    robin rowan sally terry
    """)

HONORIFICS = "Mr|Mrs|Ms|Miss|Mx|Dr|Master"

# Capitalised words that end or make a name-looking span into something else.
NON_PERSON_WORDS: frozenset[str] = _words("""
    law laws act acts bill police constabulary council councils service services team teams
    unit units hub hubs board boards partnership partnerships commissioner commission
    report reports review reviews inquiry panel operation court courts inspectorate office
    agency trust hospital nhs centre center government department ministry programme
    strategy framework policy protocol guidance plan meeting conference forum group network
    society foundation charity ltd limited plc university college school academy nursery
    authority authorities county borough district city town region street road avenue lane
    care health safeguarding children's children child people public protection missing
    domestic abuse exploitation online sexual criminal national regional local
    multi-agency multi agency crime justice youth family probation prison custody station
    unit clinic surgery gp a&e hmicfrs ofsted estyn cqc nspcc childline mash
    marac mappa encompass niche athena storm mosaic prevent channel thrive dash pace cps
    ceop nca npcc apcc iopc section year years week weeks month months day days
    annex appendix figure table chapter part page paragraph recommendation recommendations
    case cases area cause finding findings summary introduction conclusion glossary contents
    foreword
    """)

_COMMON_CAPITALISED = _words("""
    the a an this that these those each every our their its his her my your some many all
    other one two three four five six seven eight nine ten both several most few no not in
    on at of for from to with by as and or but if when where while after before during since
    we they he she it you i there here then however although because also overall finally
    officers officer staff inspectors children child parents families force forces
    english welsh british scottish irish northern polish romanian lithuanian albanian
    vietnamese eritrean somali afghan syrian sudanese kurdish asian african caribbean
    european muslim hindu sikh jewish christian catholic black white gypsy roma traveller
    """)
# Common Welsh words: bilingual reports of the Welsh forces are not full of people.
WELSH_WORDS = _words("""
    a ac am ar at bod bydd cyngor cymru cymraeg da de dros drwy ei eu fe fel gan gwaith
    gweithio gyda heddlu hefyd hwn hyn i mae mewn nhw o pan plant plentyn pobl rhai sir
    swyddogion tîm tim trwy un wedi y yn yr ysgol ymchwiliad adroddiad arolygiad diogelu
    gofal iechyd teulu teuluoedd gogledd gorllewin dwyrain de canolbarth
    """)

_NAME_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")


def _bare(word: str) -> str:
    """A word lower-cased, without a possessive "'s"."""
    word = word.lower().replace("\u2019", "'")
    return word[:-2] if word.endswith("'s") else word


def could_be_name(piece: str) -> bool:
    """Whether what is left of a PERSON span (after allowed phrases are cut out of it) still
    holds a word that could be a name: not only titles, function words, nationalities,
    months, organisation words or common Welsh words."""
    words = [_bare(w) for w in _NAME_WORD.findall(piece)]
    return any(
        len(w) > 1
        and w not in _COMMON_CAPITALISED
        and w not in WELSH_WORDS
        and w not in NON_PERSON_WORDS
        and w not in TITLE_WORDS
        and w not in _MONTH_WORDS
        and w not in _DAY_WORDS
        for w in words
    )


def _starts_sentence(token: Token) -> bool:
    """Whether a token starts a sentence, a line, a bracket or a quotation (where ordinary
    words are capitalised too)."""
    if token.i == 0 or token.is_sent_start:
        return True
    previous = token.nbor(-1)
    return "\n" in previous.text or previous.text in _OPENERS or previous.is_left_punct


_OPENERS = frozenset({"(", "[", '"', "\u201c", "\u2018", "'", "-", "\u2013", "\u2022", "*", ":"})


# A capitalised word before one of these, or after "Operation", names a team, programme or
# operation: "the Jigsaw team", "Operation Willow", "the Lily project".
_THING_BEFORE = frozenset({"operation", "op", "project", "programme", "scheme"})
_THING_AFTER = _words("""
    team teams unit units programme project service services scheme hub model approach
    process protocol tool app system meeting meetings panel group board partnership centre
    initiative pilot training course notifications referrals review report inquiry act law
    """)
_WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \t]{1,3}$")
_WORD_AFTER = re.compile(r"[ \t]{1,3}([^\W\d_]+)")


def _names_a_thing(text: str, start: int, end: int, *_score: float) -> bool:
    """Whether the capitalised words at ``[start, end)`` name a team, programme or operation
    rather than a person, by the word before or after them."""
    before = _WORD_BEFORE.search(text, max(0, start - 30), start)
    if before and before.group(1).lower() in _THING_BEFORE:
        return True
    after = _WORD_AFTER.match(text, end)
    return bool(after and after.group(1).islower() and after.group(1) in _THING_AFTER)


def _text_starts_sentence(text: str, i: int, match: re.Match[str]) -> bool:
    """Whether the ``i``th word (``match``) of ``text`` starts a sentence, line or quotation."""
    before = text[: match.start()].rstrip(" \t")
    return i == 0 or not before or before[-1] in ".!?:;\n\"'(\u201c\u2018\u2022*-\u2013"


def _is_capitalised(word: str) -> bool:
    """Title case ("Jane", "O'Neill"), or a single capital letter; not all capitals."""
    return (word[:1].isupper() and not word.isupper()) or (len(word) == 1 and word.isupper())


# ---------------------------------------------------------------------------------------------
# Structured identifiers (presidio PatternRecognizers)

# The UK postcode grammar: outward code A9, A99, A9A, AA9, AA99 or AA9A with the letters each
# position allows, then the inward code 9AA (never C, I, K, M, O or V); GIR 0AA.
_OUTWARD = (
    r"(?:[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][ABCDEFGHJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY]))"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
POSTCODE_REGEX = (
    rf"(?<![A-Za-z0-9])(?:GIR[ \t\u00a0]?0AA|{_OUTWARD}[ \t\u00a0]{{0,2}}{_INWARD})(?![A-Za-z0-9])"
)
_POSTCODE_FULL = re.compile(rf"(?:GIR ?0AA|{_OUTWARD} ?{_INWARD})", re.IGNORECASE)
_OUTWARD_ALONE = re.compile(rf"(?<![A-Za-z0-9]){_OUTWARD}(?![A-Za-z0-9])")
_AFTER_STREET = re.compile(
    rf"\b(?:{STREET_TYPES})\b[ \t,]{{1,3}}(?:[A-Z][a-z]+(?:[ \-][A-Z][a-z]+)?[ \t,]{{1,3}})?$"
)


def postcode_is_valid(candidate: str) -> bool:
    """Whether ``candidate`` is a full UK postcode (any case, with or without the space)."""
    compact = re.sub(r"\s+", " ", candidate.strip())
    return bool(_POSTCODE_FULL.fullmatch(compact))


class PostcodeRecognizer(PatternRecognizer):
    """Full postcodes anywhere; an outward code alone ("LS6") only right after a street."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="POSTCODE",
            name="UkPostcodeRecognizer",
            patterns=[Pattern("UK postcode", POSTCODE_REGEX, 0.8)],
            context=["postcode", "address", "lives", "living", "home", "flat", "house"],
            global_regex_flags=re.IGNORECASE,
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags) or []
        for match in _OUTWARD_ALONE.finditer(text):
            if _AFTER_STREET.search(text, max(0, match.start() - 60), match.start()):
                _add(results, _result("POSTCODE", match.start(), match.end(), 0.6, self))
        return results


# Helplines and emergency numbers, as digits, that are never a person's number.
HELPLINE_DIGITS = frozenset(
    {
        "999",
        "101",
        "111",
        "112",
        "116123",  # Samaritans
        "116111",  # Childline (European number)
        "116000",  # Missing People
        "08001111",  # Childline
        "08088005000",  # NSPCC
        "0800555111",  # Crimestoppers
        "08082000247",  # National Domestic Abuse Helpline
        "03001231231",  # Ofsted
        "03001232040",  # Action Fraud
    }
)

_PHONE_REGEX = (
    r"(?<![\w+/.])(?:(?:\+[ \t]?|00[ \t]?)44[ \t]?(?:\(0\)[ \t]?)?\(?|\(?0)"
    r"\d(?:(?:\)[ \t]?|[ \t\u00a0\-]{1,2})?\d){8,10}(?![\w/])"
)


def phone_national_digits(candidate: str) -> str:
    """The number in national form ("07700900123"), from any of the forms written."""
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip().startswith(("+", "00")):
        digits = digits[4:] if digits.startswith("0044") else digits[2:]
        digits = digits[1:] if digits.startswith("0") else digits
        digits = "0" + digits
    return digits


def phone_is_personal(candidate: str) -> bool:
    """A UK geographic, non-geographic (03) or mobile number: 10 or 11 digits from 01, 02, 03
    or 07, and not a helpline. Freephone and premium numbers (08, 09) are organisations'."""
    digits = phone_national_digits(candidate)
    if digits in HELPLINE_DIGITS:
        return False
    return len(digits) in (10, 11) and digits[:2] in ("01", "02", "03", "07")


class PhoneRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE",
            name="UkPhoneRecognizer",
            patterns=[Pattern("UK phone number", _PHONE_REGEX, 0.7)],
            context=["phone", "telephone", "mobile", "number", "call", "called", "tel", "rang"],
            global_regex_flags=0,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return not phone_is_personal(pattern_text)


def nhs_number_is_valid(candidate: str) -> bool:
    """Whether ten digits (spaces and hyphens ignored) carry a valid Modulus 11 check digit."""
    digits = re.sub(r"[\s\-]", "", candidate)
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


_NHS_REGEX = r"(?<![\w/.\-])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?![\w/]|\.\d|-\d)"
_NHS_LABELLED = re.compile(
    r"\bNHS\b(?:[ \t]*(?:number|no\.?|num\.?|#))?[ \t]*(?:is|was|of)?[ \t]*[:\-]?[ \t]*"
    r"(?P<hit>\d{3}[ \-]?\d{3}[ \-]?\d{4})(?!\d)",
    re.IGNORECASE,
)


class NhsNumberRecognizer(PatternRecognizer):
    """Ten digits with a valid check digit anywhere; any ten digits labelled "NHS number"."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="NHS_NUMBER",
            name="NhsNumberRecognizer",
            patterns=[Pattern("NHS number", _NHS_REGEX, 0.5)],
            context=["nhs", "health", "hospital", "gp", "medical"],
            global_regex_flags=0,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return nhs_number_is_valid(pattern_text)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags) or []
        for match in _NHS_LABELLED.finditer(text):
            _add(results, _result("NHS_NUMBER", match.start("hit"), match.end("hit"), 0.9, self))
        return results


EMAIL_REGEX = (
    r"(?<![\w.%+'\-])[A-Za-z0-9](?:[A-Za-z0-9._%+'\-]{0,62}[A-Za-z0-9_])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w\-])"
)


class EmailRecognizer(PatternRecognizer):
    """Email addresses by pattern alone: presidio's own recogniser checks the domain with
    tldextract, which downloads the public suffix list, and nothing here may go online."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="EMAIL",
            name="OfflineEmailRecognizer",
            patterns=[Pattern("email address", EMAIL_REGEX, 0.9)],
            context=["email", "e-mail", "address", "contact"],
            global_regex_flags=0,
        )


_CASE_PATTERNS = [
    # CR/12345/24, CRN12/004512/23
    Pattern("letters/number/year", r"(?<![\w/])[A-Z]{1,5}\d{0,2}/\d{3,}/\d{2,4}(?![\w/])", 0.7),
    # 46/11223/23
    Pattern("number/number/year", r"(?<![\w/])\d{1,4}/\d{4,}/\d{2,4}(?![\w/])", 0.7),
    # OCC-2023-004512, MPS-23-0012345
    Pattern("prefix-year-number", r"(?<![\w\-])[A-Z]{2,6}-\d{2,4}-\d{3,}(?![\w\-])", 0.7),
    # 01CU123456, 12AB3456789 (custody records, URNs)
    Pattern("digits-letters-digits", r"(?<!\w)\d{1,4}[A-Z]{1,4}\d{5,}(?!\w)", 0.7),
    # MOS1234567, LCS-00451239
    Pattern("system prefix and number", r"(?<![\w\-])[A-Z]{2,5}-?\d{6,}(?![\w\-])", 0.6),
]

_CASE_LABEL = re.compile(
    r"\b(?P<kind>(?:crime|case|occurrence|incident|custody|referral|investigation|child|"
    r"person|family|mosaic|lcs|liquidlogic|niche|athena|storm|cad|social[ \t]care|police)"
    r"[ \t]+)?(?P<label>reference|ref|number|no|id|record|log|urn|occurrence|occ|crn)\b\.?"
    r"(?:[ \t]+(?:number|no\.?|ref\.?))?[ \t]*(?:(?:is|was|of)[ \t]+)?[:#,\-]?[ \t]*"
    r"(?P<hit>[A-Z0-9][A-Z0-9/\-]{2,30}[A-Z0-9])(?![\w/])",
    re.IGNORECASE,
)
# Labels that say "identifier" on their own; "number", "record" or "log" need a kind before.
_STRONG_LABELS = frozenset({"reference", "ref", "urn", "occurrence", "occ", "crn"})
_YEARISH = re.compile(r"(?:19|20)\d{2}(?:[/\-](?:19|20)?\d{2})?")
_DATEISH = re.compile(r"\d{1,2}[/\-.]\d{1,2}[/\-.]\d{2,4}")


def case_reference_is_plausible(candidate: str) -> bool:
    """A labelled identifier: at least four digits, five characters, not a year or a date."""
    digits = sum(c.isdigit() for c in candidate)
    if digits < 4 or len(candidate) < 5:
        return False
    return not (_YEARISH.fullmatch(candidate) or _DATEISH.fullmatch(candidate))


class CaseReferenceRecognizer(PatternRecognizer):
    """Police crime, occurrence and custody references and local authority case numbers:
    distinctive shapes anywhere, and anything ID-like after a label ("crime number",
    "case reference", "URN", "ref")."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="CASE_REFERENCE",
            name="CaseReferenceRecognizer",
            patterns=_CASE_PATTERNS,
            context=["crime", "reference", "ref", "occurrence", "custody", "urn", "case", "log"],
            global_regex_flags=0,
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags) or []
        for match in _CASE_LABEL.finditer(text):
            if not match.group("kind") and match.group("label").lower() not in _STRONG_LABELS:
                continue
            hit = match.group("hit").rstrip("/-")
            if case_reference_is_plausible(hit):
                start = match.start("hit")
                _add(results, _result("CASE_REFERENCE", start, start + len(hit), 0.8, self))
        return results


# ---------------------------------------------------------------------------------------------
# Entities that need a context group (EntityRecognizers)


def _add(results: list[RecognizerResult], new: RecognizerResult) -> None:
    """Add ``new`` unless a result already contains its span; drop those it contains."""
    for result in results:
        if result.start <= new.start and new.end <= result.end:
            result.score = max(result.score, new.score)
            return
    results[:] = [r for r in results if not (new.start <= r.start and r.end <= new.end)]
    results.append(new)


def _result(
    entity: str,
    start: int,
    end: int,
    score: float,
    recognizer: EntityRecognizer,
    metadata: dict[str, object] | None = None,
) -> RecognizerResult:
    name: str = recognizer.name  # type: ignore[has-type]  # untyped in presidio
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=AnalysisExplanation(
            recognizer=name, original_score=score, textual_explanation=entity
        ),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            **(metadata or {}),
        },
    )


class _RegexRecognizer(EntityRecognizer):
    """Reports the ``hit`` group of each of its expressions, when ``accept`` agrees."""

    ENTITY: ClassVar[str] = ""
    SCORE: ClassVar[float] = 0.8
    EXPRESSIONS: ClassVar[tuple[re.Pattern[str], ...]] = ()

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[self.ENTITY], name=self.__class__.__name__, version="1.0"
        )

    def load(self) -> None:
        return None

    def accept(self, match: re.Match[str], text: str) -> bool:
        return True

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for expression in self.EXPRESSIONS:
            for match in expression.finditer(text):
                if self.accept(match, text):
                    start, end = match.span("hit")
                    _add(results, _result(self.ENTITY, start, end, self.SCORE, self))
        return results


_DAY = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = (
    rf"(?:{_DAY}[ \t]+(?:of[ \t]+)?(?:{MONTHS})\.?,?[ \t]+(?:19|20)\d{{2}}"
    rf"|(?:{MONTHS})\.?[ \t]+{_DAY},?[ \t]+(?:19|20)\d{{2}}"
    r"|(?:0?[1-9]|[12][0-9]|3[01])[/.\-](?:0?[1-9]|1[0-2])[/.\-](?:(?:19|20)\d{2}|\d{2})"
    r"|(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    rf"|(?:{MONTHS})[ \t]+(?:19|20)\d{{2}})"
)
_BIRTH = r"(?:born|date[ \t]+of[ \t]+birth|birth[ \t]?date|DOB|D\.O\.B\.?|d\.o\.b\.?)"


class DateOfBirthRecognizer(_RegexRecognizer):
    """A date (numeric, ISO, long, or month and year) a few words after "born", "date of
    birth" or "DOB". Any other date (fieldwork, publication, an incident) is not a hit."""

    ENTITY = "DATE_OF_BIRTH"
    SCORE = 0.9
    EXPRESSIONS = (
        re.compile(
            rf"(?<![\w.]){_BIRTH}(?![\w])[ \t]*[:\-\u2013(]?[ \t]*"
            rf"(?:(?:[A-Za-z]+|was|is)[ \t]+){{0,4}}?(?:on[ \t]+|in[ \t]+|:[ \t]*)?"
            rf"(?P<hit>{_DATE})(?![\w/])",
            re.IGNORECASE,
        ),
    )


_UNIT = r"(?:Flat|Apartment|Apt\.?|Unit|Room|Maisonette)[ \t]+\d{1,4}[A-Za-z]?,?[ \t]+"
_STREET_NAME = r"(?:(?:[A-Z][\w'\u2019\-]*|St\.?|Saint)[ \t]+){1,3}"
_BUILDINGS = "House|Lodge|Towers?|Mansions|Apartments|Buildings|Point|Hall|Flats|Block"


class AddressRecognizer(_RegexRecognizer):
    """A house number and a capitalised street name ending in a street type ("12 Acacia
    Avenue", "Flat 3, 45 High Street", "14a Mill Lane"), or a flat in a named building
    ("Flat 3, Rosebank Court")."""

    ENTITY = "ADDRESS"
    SCORE = 0.8
    EXPRESSIONS = (
        re.compile(
            rf"(?<![\w/.,\u00a3$%])(?P<hit>(?:{_UNIT})?\d{{1,3}}[A-Za-z]?"
            rf"(?:[ \t]*[-\u2013][ \t]*\d{{1,3}}[A-Za-z]?)?,?[ \t]+{_STREET_NAME}"
            rf"(?:{STREET_TYPES}|St(?=[ \t]*[,.;:)]|$)))\b"
        ),
        re.compile(
            rf"(?<![\w/.,\u00a3$%])(?P<hit>{_UNIT}{_STREET_NAME}(?:{STREET_TYPES}|{_BUILDINGS}))\b"
        ),
    )
    _COURTS = _words(
        "crown family youth magistrates magistrates' county high supreme coroner's coroners "
        "combined civil appeal"
    )
    _NOT_STREETS = _words("the car food police care children's social early help")

    def accept(self, match: re.Match[str], text: str) -> bool:
        words = re.findall(r"[A-Za-z][\w'\u2019\-]*", match.group("hit"))
        unit_words = ("flat", "apartment", "apt", "unit", "room", "maisonette")
        names = [w.lower() for w in words[:-1] if w.lower() not in unit_words]
        if not names or all(w in self._NOT_STREETS for w in names):
            return False
        return not (words[-1] == "Court" and all(w in self._COURTS for w in names))


_SCHOOL_TYPES = (
    r"(?:(?:Primary|Junior|Infants?|Secondary|High|Grammar|Community|Catholic|RC|CE|CofE|C[ \t]"
    r"of[ \t]E|Church[ \t]of[ \t]England|Church[ \t]in[ \t]Wales|Methodist|Free|Special|Prep|"
    r"Preparatory|Middle|First|Upper|Lower|Day|Nursery|Sixth[ \t]Form|Church|Academy|Junior"
    r"[ \t]and[ \t]Infant|Language|Studio)[ \t]+)*"
    r"(?:School|Academy|Primary|Nursery|College|Pupil[ \t]Referral[ \t]Unit|PRU|Pre-?School|"
    r"Kindergarten|Infants|Sixth[ \t]Form)"
)
_SCHOOL_NAME_WORD = r"(?:St\.?|Saint|[A-Z][\w'\u2019\-]*)"


class SchoolRecognizer(_RegexRecognizer):
    """A proper name followed by School, Academy, Primary, Nursery, College, High School or
    Pupil Referral Unit; Welsh "Ysgol ..." names. "The school", "secondary schools" and
    "College of Policing" are not names of a school."""

    ENTITY = "SCHOOL"
    SCORE = 0.8
    EXPRESSIONS = (
        re.compile(
            rf"(?<![\w'\u2019])(?P<hit>(?P<name>{_SCHOOL_NAME_WORD}(?:[ \t]+(?:of[ \t]+|the[ \t]+)?"
            rf"{_SCHOOL_NAME_WORD}){{0,5}})[ \t]+(?P<type>{_SCHOOL_TYPES}))(?![\w'\u2019\-])"
        ),
        re.compile(
            r"(?<![\w'\u2019])(?P<hit>(?P<name>(?:St\.?|Saint)[ \t]+[A-Z][\w'\u2019\-]*"
            r"(?:[ \t]+[A-Z][\w'\u2019\-]*){0,3})[ \t]+(?P<type>(?:[a-z]+[ \t]+){0,2}"
            r"(?:school|academy|nursery|college)))(?![\w'\u2019\-])"
        ),
        re.compile(
            r"(?<![\w'\u2019])(?P<hit>(?P<name>Ysgol)(?P<type>(?:[ \t]+"
            r"(?:(?:y|yr|ar|a|Gymraeg)[ \t]+)?[A-Z][\w'\u2019\-]*){1,4}))(?![\w'\u2019\-])"
        ),
    )
    _GENERIC = _words("""
        the a an this that these those each every our their its his her some many all other
        any one no local primary secondary special independent state private free community
        virtual sunday forest police further higher education schools school academy academies
        sixth form nursery nurseries catholic church faith new old first upper lower middle
        junior infant infants high grammar day prep preparatory national royal open
        in at of for from to with by and or but when where while after before during
        we they he she it you i officers staff teachers children pupils parents
        """)

    def accept(self, match: re.Match[str], text: str) -> bool:
        after = text[match.end() : match.end() + 4]
        if match.group("type").endswith("College") and re.match(r"[ \t]+of\b", after):
            return False  # College of Policing, Royal College of Nursing
        if match.group("name") == "Ysgol":
            return True
        words = re.findall(r"[^\W\d_][\w'\u2019\-]*", match.group("name"))
        return any(_bare(w) not in self._GENERIC for w in words) and not all(
            w.lower() in self._GENERIC or w.isupper() for w in words
        )


_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen"
)
_AGE = (
    rf"(?:\baged?[ \t]+(?:\d{{1,2}}|{_NUMBER_WORDS})\b(?![ \t]*(?:to|-|\u2013|and|or)[ \t]*\d)"
    rf"(?![ \t]*(?:to|and|or)[ \t]+(?:{_NUMBER_WORDS}))"
    rf"|\b(?:\d{{1,2}}|{_NUMBER_WORDS})(?:-|[ \t])years?(?:-|[ \t])old\b(?!s))"
)
_PLACE = (
    r"(?P<place>[A-Z][^\W\d_]+(?:['\u2019][^\W\d_]+)?(?:(?:-|[ \t])(?:(?:in|on|upon|over|"
    r"under|by|le|la|the|y|ar|next|super|cum)(?:-|[ \t]))?[A-Z][^\W\d_]+){0,3})"
)
_PLACE_VERBS = (
    r"(?:from|in|at|near|living[ \t]+in|who[ \t]+(?:lives|lived|is[ \t]+living|was[ \t]+living)"
    r"[ \t]+in|lives[ \t]+in|lived[ \t]+in|resident[ \t]+in|moved[ \t]+to|living[ \t]+at|"
    r"staying[ \t]+in|based[ \t]+in)"
)


class AgeAndPlaceRecognizer(_RegexRecognizer):
    """A single child's age with the town or village they are from or live in, in either
    order within one clause. Ages alone, or in aggregate ("children aged 10 to 17"), are not
    hits, nor is a place the engine allows (a force area, a local authority)."""

    ENTITY = "AGE_AND_PLACE"
    SCORE = 0.75
    EXPRESSIONS = (
        re.compile(
            rf"(?P<hit>{_AGE}(?:[ \t,]+[^\s.;:!?()]+){{0,6}}?[ \t,]+(?:and[ \t]+)?"
            rf"{_PLACE_VERBS}[ \t]+(?:the[ \t]+)?{_PLACE})"
        ),
        re.compile(
            rf"\b{_PLACE_VERBS}[ \t]+(?:the[ \t]+)?(?P<hit>{_PLACE}[ \t]*,?[ \t]*"
            rf"(?:(?:who|and)[ \t]+(?:is|was)[ \t]+|who[ \t]+is[ \t]+now[ \t]+)?{_AGE})"
        ),
    )
    _NOT_PLACES = _words("""
        year years term key stage custody care court hospital police school children's
        children child social a&e accident emergency mash operation section the this that
        these their his her its our a an one two
        """)

    def accept(self, match: re.Match[str], text: str) -> bool:
        place = match.group("place")
        first = _bare(place.split()[0].split("-")[0])
        if first in self._NOT_PLACES or first in _MONTH_WORDS or first in _DAY_WORDS:
            return False
        return not place.isupper()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        for expression in self.EXPRESSIONS:
            for match in expression.finditer(text):
                if self.accept(match, text):
                    place = match.span("place")
                    if re.search(r"['\u2019]s$", match.group("place")):
                        place = (place[0], place[1] - 2)  # "Cumbria's" is Cumbria
                    results.append(
                        _result(
                            self.ENTITY,
                            match.start("hit"),
                            match.end("hit"),
                            self.SCORE,
                            self,
                            {PLACE_KEY: place},
                        )
                    )
        return results


# ---------------------------------------------------------------------------------------------
# Person names


class PersonRecognizer(EntityRecognizer):
    """Names: spaCy's PERSON entities, filtered and trimmed; capitalised first names from
    ``FIRST_NAMES`` with the surname after them; lower-case first names that are not also
    ordinary words; and courtesy titles with a surname ("Mrs Nowak")."""

    def __init__(self, common_words: Iterable[str] = ()) -> None:
        super().__init__(supported_entities=["PERSON"], name="UkPersonRecognizer", version="1.0")
        self.common_words = frozenset(common_words)

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        spans: list[tuple[int, int, float]] = []
        if nlp_artifacts is not None and nlp_artifacts.tokens is not None:
            spans += self._from_model(nlp_artifacts.tokens)
        spans += [span for span in self._from_first_names(text) if not _names_a_thing(text, *span)]
        spans += self._from_honorifics(text)
        return [_result("PERSON", start, end, score, self) for start, end, score in spans]

    # spaCy's entities -----------------------------------------------------------------------

    def _from_model(self, doc: Doc) -> list[tuple[int, int, float]]:
        found = []
        for ent in doc.ents:
            if ent.label_ != "PERSON":
                continue
            span = self._trim(ent)
            if (
                span is not None
                and self._plausible(span)
                and not _names_a_thing(doc.text, span.start_char, span.end_char)
            ):
                found.append((span.start_char, span.end_char, 0.85 if len(span) > 1 else 0.7))
        return found

    @staticmethod
    def _trim(ent: Span) -> Span | None:
        start, end = ent.start, ent.end
        doc = ent.doc

        def droppable(i: int) -> bool:
            token = doc[i]
            word = token.text.lower().rstrip(".")
            return (
                token.is_punct
                or token.is_space
                or word in TITLE_WORDS
                or word in ("'s", "\u2019s", "the", "and")
            )

        while start < end and droppable(start):
            start += 1
        while end > start and droppable(end - 1):
            end -= 1
        return doc[start:end] if end > start else None

    def _plausible(self, span: Span) -> bool:
        words = [t for t in span if t.is_alpha or "'" in t.text or "\u2019" in t.text]
        if not words or any(t.like_num or any(c.isdigit() for c in t.text) for t in span):
            return False
        lowered = [t.text.lower() for t in words]
        if any(_bare(w) in NON_PERSON_WORDS for w in lowered):
            return False
        if all(t.text.isupper() and len(t.text) > 1 for t in words):
            return False  # acronyms: MASH, CSE, MARAC
        if not any(_is_capitalised(t.text) for t in words):
            return any(w in FIRST_NAMES and w not in AMBIGUOUS_NAMES for w in lowered)
        if len(words) == 1:
            token, word = words[0], lowered[0]
            if word in FIRST_NAMES and word not in AMBIGUOUS_NAMES:
                return True
            if word in _COMMON_CAPITALISED or word in WELSH_WORDS:
                return False
            ordinary = word in self.common_words or word in AMBIGUOUS_NAMES
            if ordinary and word not in NAMES_RARELY_CAPITALISED_WORDS and _starts_sentence(token):
                return False  # "Encompass notifications were late.", "Grace periods were..."
        return True

    # First names ----------------------------------------------------------------------------

    def _from_first_names(self, text: str) -> list[tuple[int, int, float]]:
        found = []
        words = list(_NAME_WORD.finditer(text))
        for i, match in enumerate(words):
            word = match.group().replace("\u2019", "'")
            possessive = word.lower().endswith("'s")
            base = word[:-2] if possessive else word
            if "'" in base:
                continue  # O'Neill is a surname
            lowered = base.lower()
            key = lowered if lowered in FIRST_NAMES else lowered.split("-")[0]
            if key not in FIRST_NAMES:
                continue
            end = match.start() + len(base)
            if _is_capitalised(base):
                surname_end = None if possessive else self._surname_end(text, words, i)
                if key in AMBIGUOUS_NAMES and surname_end is None:
                    alone = key in NAMES_RARELY_CAPITALISED_WORDS or (
                        key in NAMES_ALONE_MID_SENTENCE
                        and not _text_starts_sentence(text, i, match)
                    )
                    if not alone:
                        continue
                found.append((match.start(), surname_end or end, 0.8 if surname_end else 0.65))
            elif base.islower() and key not in AMBIGUOUS_NAMES:
                found.append((match.start(), end, 0.6))
        return found

    @staticmethod
    def _surname_end(text: str, words: list[re.Match[str]], i: int) -> int | None:
        """The end of a capitalised surname right after word ``i``, if there is one."""
        if i + 1 >= len(words) or words[i].group().endswith(("'s", "\u2019s")):
            return None
        following = words[i + 1]
        gap = text[words[i].end() : following.start()]
        surname = following.group()
        lowered = surname.lower().replace("\u2019", "'")
        if gap not in (" ", "\u00a0") or not _is_capitalised(surname):
            return None
        stem = lowered[:-2] if lowered.endswith("'s") else lowered
        if (
            stem in NON_PERSON_WORDS
            or stem in TITLE_WORDS
            or stem in _COMMON_CAPITALISED
            or stem in _MONTH_WORDS
            or stem in _DAY_WORDS
            or stem in _STREET_WORDS
        ):
            return None
        return following.end() - (2 if lowered.endswith("'s") else 0)

    # Courtesy titles ------------------------------------------------------------------------

    _HONORIFIC = re.compile(
        rf"\b(?:{HONORIFICS})\.?[ \t]+[A-Z][^\W\d_]+(?:['\u2019\-][^\W\d_]+)*"
        r"(?:[ \t]+[A-Z][^\W\d_]+(?:['\u2019\-][^\W\d_]+)*)?"
    )

    def _from_honorifics(self, text: str) -> list[tuple[int, int, float]]:
        found = []
        for match in self._HONORIFIC.finditer(text):
            end = match.end()
            last = match.group().split()[-1].lower()
            if len(match.group().split()) == 3 and (
                last in NON_PERSON_WORDS or last in _COMMON_CAPITALISED
            ):
                end = match.start() + match.group().rfind(" ")
            if match.group().endswith(("'s", "\u2019s")):
                end -= 2
            found.append((match.start(), end, 0.85))
        return found


def all_recognizers(common_words: Iterable[str] = ()) -> list[EntityRecognizer]:
    """One of each recogniser, for the engine's registry."""
    return [
        PostcodeRecognizer(),
        PhoneRecognizer(),
        NhsNumberRecognizer(),
        EmailRecognizer(),
        CaseReferenceRecognizer(),
        DateOfBirthRecognizer(),
        AddressRecognizer(),
        SchoolRecognizer(),
        AgeAndPlaceRecognizer(),
        PersonRecognizer(common_words),
    ]
