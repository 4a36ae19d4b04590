from apps.fieldwork import selectors
from apps.fieldwork.models import SampledCase


def test_whole_flow(fw):
    fw.upload()
    sample = fw.draw()
    cases = list(SampledCase.objects.filter(sample=sample))
    assert len(cases) == 30
    moderated = [c for c in cases if c.for_moderation]
    assert len(moderated) == 5
    grades = ["good", "requires improvement", "inadequate"]
    for n, case in enumerate(cases):
        fw.complete(fw.audit(case, "inspector"), grades[n % 3])
    for n, case in enumerate(moderated):
        fw.complete(fw.audit(case, "second", "second"), grades[(n + (n % 2)) % 3])
    report = selectors.agreement_report(fw.inspection)
    assert report.pairs == 5
    results = selectors.inspection_results(fw.inspection)
    assert results["by_area"].total.total == 30


def test_pages_render(fw, client):
    from django.urls import reverse

    from apps.fieldwork.models import CaseAudit, Referral
    from apps.fieldwork import services

    pk = fw.inspection.pk
    client.force_login(fw.users["lead"])
    assert client.get(reverse("fieldwork:overview", args=[pk])).status_code == 200
    assert client.get(reverse("fieldwork:case-list-upload", args=[pk])).status_code == 200
    assert client.get(reverse("fieldwork:sample", args=[pk])).status_code == 200
    fw.upload()
    r = client.get(
        reverse("fieldwork:sample", args=[pk])
        + "?proportion=50&margin=10&confidence=0.95&minimum=5"
    )
    assert r.status_code == 200, r.content
    assert b"calculation" in r.content
    fw.draw()
    case = SampledCase.objects.filter(inspection=fw.inspection, for_moderation=True).first()
    audit = fw.audit(case, "inspector")
    fw.complete(audit, "good")
    second = fw.audit(case, "second", "second")
    fw.complete(second, "inadequate")
    referral = services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk now")
    for name, args in [
        ("fieldwork:overview", [pk]),
        ("fieldwork:sample", [pk]),
        ("fieldwork:audit", [pk, audit.pk]),
        ("fieldwork:referrals", [pk]),
        ("fieldwork:referral", [pk, referral.pk]),
        ("fieldwork:moderation", [pk]),
        ("fieldwork:resolve", [pk, case.pk]),
        ("fieldwork:agreement", [pk]),
        ("fieldwork:results", [pk]),
        ("fieldwork:results-export", [pk, "csv"]),
        ("fieldwork:results-export", [pk, "xlsx"]),
        ("fieldwork:national", []),
        ("fieldwork:case-replace", [pk, case.pk]),
        ("notifications:list", []),
        ("inspections:inspection-detail", [pk]),
    ]:
        r = client.get(reverse(name, args=args))
        assert r.status_code == 200, (name, r.status_code)
    client.force_login(fw.users["inspector"])
    other = SampledCase.objects.filter(inspection=fw.inspection, for_moderation=False).first()
    a2 = fw.audit(other, "inspector")
    r = client.get(reverse("fieldwork:audit", args=[pk, a2.pk]))
    assert r.status_code == 200
    assert b"data-autosave-url" in r.content
