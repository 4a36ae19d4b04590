import datetime as dt
from apps.fieldwork import intake, services
from apps.fieldwork.models import *
from tests.fieldwork.conftest import TODAY

def test_scratch(fw):
    bad = (b"case_reference,audit_area,date_opened,child_name\n"
           b"DA-1,domestic_abuse,2026-01-10,x\n")
    try:
        services.case_list_upload(actor=fw.users["lead"], inspection=fw.inspection, filename="b.csv", content=bad, today=TODAY)
    except intake.CaseListRejected as e:
        print(e.problems)
    bad = (b"case_reference,audit_area,date_opened\n"
           b"DA-00001,domestic_abuse,2026-01-10\n"
           b"DA-00002,space_crime,2026-01-10\n"
           b"DA-00003,domestic_abuse,not a date\n"
           b"DA-00001,domestic_abuse,2026-01-11\n"
           b",missing_children,2026-01-11\n")
    try:
        services.case_list_upload(actor=fw.users["lead"], inspection=fw.inspection, filename="b.csv", content=bad, today=TODAY)
    except intake.CaseListRejected as e:
        for p in e.problems: print(p)
    print(fw.methodology.comparable("good"), fw.methodology.comparable("requires improvement"), fw.methodology.comparable("inadequate"))
    from apps.frameworks.loaders import COMPARABLE_SCALE
    print(COMPARABLE_SCALE)
    print(fw.users["lead"].email, fw.inspection.reference)
