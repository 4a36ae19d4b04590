"""The fixed material the fictional programme is made from: invented people, JTAI themes and
thematic subjects.

Every person here is invented. Names are plain first and last names put together at random;
any likeness to a real person is chance, and every address is on example.org, a domain
reserved for examples. Nothing here describes a child.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Role

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - the documented, shared demo password
EMAIL_DOMAIN = "example.org"


@dataclass(frozen=True)
class Person:
    username: str
    full_name: str
    role: str
    # Where they work: "police" (the inspectorate), an inspectorate code for partner
    # inspectors, "force" for a force liaison (the first demo force).
    works_at: str = "police"
    sign_in: bool = False  # one of the documented demo sign-ins

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


# The documented sign-ins, one per role, the same at every scale.
SIGN_INS: tuple[Person, ...] = (
    Person("manager", "Priya Hartley", Role.PROGRAMME_MANAGER, sign_in=True),
    Person("lead", "Daniel Whitlock", Role.LEAD_INSPECTOR, sign_in=True),
    Person("inspector", "Megan Fairbairn", Role.INSPECTOR, sign_in=True),
    Person("analyst", "Tom Ashworth", Role.ANALYST, sign_in=True),
    Person("partner", "Grace Whitfield", Role.PARTNER_INSPECTOR, works_at="ofsted", sign_in=True),
    Person("liaison", "Owen Pritchard", Role.FORCE_LIAISON, works_at="force", sign_in=True),
    Person("admin", "Sam Lindqvist", Role.ADMINISTRATOR, sign_in=True),
)

# The rest of the demo-scale cast: named so the demo's teams read the same every time.
DEMO_CAST: tuple[Person, ...] = (
    Person("ruth.adeyemi", "Ruth Adeyemi", Role.LEAD_INSPECTOR),
    Person("marek.kowalski", "Marek Kowalski", Role.INSPECTOR),
    Person("jenny.hollis", "Jenny Hollis", Role.INSPECTOR),
    Person("ceri.vaughan", "Ceri Vaughan", Role.PARTNER_INSPECTOR, works_at="ciw"),
)

FIRST_NAMES: tuple[str, ...] = (
    "Aisha",
    "Alan",
    "Amy",
    "Andrew",
    "Anna",
    "Ben",
    "Bethan",
    "Carl",
    "Chloe",
    "Claire",
    "Colin",
    "Dawn",
    "Dylan",
    "Eleanor",
    "Emma",
    "Farah",
    "Fiona",
    "Gareth",
    "Gemma",
    "Hannah",
    "Harriet",
    "Ian",
    "Imran",
    "Jack",
    "James",
    "Joanne",
    "Karen",
    "Kieran",
    "Laura",
    "Leah",
    "Lewis",
    "Lucy",
    "Mark",
    "Martin",
    "Nadia",
    "Natalie",
    "Neil",
    "Nicola",
    "Paul",
    "Rachel",
    "Rhys",
    "Rosie",
    "Sarah",
    "Simon",
    "Sophie",
    "Stuart",
    "Tariq",
    "Vicky",
    "Wendy",
    "Zoe",
)
LAST_NAMES: tuple[str, ...] = (
    "Ainsworth",
    "Bancroft",
    "Bellamy",
    "Birtwistle",
    "Blackwood",
    "Brindley",
    "Calloway",
    "Carmody",
    "Cheshire",
    "Cotterill",
    "Dalby",
    "Danvers",
    "Eastwood",
    "Eccleston",
    "Fenwick",
    "Gilchrist",
    "Greaves",
    "Halloran",
    "Hemsley",
    "Holroyd",
    "Ingham",
    "Jarvis",
    "Kendrick",
    "Lacey",
    "Lambourne",
    "Maddox",
    "Marlow",
    "Merriman",
    "Northcott",
    "Oldroyd",
    "Pennington",
    "Quinlan",
    "Radcliffe",
    "Redfern",
    "Rowntree",
    "Sefton",
    "Shackleton",
    "Stannard",
    "Thornbury",
    "Trelawney",
    "Upton",
    "Varley",
    "Wainwright",
    "Whitmore",
    "Winstanley",
    "Yardley",
)

# JTAI deep-dive themes in the order the programme ran them (DOMAIN.md); the fictional
# programme gives each about a year from the JTAI methodology's start, then starts again.
JTAI_THEMES: tuple[str, ...] = (
    "Child sexual exploitation and children missing from home, care or education",
    "Children living with domestic abuse",
    "Neglect",
    "Child sexual abuse in the family environment",
    "Children's mental health",
    "Serious youth violence and criminal exploitation",
    "The front door: identification of initial need and risk",
    "Early help",
)

# Subjects of the fictional thematic inspections (after the kinds DOMAIN.md lists).
THEMATIC_SUBJECTS: tuple[str, ...] = (
    "Online child sexual abuse and exploitation",
    "Children in police custody",
    "The police response to children who go missing from home or care",
    "Group-based child sexual exploitation",
    "The use of police protection powers",
    "Children at risk from those who pose a risk to them in the community",
)

# Why quality assurance sent a report back: plain reasons, no case detail.
QA_RETURN_NOTES: tuple[str, ...] = (
    "Case file tables need checking against the audit returns",
    "The summary and the findings headlines do not agree",
    "Recommendations need clearer timescales",
    "Evidence for two findings is not referenced",
)

# Inspectorate-only planning notes (encrypted at rest); fictional, about logistics only.
PLANNING_NOTES: tuple[str, ...] = (
    "Demo note: the force asked to move the on-site week by a few days; agreed.",
    "Demo note: book a second room for the focus groups with partner agencies.",
    "Demo note: the force's self-assessment is due four weeks before fieldwork.",
    "Demo note: check team availability around the bank holiday.",
)
