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
    note: str = ""  # what the sign-in is for, where its role does not say

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


# The documented sign-ins, one per role (two inspectors: one audits, the other second-marks
# blind), the same at every scale.
SIGN_INS: tuple[Person, ...] = (
    Person("manager", "Priya Hartley", Role.PROGRAMME_MANAGER, sign_in=True),
    Person("lead", "Daniel Whitlock", Role.LEAD_INSPECTOR, sign_in=True),
    Person("inspector", "Megan Fairbairn", Role.INSPECTOR, sign_in=True),
    Person(
        "colleague",
        "Alys Penrose",
        Role.INSPECTOR,
        sign_in=True,
        note="An inspector who second-marks case audits blind.",
    ),
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

# Fieldwork ---------------------------------------------------------------------------------
# Everything below is invented and generic: no names, ages, places or dates, nothing that
# could describe a real child. Case references are pseudonymous and made up in casework.py.

# The teams a force's case list names (the optional `team` column).
CASE_TEAMS: tuple[str, ...] = (
    "Public protection unit",
    "Child abuse investigation team",
    "Multi-agency safeguarding hub",
    "Missing from home team",
    "Exploitation hub",
    "Online child abuse team",
    "Response and patrol",
    "Neighbourhood policing",
    "Offender management unit",
    "Custody",
)

# Short evidence notes, by the common-scale band of the grade they support.
EVIDENCE_NOTES: dict[str, tuple[str, ...]] = {
    "good": (
        "Risk to the child identified at first contact and recorded clearly.",
        "Prompt referral to children's social care; receipt confirmed.",
        "Strategy discussion held the same day; police actions completed.",
        "Supervisor reviewed the plan and gave clear direction.",
        "The child's views recorded in their own words.",
        "History checks covered other children in the household.",
        "Safety plan agreed with partners and followed up.",
        "Decision rationale clear and child-centred.",
    ),
    "requires_improvement": (
        "Referral made but the follow-up took several days.",
        "Risk assessment completed for the adult, not for the child.",
        "Supervision recorded but gave little direction.",
        "Child seen, but their views were not recorded.",
        "Strategy discussion held late; some actions not evidenced.",
        "Record is incomplete; the reasons for the decision are partly clear.",
        "Partners told of the outcome only after a delay.",
        "Good early work; the later investigation lost pace.",
    ),
    "inadequate": (
        "No risk assessment for the child.",
        "No referral to children's social care despite clear concerns.",
        "Child not spoken to; focus on the adult victim only.",
        "Investigation not progressed for weeks; no supervisory review.",
        "No further action with no recorded rationale.",
        "Language in the record suggests the child was to blame.",
        "Repeat incidents not linked; risk not reassessed.",
        "Strategy discussion actions not carried out.",
    ),
}
NOT_APPLICABLE_NOTES: tuple[str, ...] = (
    "Not applicable to this case.",
    "No investigation was needed.",
    "No suspect identified.",
    "The child was not detained.",
)
OVERALL_NOTES: dict[str, tuple[str, ...]] = {
    "good": (
        "A well-handled case: the child was safeguarded throughout.",
        "Consistently good practice with effective partnership working.",
        "Good work overall; minor gaps in recording only.",
    ),
    "requires_improvement": (
        "The child was safeguarded, but there were avoidable delays.",
        "Mixed practice: good initial response, weaker follow-through.",
        "Basic actions taken; the child's voice is largely missing.",
    ),
    "inadequate": (
        "The child was left at risk for too long.",
        "Serious gaps at several stages; no effective supervision.",
        "Missed opportunities to protect the child.",
    ),
}

# Why the lead inspector agreed a grade where the two marks differed.
RESOLUTION_REASONS: tuple[str, ...] = (
    "Discussed at moderation: the delay in referral outweighs the good initial response.",
    "Agreed after re-reading the file: supervision was recorded in a separate system.",
    "The second marker's reading of the risk assessment is the better one.",
    "The audit grade stands: the strategy discussion was held in time.",
    "Moderated against the grading guidance for this stage.",
    "Both markers agreed on re-reading the investigation log.",
)

# Child at risk referrals: the concern, the force's action and the closing note.
REFERRAL_CONCERNS: tuple[str, ...] = (
    "Repeat missing episodes; no return interview or strategy discussion since the last one.",
    "Suspect still living in the household; no safety plan on the file.",
    "Concerns about exploitation recorded but not referred to partners.",
    "Bail conditions lapsed; the child may still be in contact with the suspect.",
    "Online contact with an adult continuing; no action since the first report.",
)
FORCE_ACTIONS: tuple[str, ...] = (
    "Strategy discussion held with children's social care; safety plan in place.",
    "Case reviewed by the public protection unit; the child visited and risk reassessed.",
    "Referral made to children's social care and the exploitation hub.",
    "Suspect arrested; bail conditions imposed and shared with partners.",
)
REFERRAL_CLOSING_NOTES: tuple[str, ...] = (
    "The force's action confirmed with its safeguarding lead; no further inspectorate action.",
    "Action checked against the force's records; referral closed.",
    "Partners confirmed the safety plan; closed.",
)

# Why a sampled case could not be audited and was replaced.
REPLACEMENT_REASONS: tuple[str, ...] = (
    "Transferred to another force before any police action.",
    "A duplicate record of another case on the list.",
    "Opened outside the period the case list covers.",
    "The file is held by the Crown Prosecution Service for a trial.",
)


# How the demo's findings and follow-up name the work of a stage of the child's journey: a
# word that reads before "teams", "cases", "records" and "work" ("the custody teams",
# "offender management cases"), since a stage's title often does not ("trusted adult
# cases", "leadership records"). By the stage's code in the methodologies, one word for each
# stage of a methodology (so no two findings read alike); a stage not here is named by its
# title.
STAGE_WORK: dict[str, str] = {
    "leadership": "child protection",
    "progress": "child protection",
    "responding_to_risk": "public protection",
    "recognising_risk": "vulnerability",
    "initial_contact": "initial contact",
    "initial_response": "response",
    "front_door": "front door",
    "assessment_and_help": "assessment",
    "risk_assessment_and_referral": "referral",
    "investigation": "investigation",
    "decision_making": "public protection",
    "trusted_adult": "safeguarding",
    "managing_risk": "offender management",
    "protecting_children": "offender management",
    "custody": "custody",
    "police_detention": "custody",
    "partnership_working": "partnership",
    "multi_agency_working": "partnership",
    "deep_dive": "specialist",
}


def stage_work(code: str, title: str = "") -> str:
    """The word for a stage's work, as it reads before "teams" or "cases"."""
    return STAGE_WORK.get(code) or title.lower() or "child protection"
