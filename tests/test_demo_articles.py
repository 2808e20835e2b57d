"""The demo data against the articles it is taken from (/work/shared/seeds/, the two source
articles of DESIGN.md): each fact an article states is what the public API gives."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db

DEMO = Path(settings.BASE_DIR) / "demo" / "agreements.jsonl"
TALENT_CENTER = (
    "Innovative Talent Center of the Huawei Authorized Information and Network Academy at ECNU"
)


@pytest.fixture
def demo():
    call_command("import_agreements", str(DEMO), stdout=io.StringIO())


def record(client, key):
    response = client.get(f"/api/agreements/{key}/")
    assert response.status_code == 200
    return response.json()


def name(reference):
    return reference if isinstance(reference, str) or reference is None else reference["name"]


def people(agreement, role):
    return {
        p["person"]["name"]: (p["title"], name(p["organisation"]), p["on_behalf_of"])
        for p in agreement["participants"]
        if p["role"] == role
    }


def labs(agreement):
    return {
        lab["name"]: (lab["status"], lab["outcome"], [name(host) for host in lab["hosts"]])
        for lab in agreement["labs"]
    }


def test_the_ecnu_huawei_agreement_is_as_its_article_tells_it(client, demo):
    ecnu = record(client, "ecnu-huawei-2019")

    assert ecnu["agreement_type"] == "strategic partnership agreement"
    # "3 July", without a year in the article: its source's note says where 2019 comes from.
    assert ecnu["signed_on"].endswith("-07-03")
    assert "without a year" in ecnu["sources"][0]["note"]
    assert all(word in ecnu["place"] for word in ("Huawei", "Bantian", "Longgang", "Shenzhen"))
    assert [(name(p["institution"]), name(p["unit"])) for p in ecnu["parties"]] == [
        ("East China Normal University", None),
        ("Huawei Technologies", "Huawei Shanghai"),
    ]
    assert people(ecnu, "signatory") == {
        "Sun Zhenrong": (
            "Vice President",
            "East China Normal University",
            "East China Normal University",
        ),
        "Hao Guoqiang": ("General Manager", "Huawei Shanghai", "Huawei Technologies"),
    }
    assert people(ecnu, "witness") == {
        "Peng Bo": ("Vice President, Public and Government Affairs", "Huawei Technologies", None),
        "Qian Xuhong": ("President", "East China Normal University", None),
    }
    attendees = people(ecnu, "attendee")
    assert set(attendees) == {
        "He Jifeng",
        "Cheng Jing",
        "Wang Yan",
        "Li Peng",
        "Liu Gui",
        "Tong Liang",
    }
    assert attendees["Wang Yan"][1] == "ECNU Publishing House"
    assert attendees["Li Peng"][1] == "Huawei Shanghai Institute"
    assert labs(ecnu) == {
        TALENT_CENTER: (
            "established",
            "extended",
            ["East China Normal University"],
        ),
        "Smart Campus Innovation Lab": (
            "proposed",
            "proposed",
            ["East China Normal University", "Huawei Technologies"],
        ),
        "Trustworthy Innovation Lab": (
            "proposed",
            "proposed",
            ["East China Normal University", "Huawei Technologies"],
        ),
    }
    # The article's technologies of the agreement and of the labs it plans, 5G among them
    # (the Smart Campus Innovation Lab's: "cloud computing, artificial intelligence, 5G, the
    # future network, IoT, and big data analysis").
    assert {
        "5G",
        "artificial intelligence",
        "big data",
        "chip design",
        "cloud computing",
        "communication technology",
        "data science and engineering",
        "database systems",
        "future network",
        "Internet of Things",
        "open-source software and hardware",
        "smart campus",
        "trustworthy computing",
    } <= set(ecnu["focus_areas"])
    assert (ecnu["sources"][0]["title"], ecnu["sources"][0]["publisher"]) == (
        "ECNU becomes a strategic partner of Huawei",
        "East China Normal University",
    )


def test_a_technology_search_finds_every_agreement_whose_article_names_it(client, demo):
    response = client.get("/api/agreements/?focus_area=5g")
    assert {a["key"] for a in response.json()["results"]} == {
        "ecnu-huawei-2019",
        "tju-china-telecom-huawei-2020",
    }


def test_the_tju_agreement_is_as_its_article_tells_it(client, demo):
    tju = record(client, "tju-china-telecom-huawei-2020")

    assert tju["agreement_type"] == "strategic cooperation agreement"
    assert tju["signed_on"] == "2020-09-24"
    assert "Tianjin Industrial and Information Technology Bureau" in tju["place"]
    assert [(name(p["institution"]), name(p["unit"])) for p in tju["parties"]] == [
        ("Tianjin University", "College of Intelligence and Computing"),
        ("China Telecom", "China Telecom Tianjin Branch"),
        ("Huawei Technologies", "Huawei Tianjin Cloud and AI BG"),
    ]
    signatories = people(tju, "signatory")
    assert signatories == {
        "Hu Qinghua": (
            "Vice Dean, College of Intelligence and Computing",
            "College of Intelligence and Computing",
            "Tianjin University",
        ),
        "Su Weifeng": ("Deputy General Manager", "China Telecom Tianjin Branch", "China Telecom"),
        "Qi Pingchuan": (
            "General Manager",
            "Huawei Tianjin Cloud and AI BG",
            "Huawei Technologies",
        ),
    }
    assert people(tju, "witness") == {
        "Zhu Yubing": ("Deputy Secretary General", "Tianjin Municipal Government", None),
        "Yuan Yingjin": ("Vice President", "Tianjin University", None),
        "Zhao Yufeng": ("General Manager", "China Telecom Tianjin Branch", None),
    }
    assert labs(tju) == {
        "Joint Innovation Laboratory for Digital Government – Smart City": (
            "established",
            "founded",
            ["Tianjin University", "China Telecom", "Huawei Technologies"],
        ),
    }
    assert tju["labs"][0]["established_on"] == "2020-09-24"  # unveiled at the signing
    assert {
        "5G",
        "artificial intelligence",
        "big data",
        "intelligent network",
        "edge intelligence",
        "human-computer interaction",
        "pattern recognition",
    } <= set(tju["focus_areas"])
    assert (tju["sources"][0]["title"], tju["sources"][0]["publisher"]) == (
        "TJU Signs Strategic Cooperation Agreement with China Telecom and Huawei",
        "College of Intelligence and Computing, Tianjin University",
    )
