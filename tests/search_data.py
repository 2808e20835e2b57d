"""The two seed agreements, built with factories, a third (iFLYTEK and ECNU, 2021, known to
the year) and a draft that must never show: the data of the search, API and index tests."""

import datetime

from agreements.models import AgreementType
from tests.factories import (
    AgreementFactory,
    FocusAreaFactory,
    InstitutionAliasFactory,
    InstitutionFactory,
    LabAgreementFactory,
    LabFactory,
    ParticipationFactory,
    PartyFactory,
    PersonFactory,
)

DRAFT_TOKEN = "Zqxdraftonlytoken"


def build():
    huawei = InstitutionFactory(
        name="Huawei Technologies", slug="huawei", native_name="华为技术有限公司", kind="company"
    )
    InstitutionAliasFactory(institution=huawei, name="华为")
    huawei_shanghai = InstitutionFactory(
        name="Huawei Shanghai", slug="huawei-shanghai", parent=huawei, kind="company"
    )
    ecnu = InstitutionFactory(
        name="East China Normal University", slug="ecnu", native_name="华东师范大学", acronym="ECNU"
    )
    tju = InstitutionFactory(name="Tianjin University", slug="tju", acronym="TJU")
    telecom = InstitutionFactory(name="China Telecom", slug="china-telecom", kind="company")
    iflytek = InstitutionFactory(
        name="iFLYTEK", slug="iflytek", native_name="科大讯飞", kind="company"
    )
    five_g = FocusAreaFactory(name="5G", slug="5g")
    cloud = FocusAreaFactory(name="cloud computing", slug="cloud-computing")
    smart_city = FocusAreaFactory(name="smart city", slug="smart-city")

    ecnu_huawei = AgreementFactory(
        slug="ecnu-huawei-2019",
        title="ECNU and Huawei strategic partnership agreement",
        agreement_type=AgreementType.objects.get(slug="strategic-partnership"),
        status="published",
        signed_on=datetime.date(2019, 7, 3),
        signed_on_precision="day",
        place="Huawei headquarters, Bantian, Shenzhen",
    )
    ecnu_party = PartyFactory(agreement=ecnu_huawei, institution=ecnu)
    PartyFactory(agreement=ecnu_huawei, institution=huawei, unit=huawei_shanghai)
    ParticipationFactory(
        agreement=ecnu_huawei,
        person=PersonFactory(name="Sun Zhenrong"),
        role="signatory",
        party=ecnu_party,
        title="Vice President",
    )
    ecnu_huawei.focus_areas.set([cloud])
    LabAgreementFactory(
        agreement=ecnu_huawei,
        lab=LabFactory(name="Smart Campus Innovation Lab", status="proposed"),
        outcome="proposed",
    )

    tju_agreement = AgreementFactory(
        slug="tju-china-telecom-huawei-2020",
        title="TJU, China Telecom and Huawei strategic cooperation agreement",
        agreement_type=AgreementType.objects.get(slug="strategic-cooperation"),
        status="published",
        signed_on=datetime.date(2020, 9, 24),
        signed_on_precision="day",
        place="Tianjin",
    )
    for institution in (tju, telecom, huawei):
        PartyFactory(agreement=tju_agreement, institution=institution)
    tju_agreement.focus_areas.set([five_g, smart_city])
    LabAgreementFactory(
        agreement=tju_agreement,
        lab=LabFactory(name="Joint Innovation Laboratory for Digital Government – Smart City"),
    )

    iflytek_agreement = AgreementFactory(
        slug="iflytek-2021",
        title="Speech technology cooperation",
        status="published",
        signed_on=datetime.date(2021, 1, 1),
        signed_on_precision="year",
    )
    PartyFactory(agreement=iflytek_agreement, institution=iflytek)
    PartyFactory(agreement=iflytek_agreement, institution=ecnu)

    secret_institution = InstitutionFactory(name=f"{DRAFT_TOKEN} Institute", slug="secret")
    draft = AgreementFactory(
        slug=f"{DRAFT_TOKEN.lower()}-draft",
        title=f"{DRAFT_TOKEN} Huawei 5G draft",
        summary=DRAFT_TOKEN,
        status="draft",
        signed_on=datetime.date(2018, 1, 1),
        signed_on_precision="year",
    )
    PartyFactory(agreement=draft, institution=huawei)
    PartyFactory(agreement=draft, institution=secret_institution)
    ParticipationFactory(agreement=draft, person=PersonFactory(name=f"{DRAFT_TOKEN} Person"))
    draft.focus_areas.set([five_g, FocusAreaFactory(name=DRAFT_TOKEN, slug="secret-area")])
    LabAgreementFactory(agreement=draft, lab=LabFactory(name=f"{DRAFT_TOKEN} Lab"))
    return {
        "ecnu_huawei": ecnu_huawei,
        "tju": tju_agreement,
        "iflytek": iflytek_agreement,
        "draft": draft,
    }
