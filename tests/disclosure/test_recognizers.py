"""Each UK recogniser on its own, and through ``scan`` where the model or the allow-list
takes part."""

from __future__ import annotations

import pytest

from apps.disclosure.engine import scan
from apps.disclosure.recognizers import (
    AddressRecognizer,
    AgeAndPlaceRecognizer,
    CaseReferenceRecognizer,
    DateOfBirthRecognizer,
    EmailRecognizer,
    NhsNumberRecognizer,
    PhoneRecognizer,
    PostcodeRecognizer,
    SchoolRecognizer,
    case_reference_is_plausible,
    nhs_number_is_valid,
    phone_is_personal,
    phone_national_digits,
    postcode_is_valid,
)
from apps.fieldwork.intake import nhs_number_is_valid as fieldwork_nhs_number_is_valid


def found(recognizer, text: str) -> list[str]:
    results = recognizer.analyze(text, [recognizer.supported_entities[0]], None)
    return sorted(text[r.start : r.end] for r in results)


def types_in(text: str, **kwargs) -> list[tuple[str, str]]:
    return [(h.type, h.text) for h in scan(text, **kwargs)]


# Postcodes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "postcode",
    [
        "LS6 2AB",
        "ls6 2ab",
        "LS62AB",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "W1A 0AX",
        "EC1A 1BB",
        "SW1A 2AA",
        "CF10 1EP",
        "LL57 2DG",
        "GIR 0AA",
    ],
)
def test_valid_postcodes(postcode):
    assert postcode_is_valid(postcode)
    assert found(PostcodeRecognizer(), f"The address was {postcode}, near the park.") == [postcode]


@pytest.mark.parametrize(
    "candidate",
    [
        "LS6",  # a district alone
        "QA1 1AA",  # Q never starts a postcode
        "VX1 1AA",  # nor V
        "AI1 1AA",  # I is never second
        "A1I 1AA",  # nor a third-position letter outside ABCDEFGHJKPSTUW
        "LS6 2CB",  # C never in the inward code
        "LS6 2AI",
        "LS6 AAB",
        "LS666 2AB",
        "123 4AB",
    ],
)
def test_invalid_postcodes(candidate):
    assert not postcode_is_valid(candidate)
    assert found(PostcodeRecognizer(), f"The address was {candidate} on the form.") == []


def test_a_postcode_inside_a_longer_word_is_not_one():
    assert found(PostcodeRecognizer(), "The model XLS62AB9 and ref ALS6 2AB") == []


def test_a_postcode_district_counts_only_after_a_street():
    assert found(PostcodeRecognizer(), "She was seen on Cardigan Road, LS6, at night.") == ["LS6"]
    assert found(PostcodeRecognizer(), "Officers in the LS6 area and in Leeds LS6.") == []


# Phone numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700900123",
        "07700-900-123",
        "0161 496 0000",
        "020 7946 0018",
        "(01229) 496123",
        "01539 496789",
        "+44 7700 900456",
        "+447700900456",
        "+44 (0)1539 496789",
        "0044 7700 900123",
        "0300 123 4567",
    ],
)
def test_phone_numbers(number):
    assert phone_is_personal(number)
    assert found(PhoneRecognizer(), f"Her number was {number} in the log.") == [number]


@pytest.mark.parametrize(
    "helpline",
    ["999", "101", "111", "116 123", "0800 1111", "0808 800 5000", "0800 555 111", "0300 123 1231"],
)
def test_helplines_and_emergency_numbers_are_not_phone_hits(helpline):
    assert not phone_is_personal(helpline)
    assert found(PhoneRecognizer(), f"Children can call {helpline} at any time.") == []
    assert types_in(f"Children and young people can call {helpline} at any time.") == []


def test_freephone_numbers_are_organisations():
    assert not phone_is_personal("0800 123 4567")
    assert phone_national_digits("+44 (0)1539 496789") == "01539496789"


def test_years_counts_and_dates_are_not_phone_numbers():
    text = "Between 2019 and 2023, 1,208 children went missing; see 01/02/2023 and 3,412."
    assert found(PhoneRecognizer(), text) == []


# NHS numbers ---------------------------------------------------------------------------------


def test_nhs_checksum():
    assert nhs_number_is_valid("943 476 5919")
    assert nhs_number_is_valid("9434765919")
    assert nhs_number_is_valid("943-476-5919")
    assert not nhs_number_is_valid("943 476 5918")
    assert not nhs_number_is_valid("1234567890")  # check digit 10: never issued
    assert not nhs_number_is_valid("94347659")


def test_nhs_checksum_agrees_with_the_case_list_intake():
    for n in range(4_000_000_000, 4_000_000_000 + 20_000, 7):
        digits = str(n)
        assert nhs_number_is_valid(digits) == fieldwork_nhs_number_is_valid(digits), digits


def test_nhs_numbers_valid_anywhere_and_any_labelled_one():
    recognizer = NhsNumberRecognizer()
    assert found(recognizer, "The record (4010232137) was attached.") == ["4010232137"]
    assert found(recognizer, "The number 943 476 5918 is not valid.") == []
    assert found(recognizer, "Her NHS number: 123 456 7890 was on the file.") == ["123 456 7890"]
    assert found(recognizer, "NHS no. 485-768-4268 was shared.") == ["485-768-4268"]


# Email addresses -----------------------------------------------------------------------------


def test_email_addresses():
    recognizer = EmailRecognizer()
    text = "Contact megan.jones2009@example.com or J.Smith@example.sch.uk, not @handle or a@b."
    assert found(recognizer, text) == ["J.Smith@example.sch.uk", "megan.jones2009@example.com"]


def test_tldextract_is_never_called(monkeypatch):
    """presidio's EmailRecognizer validates domains with tldextract, which downloads the
    public suffix list on first use; ours is a pattern, and nothing else calls it."""
    import tldextract

    def refuse(*args, **kwargs):
        raise AssertionError("tldextract called")

    monkeypatch.setattr(tldextract, "extract", refuse)
    monkeypatch.setattr(tldextract.TLDExtract, "__call__", refuse)
    text = "Write to a.b@example.co.uk or see https://www.example.org.uk/page and www.example.com."
    assert types_in(text) == [("EMAIL", "a.b@example.co.uk")]


# Case references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("The crime reference CR/12345/24 was closed.", "CR/12345/24"),
        ("Occurrence OCC-2023-004512 was not linked.", "OCC-2023-004512"),
        ("Under crime reference 46/11223/23 it was filed.", "46/11223/23"),
        ("Custody record 01CU123456 shows a delay.", "01CU123456"),
        ("The Mosaic case reference 1234567 was sent.", "1234567"),
        ("URN 12AB3456789 went to the CPS.", "12AB3456789"),
        ("(ref: LCS-00451239)", "LCS-00451239"),
        ("The crime number 2301234567 was given.", "2301234567"),
        ("The child's LCS number, 884512, was given.", "884512"),
        ("The incident number was 240315-0456.", "240315-0456"),
    ],
)
def test_case_references(text, reference):
    assert found(CaseReferenceRecognizer(), text) == [reference]


@pytest.mark.parametrize(
    "text",
    [
        "The case number 2019 was the highest.",
        "In the year to 31 March 2023 the reference group met.",
        "The log 2022/23 shows the year's figures.",
        "There was no further action in 14 cases; record 2,631 referrals.",
        "Section 38(6) of the Police and Criminal Evidence Act 1984 and Code C of PACE.",
        "The number 12345 on its own is not labelled.",
        "COVID-19 changed how officers worked in 2020/21.",
    ],
)
def test_things_that_are_not_case_references(text):
    assert found(CaseReferenceRecognizer(), text) == []


def test_case_reference_plausibility():
    assert case_reference_is_plausible("884512")
    assert not case_reference_is_plausible("2023")
    assert not case_reference_is_plausible("2022/23")
    assert not case_reference_is_plausible("12/03/2023")
    assert not case_reference_is_plausible("AB12")


# Dates of birth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("The child, born on 3 March 2011, was known.", "3 March 2011"),
        ("The record gave her DOB 03/03/2011 only.", "03/03/2011"),
        ("The form listed the date of birth: 2011-03-03.", "2011-03-03"),
        ("He was born 14th July 2009 in hospital.", "14th July 2009"),
        ("The girl's d.o.b. as 21.11.2012 was recorded.", "21.11.2012"),
        ("The baby, born in January 2023, was not seen.", "January 2023"),
        ("Date of birth 5/9/08 was recorded.", "5/9/08"),
        ("A boy born on July 4, 2012 was exploited.", "July 4, 2012"),
    ],
)
def test_dates_of_birth(text, date):
    assert found(DateOfBirthRecognizer(), text) == [date]


@pytest.mark.parametrize(
    "text",
    [
        "We inspected the force between 6 and 17 March 2023.",
        "The report was published on 3 March 2024.",
        "The incident happened on 03/03/2023 at home.",
        "In the year to 31 March 2023, the force recorded 412 applications.",
        "A newborn baby was found on 3 March 2023.",
    ],
)
def test_other_dates_are_not_dates_of_birth(text):
    assert found(DateOfBirthRecognizer(), text) == []


# Addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "12 Acacia Avenue",
        "Flat 3, 45 High Street",
        "14a Mill Lane",
        "7 Windermere Close",
        "56 Queen's Drive",
        "3 Rosebank Gardens",
        "9 Church Terrace",
        "2b Priory Road",
        "45 High St",
        "7a The Green",
        "Flat 3, Rosebank Court",
        "Apartment 12, Victoria House",
    ],
)
def test_addresses(address):
    assert found(AddressRecognizer(), f"Officers attended {address}, twice.") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "In 18 of the 20 cases, officers attended promptly.",
        "The case went to 3 Crown Court hearings and 2 Family Court hearings.",
        "They lived on Acacia Avenue.",  # a street without a number is not an address here
        "Officers made 79 referrals to Children's Social Care.",
        "Section 47 Strategy Meeting notes were missing.",
    ],
)
def test_things_that_are_not_addresses(text):
    assert found(AddressRecognizer(), text) == []


# Schools -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "school",
    [
        "St Mary's Primary School",
        "Kendal Academy",
        "Hillside Nursery",
        "Oakwood High School",
        "Barrow Sixth Form College",
        "Riverside Pupil Referral Unit",
        "St Bede's Catholic Primary School",
        "Little Acorns Day Nursery",
        "Ysgol Gymraeg Bro Morgannwg",
    ],
)
def test_named_schools(school):
    assert found(SchoolRecognizer(), f"The referral came from {school}, by email.") == [school]


def test_st_schools_with_a_lower_case_type():
    assert found(SchoolRecognizer(), "She went to St Mary's primary school.") == [
        "St Mary's primary school"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The school told officers, and secondary schools in the area agreed.",
        "We spoke to schools in the area and to the College of Policing.",
        "The Royal College of Paediatrics and Child Health published guidance.",
        "Primary School staff and the Virtual School head attended.",
        "The police academy trained new officers.",
        "Each Academy in the trust has a safeguarding lead.",
    ],
)
def test_generic_phrases_are_not_named_schools(text):
    assert found(SchoolRecognizer(), text) == []


# Age and place -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        (
            "In one case, a 14-year-old girl from Barrow was missing.",
            "14-year-old girl from Barrow",
        ),
        ("The boy, aged 15, who lives in Kendal, was arrested.", "aged 15, who lives in Kendal"),
        ("A girl from Workington, aged 13, told officers.", "Workington, aged 13"),
        ("The child, aged 11 and living in Penrith, was missing.", "aged 11 and living in Penrith"),
        ("A 16 year old from Grange-over-Sands was groomed.", "16 year old from Grange-over-Sands"),
    ],
)
def test_ages_with_a_place(text, hit):
    assert found(AgeAndPlaceRecognizer(), text) == [hit]


@pytest.mark.parametrize(
    "text",
    [
        "Children aged 10 to 17 who are arrested should not be held overnight.",
        "Children aged between 10 and 17 were seen.",
        "In one case, a 15-year-old girl was reported missing six times in a month.",
        "Sixteen- and seventeen-year-olds in custody, and 16-year-olds in Kendal.",
        "A 14-year-old boy in Year 9 was excluded.",
        "A 13-year-old girl in March 2022 was seen.",
        "Of 312 children aged 10 to 14 in Cumbria, most were released.",
    ],
)
def test_ages_alone_or_in_aggregate_are_not_hits(text):
    assert found(AgeAndPlaceRecognizer(), text) == []


def test_an_age_with_an_allowed_place_is_not_a_hit():
    """A force area or local authority is too large to identify a child."""
    assert types_in("In one case, a 15-year-old girl in Cumbria was missing.") == []
    assert types_in("A 14-year-old boy from Leeds was arrested.") == []
    assert types_in("A 14-year-old boy from Ulverston was arrested.") == [
        ("AGE_AND_PLACE", "14-year-old boy from Ulverston")
    ]
    assert types_in("A 14-year-old boy from Ulverston was arrested.", allow=["Ulverston"]) == []


# Person names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Officers spoke to Aisha Khan about it.", "Aisha Khan"),
        ("Tomasz Nowak's views were not recorded.", "Tomasz Nowak"),
        ("Siobhan O'Neill was reported missing.", "Siobhan O'Neill"),
        ("They removed Oluwaseun Adeyemi from the house.", "Oluwaseun Adeyemi"),
        ("The referral about Megan Jones was late.", "Megan Jones"),
        ("In this case, Jane told the officer.", "Jane"),
        ("the log shows that jane had disclosed it.", "jane"),
        ("When officers found Ellie-Rose, she was in a car.", "Ellie-Rose"),
        ("Officers spoke to Mrs Nowak at the door.", "Mrs Nowak"),
        ("The officer in the case, DC Sam Hughes, did not call.", "Sam Hughes"),
        ("Liam's views were not sought.", "Liam"),
        ("Officers spoke to Grace about the abuse.", "Grace"),
        ("Officers spoke to Grace Okafor about the abuse.", "Grace Okafor"),
        ("A child called Ruby was left alone.", "Ruby"),
        ("the boy (kwame) said he had been hit.", "kwame"),
        ("In this case Smith had been violent.", "Smith"),
    ],
)
def test_person_names(text, name):
    assert ("PERSON", name) in types_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "The chief constable and the police and crime commissioner met the MASH.",
        "The detective chief inspector and the superintendent reviewed it.",
        "The force uses Clare's Law, Sarah's Law and Operation Encompass.",
        "Encompass notifications were late. Niche records were incomplete.",
        "The MARAC, MAPPA and CSE teams met the NSPCC and Barnardo's.",
        "Cumbria Constabulary, Greater Manchester Police and Dyfed-Powys Police took part.",
        "Child A was 14. Child B was 15.",
        "Welsh forces and English forces follow Working Together to Safeguard Children 2023.",
        "Victoria Climbié and the Laming report changed child protection.",
        "May was busy, and in June Ofsted inspected the council.",
        "Grace periods were extended. Hope was expressed that things would improve.",
        "Operation Hydrant and Operation Willow coordinate investigations.",
        "Officers use the Compass and Jigsaw teams to manage offenders.",
        "The Philomena Protocol and the Herbert Protocol are used for missing people.",
        "Following the Casey Review and the Angiolini Inquiry, vetting was reviewed.",
        "The risk ratings are Red, Amber and Green; most were Amber.",
        "The recommendations are in Annex A and the methodology in Annex B.",
    ],
)
def test_what_looks_like_a_name_but_is_not(text):
    assert types_in(text) == []


def test_an_officer_title_is_trimmed_from_a_name():
    assert types_in("Detective Inspector Jane Smith reviewed the case.") == [
        ("PERSON", "Jane Smith")
    ]
