"""What published inspection reports legitimately contain, and finding it in a text.

The disclosure check must not raise an alarm at every force name, office title or statute a
report quotes: reviewers stop reading a check that cries wolf. So the engine knows, besides
the phrases its caller passes, an allow-list of its own:

* from the reference data in the database: every police force's name and its force area's
  name, every local authority's English and Welsh name, every inspectorate's name and short
  name. They are read once and kept for an hour (``load_reference`` writes in bulk, which
  sends no signals); saving or deleting a force, local authority or inspectorate forgets them
  at once (the signal handlers are connected in ``apps.py``). If the database is unavailable
  or holds no reference rows yet (a fresh database, or a test without database access), the
  same names are read from the files the database is loaded from (``data/reference/``), so a
  fresh installation checks text exactly as a loaded one does, and the database is asked again
  next time;
* built in, below: office titles and ranks, organisations, programmes, schemes and police
  information systems, statutes and guidance, helpline numbers, places too large to identify
  anyone, the names of children in published national reviews that reports cite, and reviews
  and protocols known by a person's name.

An allowed phrase suppresses a hit only when the hit lies wholly inside an occurrence of the
phrase in the text (``AllowIndex.occurrences``): "Clare's Law" silences the PERSON "Clare" in
it, but "Clare Smith" elsewhere in the same paragraph is still a hit. Phrases match whole words,
case-insensitively, with any run of spaces, hyphens or light punctuation between their words,
"&" for "and" and either apostrophe.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.db import transaction

logger = logging.getLogger(__name__)

OFFICE_TITLES: tuple[str, ...] = (
    "chief constable",
    "deputy chief constable",
    "assistant chief constable",
    "temporary chief constable",
    "acting chief constable",
    "chief officer",
    "chief officers",
    "commissioner",
    "deputy commissioner",
    "assistant commissioner",
    "deputy assistant commissioner",
    "commander",
    "police and crime commissioner",
    "deputy police and crime commissioner",
    "police, fire and crime commissioner",
    "police fire and crime commissioner",
    "mayor's office for policing and crime",
    "deputy mayor for policing and crime",
    "chief superintendent",
    "superintendent",
    "detective chief superintendent",
    "detective superintendent",
    "chief inspector",
    "detective chief inspector",
    "inspector",
    "detective inspector",
    "sergeant",
    "detective sergeant",
    "police sergeant",
    "constable",
    "detective constable",
    "police constable",
    "special constable",
    "police community support officer",
    "PCSO",
    "officer in the case",
    "officer in charge",
    "senior investigating officer",
    "head of public protection",
    "head of crime",
    "director of children's services",
    "director of social services",
    "director of public health",
    "chief executive",
    "designated safeguarding lead",
    "designated officer",
    "local authority designated officer",
    "LADO",
    "independent reviewing officer",
    "independent domestic violence adviser",
    "independent sexual violence adviser",
    "IDVA",
    "ISVA",
    "appropriate adult",
    "registered intermediary",
    "HM Inspector of Constabulary",
    "His Majesty's Inspector of Constabulary",
    "Her Majesty's Inspector of Constabulary",
    "HM Chief Inspector of Constabulary",
    "His Majesty's Chief Inspector of Constabulary",
    "HM Inspector",
    "lead inspector",
    "lead senior inspector",
    "inspection officer",
    "staff officer",
    "Children's Commissioner",
    "Children's Commissioner for Wales",
    "Domestic Abuse Commissioner",
    "Victims' Commissioner",
    "Independent Anti-Slavery Commissioner",
    "Home Secretary",
    "Secretary of State",
)

ORGANISATIONS: tuple[str, ...] = (
    "NSPCC",
    "National Society for the Prevention of Cruelty to Children",
    "Childline",
    "Barnardo's",
    "Barnardos",
    "The Children's Society",
    "Action for Children",
    "Samaritans",
    "Missing People",
    "Refuge",
    "Women's Aid",
    "Welsh Women's Aid",
    "SafeLives",
    "Lucy Faithfull Foundation",
    "Internet Watch Foundation",
    "Catch22",
    "College of Policing",
    "Home Office",
    "Ministry of Justice",
    "Department for Education",
    "Department of Health and Social Care",
    "Welsh Government",
    "Llywodraeth Cymru",
    "National Police Chiefs' Council",
    "NPCC",
    "Association of Police and Crime Commissioners",
    "APCC",
    "Ofsted",
    "Care Quality Commission",
    "CQC",
    "HM Inspectorate of Probation",
    "His Majesty's Inspectorate of Probation",
    "HM Inspectorate of Prisons",
    "HMICFRS",
    "His Majesty's Inspectorate of Constabulary and Fire & Rescue Services",
    "Her Majesty's Inspectorate of Constabulary and Fire & Rescue Services",
    "HMIC",
    "Care Inspectorate Wales",
    "CIW",
    "Arolygiaeth Gofal Cymru",
    "Healthcare Inspectorate Wales",
    "HIW",
    "Estyn",
    "CEOP",
    "Child Exploitation and Online Protection",
    "Child Exploitation and Online Protection Command",
    "NCA",
    "National Crime Agency",
    "Crown Prosecution Service",
    "CPS",
    "Independent Office for Police Conduct",
    "IOPC",
    "Youth Justice Board",
    "youth offending team",
    "youth justice service",
    "Cafcass",
    "Cafcass Cymru",
    "NHS",
    "NHS England",
    "NHS Wales",
    "integrated care board",
    "health board",
    "British Transport Police",
    "Police Scotland",
    "Police Service of Northern Ireland",
    "regional organised crime unit",
    "ROCU",
    "National County Lines Coordination Centre",
    "UK Protected Persons Service",
    "Child Safeguarding Practice Review Panel",
    "Independent Inquiry into Child Sexual Abuse",
    "IICSA",
    "Office for National Statistics",
    "ONS",
    "Crown Court",
    "Family Court",
    "Youth Court",
    "Magistrates' Court",
    "MASH",
    "multi-agency safeguarding hub",
    "multi-agency safeguarding hubs",
    "local safeguarding children board",
    "local safeguarding children boards",
    "local safeguarding children partnership",
    "local safeguarding children partnerships",
    "safeguarding children partnership",
    "regional safeguarding children board",
    "MARAC",
    "multi-agency risk assessment conference",
    "MAPPA",
    "multi-agency public protection arrangements",
    "MACE",
    "child abuse investigation team",
    "public protection unit",
    "Virtual School",
    "Virtual School Head",
    "Heddlu Gogledd Cymru",
    "Heddlu De Cymru",
    "Heddlu Gwent",
    "Heddlu Dyfed-Powys",
    "Hampshire and Isle of Wight Constabulary",
    "Devon and Cornwall Police",
    "Metropolitan Police",
    "the Met",
    "City of London Police",
)

PROGRAMMES_AND_SYSTEMS: tuple[str, ...] = (
    "Operation Encompass",
    "Operation Soteria",
    "Operation Bluestone",
    "Clare's Law",
    "Sarah's Law",
    "domestic violence disclosure scheme",
    "child sex offender disclosure scheme",
    "Prevent",
    "Channel",
    "Channel panel",
    "Early Help",
    "Troubled Families",
    "Supporting Families",
    "National Referral Mechanism",
    "NRM",
    "THRIVE",
    "DASH",
    "DASH risk assessment",
    "Signs of Safety",
    "Achieving Best Evidence",
    "ABE",
    "Barnahus",
    "Lighthouse",
    "Niche",
    "Niche RMS",
    "Athena",
    "STORM",
    "SmartStorm",
    "Connect",
    "PentiP",
    "Mosaic",
    "LCS",
    "Liquidlogic",
    "Liquidlogic Children's Social Care",
    "Police National Computer",
    "PNC",
    "Police National Database",
    "PND",
    "ViSOR",
    "CAID",
    "Child Abuse Image Database",
    "Home Office Counting Rules",
    "National Crime Recording Standard",
    "authorised professional practice",
    "APP",
    "Code C",
    "Code of Practice",
    "Child A",
    "Child B",
    "Child C",
    "Child D",
    "Child E",
    "Child F",
    "Child G",
    "Child H",
    "Child J",
    "Child K",
    "Child L",
    "Child M",
    "Child N",
    "Child P",
    "Child Q",
    "Child R",
    "Child S",
    "Child T",
    "Child U",
    "Child V",
    "Child W",
    "Child X",
    "Child Y",
    "Child Z",
)

STATUTES_AND_GUIDANCE: tuple[str, ...] = (
    "Children Act 1989",
    "Children Act 2004",
    "Children and Social Work Act 2017",
    "Social Services and Well-being (Wales) Act 2014",
    "Police and Criminal Evidence Act 1984",
    "PACE",
    "Police Act 1996",
    "Police Reform Act 2002",
    "Police Reform and Social Responsibility Act 2011",
    "Crime and Disorder Act 1998",
    "Criminal Justice Act 2003",
    "Sexual Offences Act 2003",
    "Modern Slavery Act 2015",
    "Serious Crime Act 2015",
    "Domestic Abuse Act 2021",
    "Police, Crime, Sentencing and Courts Act 2022",
    "Counter-Terrorism and Security Act 2015",
    "Data Protection Act 2018",
    "Human Rights Act 1998",
    "Mental Health Act 1983",
    "Female Genital Mutilation Act 2003",
    "Working Together to Safeguard Children",
    "Working Together to Safeguard Children 2018",
    "Working Together to Safeguard Children 2023",
    "Working Together to Safeguard Children 2015",
    "Working Together",
    "Keeping Children Safe in Education",
    "Wales Safeguarding Procedures",
    "All Wales Child Protection Procedures",
    "Achieving Best Evidence in Criminal Proceedings",
    "Victims' Code",
    "Code of Practice for Victims of Crime",
    "Concordat on Children in Custody",
    "section 47",
    "section 46",
    "section 17",
    "section 20",
    "section 55",
    "section 11",
    "section 38(6)",
    "police protection",
)

HELPLINES: tuple[str, ...] = (
    "Childline 0800 1111",
    "0800 1111",
    "08001111",
    "0808 800 5000",
    "08088005000",
    "116 123",
    "116123",
    "116 111",
    "999",
    "101",
    "111",
    "112",
    "0800 555 111",
    "0808 2000 247",
)

BROAD_PLACES: tuple[str, ...] = (
    "England",
    "Wales",
    "Cymru",
    "England and Wales",
    "United Kingdom",
    "UK",
    "Great Britain",
    "Britain",
    "Scotland",
    "Northern Ireland",
    "London",
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "Yorkshire",
    "East Midlands",
    "West Midlands",
    "East of England",
    "South East",
    "South West",
    "North Wales",
    "South Wales",
    "Mid Wales",
    "West Wales",
)

# Children named in published national reviews that inspection reports cite by name, and
# reviews, inquiries and protocols known by a person's name.
PUBLISHED_REVIEWS: tuple[str, ...] = (
    "Victoria Climbié",
    "Victoria Climbie",
    "Peter Connelly",
    "Baby P",
    "Arthur Labinjo-Hughes",
    "Star Hobson",
    "Daniel Pelka",
    "Lord Laming",
    "Laming report",
    "Jay report",
    "Munro review",
    "Casey review",
    "Baroness Casey Review",
    "Taylor review",
    "Lammy review",
    "MacAlister review",
    "Angiolini Inquiry",
    "Philomena Protocol",
    "Herbert Protocol",
)

BUILTIN_PHRASES: tuple[str, ...] = (
    OFFICE_TITLES
    + ORGANISATIONS
    + PROGRAMMES_AND_SYSTEMS
    + STATUTES_AND_GUIDANCE
    + HELPLINES
    + BROAD_PLACES
    + PUBLISHED_REVIEWS
)

# Words of ranks and offices: stripped from the ends of a PERSON span, and never a name alone.
TITLE_WORDS: frozenset[str] = frozenset(
    {
        "chief",
        "deputy",
        "assistant",
        "temporary",
        "acting",
        "constable",
        "detective",
        "inspector",
        "sergeant",
        "superintendent",
        "commissioner",
        "commander",
        "officer",
        "director",
        "head",
        "lead",
        "dc",
        "ds",
        "di",
        "dci",
        "dsu",
        "supt",
        "pc",
        "psc",
        "pcso",
        "sgt",
        "insp",
        "ch",
        "hm",
        "hmi",
        "sir",
        "dame",
        "lord",
        "lady",
        "professor",
        "prof",
        "councillor",
        "cllr",
    }
)

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|&")


def _normalise(word: str) -> str:
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]  # "the Welsh Government's" is the Welsh Government
    return "and" if word == "&" else word


def phrase_variants(phrase: str) -> list[str]:
    """The forms of a reference name that running text uses ("Bristol, City of" is written
    "City of Bristol" or "Bristol")."""
    phrase = phrase.strip()
    if not phrase:
        return []
    variants = [phrase]
    if ", " in phrase:
        head, tail = phrase.split(", ", 1)
        variants += [f"{tail} {head}", head]
    return variants


@dataclass(frozen=True)
class _Word:
    norm: str
    start: int
    end: int


class AllowIndex:
    """Allowed phrases, indexed by their first word, to find their occurrences in a text
    in one pass over its words (a single regular expression of several hundred alternatives
    would try each of them at every character)."""

    def __init__(self, phrases: Iterable[str]) -> None:
        by_first: dict[str, set[tuple[str, ...]]] = {}
        for phrase in phrases:
            for variant in phrase_variants(phrase):
                words = tuple(_normalise(m.group()) for m in _WORD.finditer(variant))
                if words:
                    by_first.setdefault(words[0], set()).add(words)
        self._by_first = {
            first: sorted(candidates, key=len, reverse=True)
            for first, candidates in by_first.items()
        }
        self.phrase_count = sum(len(candidates) for candidates in self._by_first.values())

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def occurrences(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the allowed phrases in ``text`` (the longest at each word)."""
        if not self._by_first:
            return []
        words = [_Word(_normalise(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]
        found: list[tuple[int, int]] = []
        for i, word in enumerate(words):
            for candidate in self._by_first.get(word.norm, ()):
                if self._matches(text, words, i, candidate):
                    found.append((word.start, words[i + len(candidate) - 1].end))
                    break
        return found

    @staticmethod
    def _matches(text: str, words: list[_Word], i: int, candidate: tuple[str, ...]) -> bool:
        if i + len(candidate) > len(words):
            return False
        for offset in range(1, len(candidate)):
            current, previous = words[i + offset], words[i + offset - 1]
            if current.norm != candidate[offset]:
                return False
            gap = text[previous.end : current.start]
            if len(gap) > 3 or "\n" in gap or any(c.isalnum() for c in gap):
                return False
        return True


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans merged, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def covered(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies wholly inside one of the merged ``spans``."""
    return any(s <= start and end <= e for s, e in spans)


# The reference data's phrases, cached once found, for an hour (``load_reference`` writes in
# bulk, which sends no signals); see the module docstring.
CACHE_SECONDS = 3600.0
_db_lock = threading.Lock()
_db_phrases: tuple[str, ...] | None = None
_db_read_at = 0.0
_index_lock = threading.Lock()
_base_index: tuple[tuple[str, ...], AllowIndex] | None = None


def _query_database() -> tuple[str, ...]:
    """The reference names in the database."""
    from apps.reference.models import Force, Inspectorate, LocalAuthority

    phrases: list[str] = []
    for name, area_name in Force.objects.values_list("name", "area_name"):
        phrases += [name, area_name]
    for name, name_welsh in LocalAuthority.objects.values_list("name", "name_welsh"):
        phrases += [name, name_welsh]
    for name, short_name in Inspectorate.objects.values_list("name", "short_name"):
        phrases += [name, short_name]
    return tuple(sorted({p.strip() for p in phrases if p and p.strip()}))


REFERENCE_FILES = {
    "police_forces_england_wales.csv": ("force_name", "pfa23nm"),
    "la_to_pfa23.csv": ("utla23nm", "utla23nmw"),
    "inspectorates.csv": ("name", "short_name"),
}


def reference_directory() -> Path:
    from django.conf import settings

    return Path(settings.BASE_DIR) / "data" / "reference"


@lru_cache(maxsize=1)
def file_phrases() -> tuple[str, ...]:
    """The same names as ``_query_database`` reads, from the reference data files."""
    phrases: set[str] = set()
    for name, columns in REFERENCE_FILES.items():
        try:
            with (reference_directory() / name).open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    phrases.update((row.get(column) or "").strip() for column in columns)
        except (OSError, csv.Error) as error:
            logger.warning("disclosure check: cannot read %s (%s)", name, error)
    phrases.discard("")
    return tuple(sorted(phrases))


def reference_phrases() -> tuple[str, ...]:
    """The reference names: the database's, or the files' when the database has none."""
    return database_phrases() or file_phrases()


def database_phrases() -> tuple[str, ...]:
    """Force, local authority and inspectorate names from the database; () when there are
    none or the database cannot be read (then it is asked again on the next call)."""
    global _db_phrases, _db_read_at
    if _db_phrases is not None and time.monotonic() - _db_read_at < CACHE_SECONDS:
        return _db_phrases
    with _db_lock:
        if _db_phrases is not None and time.monotonic() - _db_read_at < CACHE_SECONDS:
            return _db_phrases
        try:
            # In a savepoint: a caller inside its own transaction (the reports app checks a
            # report under a row lock) keeps a usable transaction if this query fails.
            with transaction.atomic():
                phrases = _query_database()
        except Exception as error:  # no database, no tables, no access (tests), async context
            logger.info(
                "disclosure check: reference names not in the database, reading the reference "
                "files (%s)",
                error.__class__.__name__,
            )
            return ()
        if phrases:
            _db_phrases, _db_read_at = phrases, time.monotonic()
        return phrases


def reset_cache(**_kwargs: object) -> None:
    """Forget the cached reference names (a signal receiver, hence the keyword arguments)."""
    global _db_phrases, _base_index
    with _db_lock, _index_lock:
        _db_phrases = None
        _base_index = None


def base_index() -> AllowIndex:
    """The built-in phrases and the reference names, indexed (rebuilt when those change)."""
    global _base_index
    db = reference_phrases()
    cached = _base_index
    if cached is not None and cached[0] is db:
        return cached[1]
    with _index_lock:
        index = AllowIndex(BUILTIN_PHRASES + db)
        _base_index = (db, index)
        return index
