"""Synthetic agreements shaped like the real ones, for benchmarks: `generate_data --agreements N`.

Seeded, so that the same N gives the same data. Rows are written with bulk_create, which skips
`save()`, so no history rows are made for them: synthetic data has no editors to record.
"""

import datetime
import logging
import random
from contextlib import nullcontext
from itertools import islice

from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from agreements.models import Agreement, AgreementType, Participation, Party, Role
from agreements.search_index import refreshed_once
from backoffice.interchange import export_lines
from backoffice.management.output import BaseCommand, written_whole
from labs.models import Lab, LabAgreement, LabHost
from people.models import Person, PersonAlias
from registry.models import FocusArea, Institution, InstitutionAlias, InstitutionKind

logger = logging.getLogger(__name__)

INSTITUTIONS = 3000
PEOPLE = 20000
LABS = 4000
BATCH = 2000
PROGRESS = 10_000  # agreements between two lines of progress
LAST_SIGNED = datetime.date(2026, 11, 30)

WORDS = [
    "research",
    "cooperation",
    "innovation",
    "talent",
    "training",
    "joint",
    "laboratory",
    "development",
    "digital",
    "transformation",
    "industry",
    "university",
    "platform",
    "technology",
    "application",
    "campus",
    "network",
    "education",
    "resources",
    "ecosystem",
    "data",
    "intelligence",
    "services",
    "strategic",
    "partnership",
    "open",
    "exchange",
    "students",
    "faculty",
    "projects",
    "infrastructure",
    "energy",
    "manufacturing",
    "health",
    "transport",
    "security",
    "software",
    "hardware",
    "standards",
    "pilot",
    "regional",
    "government",
    "enterprise",
    "collaboration",
    "academic",
    "commercial",
    "practice",
    "internship",
    "centre",
    "mutual",
    "benefit",
    "complementary",
    "advantages",
    "deepen",
    "expand",
    "promote",
    "build",
    "establish",
    "support",
    "jointly",
    "carry",
    "out",
    "explore",
    "integrate",
    "upgrade",
    "high-quality",
    "demonstration",
    "base",
    "incubation",
    "achievements",
    "transfer",
    "scientific",
    "frontier",
    "key",
    "core",
    "national",
    "provincial",
    "municipal",
    "local",
    "global",
    "international",
    "leading",
    "first-class",
    "discipline",
    "construction",
    "curriculum",
    "teachers",
    "graduates",
    "employment",
    "entrepreneurship",
    "fund",
    "investment",
    "capital",
    "market",
    "products",
    "solutions",
    "customers",
    "users",
    "scenario",
    "verification",
    "testing",
    "certification",
    "laboratory",
    "equipment",
    "computing",
    "storage",
    "chips",
    "devices",
    "terminals",
    "sensors",
    "platforms",
    "systems",
    "models",
    "algorithms",
    "experts",
    "forum",
    "summit",
    "ceremony",
    "signing",
    "witnessed",
    "attended",
    "delegation",
    "visit",
    "meeting",
    "memorandum",
    "framework",
    "long-term",
    "stable",
    "comprehensive",
    "practical",
    "win-win",
    "sharing",
    "openness",
    "agriculture",
    "healthcare",
    "finance",
    "logistics",
    "tourism",
    "culture",
    "sports",
    "environment",
    "water",
    "climate",
    "carbon",
]
# Words used only to make names; some of them also name technologies.
NAME_WORDS = [
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Coastal",
    "Mountain",
    "River",
    "Lake",
    "Harbour",
    "Capital",
    "Golden",
    "Pacific",
    "Atlantic",
    "Silk",
    "Jade",
    "Pearl",
    "Summit",
    "Valley",
    "Prairie",
    "Bay",
    "Star",
    "Dragon",
    "Phoenix",
]
CITIES = [
    "Beijing",
    "Shanghai",
    "Tianjin",
    "Shenzhen",
    "Hangzhou",
    "Nanjing",
    "Wuhan",
    "Chengdu",
    "Xi'an",
    "Guangzhou",
    "Suzhou",
    "Hefei",
    "Munich",
    "Paris",
    "London",
    "Lyon",
    "Turin",
    "Madrid",
    "Nairobi",
    "Lagos",
    "Cairo",
    "Dubai",
    "Riyadh",
    "Singapore",
    "Bangkok",
    "Jakarta",
    "Manila",
    "Seoul",
    "Tokyo",
    "Osaka",
    "Sydney",
    "Toronto",
    "Boston",
    "Austin",
    "Lima",
    "Santiago",
]
COUNTRIES = ["CN"] * 12 + [
    "DE",
    "FR",
    "GB",
    "IT",
    "ES",
    "KE",
    "NG",
    "EG",
    "AE",
    "SA",
    "SG",
    "TH",
    "ID",
    "PH",
    "KR",
    "JP",
    "AU",
    "CA",
    "US",
    "PE",
    "CL",
]
TECHNOLOGIES = [
    "5G",
    "artificial intelligence",
    "cloud computing",
    "big data",
    "smart city",
    "internet of things",
    "blockchain",
    "cybersecurity",
    "quantum computing",
    "robotics",
    "autonomous driving",
    "semiconductors",
    "edge computing",
    "high-performance computing",
    "computer vision",
    "speech recognition",
    "natural language processing",
    "machine learning",
    "smart campus",
    "digital government",
    "smart manufacturing",
    "industrial internet",
    "fintech",
    "e-commerce",
    "smart healthcare",
    "genomics",
    "bioinformatics",
    "new energy",
    "batteries",
    "photovoltaics",
    "hydrogen",
    "smart grid",
    "satellite",
    "aerospace",
    "new materials",
    "optical communication",
    "6G",
    "Wi-Fi",
    "data centres",
    "open source",
    "operating systems",
    "databases",
    "chip design",
    "HarmonyOS",
    "Kunpeng",
    "Ascend",
    "digital twin",
    "virtual reality",
    "augmented reality",
    "metaverse",
    "smart transport",
    "smart port",
    "smart mining",
    "smart agriculture",
    "food safety",
    "water management",
    "environmental monitoring",
    "climate modelling",
    "digital finance",
    "cloud gaming",
    "video",
    "smart home",
    "wearables",
    "software engineering",
    "talent training",
    "entrepreneurship",
    "digital economy",
    "higher education",
    "vocational education",
    "online learning",
    "smart library",
    "e-government",
    "public safety",
    "emergency management",
    "logistics",
    "supply chain",
    "smart retail",
    "tourism",
    "cultural heritage",
    "sports science",
]
SURNAMES = "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo"
GIVEN = "Wei Fang Min Jing Lei Yong Jun Tao Hua Ping Gang Hong Xin Yan Bo Hao Kai Ning Rui Lan"
HAN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗伟芳敏静磊勇军涛华平刚红新艳波浩凯宁瑞兰"
TITLES = ["President", "Vice President", "Chairman", "CEO", "Director", "Dean", "Secretary"]


class Command(BaseCommand):
    help = (
        "Add N synthetic agreements (seeded, deterministic) with institutions, people, labs and "
        "focus areas shaped like the real ones; optionally write them as an interchange file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agreements", type=int, required=True, help="how many (N)")
        parser.add_argument(
            "--seed", type=int, default=5, help="default 5: the same N and seed, the same data"
        )
        parser.add_argument("--jsonl", help="also write every agreement to this interchange file")

    def handle(self, *args, agreements, seed, jsonl, **options):
        if agreements < 1:
            raise CommandError(f"--agreements {agreements}: give a number of 1 or more.")
        # Not only agreements: a run for none, or agreements deleted since, leave the names
        # this run would make again, and it stopped on the first with a database error.
        if any(
            model.objects.exists() for model in (Agreement, Institution, Person, FocusArea, Lab)
        ):
            raise CommandError(
                "The database has agreements, institutions, people, focus areas or labs "
                "already; use an empty one."
            )
        generator = Generator(random.Random(seed))  # noqa: S311 - test data, not secrets
        # The file is opened first: a path that cannot be written is said before minutes of
        # work are committed without it.
        with (
            written_whole(jsonl, encoding="utf-8", newline="\n") if jsonl else nullcontext() as file
        ):
            with transaction.atomic(), refreshed_once():
                generator.vocabulary()
                for start in range(0, agreements, BATCH):
                    generator.agreements(start, min(BATCH, agreements - start))
                    done = min(start + BATCH, agreements)
                    if options["verbosity"] and done < agreements and done % PROGRESS == 0:
                        # 100,000 take minutes: how far it is, as the import says it.
                        self.stderr.write(f"{done:,} of {agreements:,} agreements generated")
            self.stdout.write(f"{agreements} agreements generated.")
            logger.info("Generated synthetic data: agreements=%d seed=%d", agreements, seed)
            if jsonl:
                file.writelines(export_lines(Agreement.objects.all()))
        if jsonl:
            self.stdout.write(f"Written to {jsonl}.")


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.now = timezone.now()

    def vocabulary(self):
        rng = self.rng
        self.types = list(AgreementType.objects.order_by("pk"))
        self.areas = FocusArea.objects.bulk_create(
            FocusArea(name=name, slug=f"bench-{index}-{slugish(name)}")
            for index, name in enumerate(TECHNOLOGIES)
        )
        kinds = (
            [InstitutionKind.UNIVERSITY] * 60
            + [InstitutionKind.COMPANY] * 25
            + [InstitutionKind.GOVERNMENT] * 10
            + [InstitutionKind.RESEARCH_INSTITUTE] * 5
        )
        institutions = []
        for index in range(INSTITUTIONS):
            kind = kinds[index % len(kinds)]
            city = rng.choice(CITIES)
            name = f"{rng.choice(NAME_WORDS)} {city} {NOUNS[kind]} {index}"
            native = "".join(rng.sample(HAN, 4)) + NATIVE_NOUNS[kind] if index % 3 == 0 else ""
            institutions.append(
                Institution(
                    name=name,
                    slug=f"bench-institution-{index}",
                    native_name=native,
                    acronym="".join(word[0] for word in name.split()[:3]).upper(),
                    kind=kind,
                    country=rng.choice(COUNTRIES),
                    city=city,
                )
            )
        self.institutions = Institution.objects.bulk_create(institutions)
        self.companies = [i for i in self.institutions if i.kind == InstitutionKind.COMPANY]
        self.others = [i for i in self.institutions if i.kind != InstitutionKind.COMPANY]
        # A few companies are in a large share of agreements, as Huawei is.
        self.company_weights = [1 / (rank + 1) ** 1.3 for rank in range(len(self.companies))]
        # Units: branches of the big companies, colleges of a tenth of the others.
        units = []
        for parent in self.companies[:20] + self.others[::10]:
            for number in range(3 if parent.kind == InstitutionKind.COMPANY else 2):
                units.append(
                    Institution(
                        name=f"{parent.name} {rng.choice(CITIES)} Branch {number}",
                        slug=f"{parent.slug}-unit-{number}",
                        kind=parent.kind,
                        country=parent.country,
                        parent=parent,
                    )
                )
        self.units = {}
        for unit in Institution.objects.bulk_create(units):
            self.units.setdefault(unit.parent_id, []).append(unit)
        InstitutionAlias.objects.bulk_create(
            # Numbered as the name is: an alias two institutions shared would make the file
            # ambiguous, which the importer rightly refuses (interchange.md, "Institution
            # references").
            InstitutionAlias(institution=i, name=f"{i.name} (former)")
            for i in self.institutions[::7]
        )
        self.people = Person.objects.bulk_create(
            Person(
                name=f"{rng.choice(SURNAMES.split())} {rng.choice(GIVEN.split())} {index}",
                slug=f"bench-person-{index}",
                native_name="".join(rng.sample(HAN, 3)) if index % 2 else "",
            )
            for index in range(PEOPLE)
        )
        PersonAlias.objects.bulk_create(
            PersonAlias(person=person, name=f"{person.name.split()[1]} {person.name.split()[0]}")
            for person in self.people[::9]
        )
        self.labs = Lab.objects.bulk_create(
            Lab(
                name=f"Joint Lab of {rng.choice(TECHNOLOGIES)} {index}",
                slug=f"bench-lab-{index}",
                status=rng.choice(list(Lab.Status.values)),
            )
            for index in range(LABS)
        )
        LabHost.objects.bulk_create(
            LabHost(lab=lab, institution=rng.choice(self.institutions)) for lab in self.labs
        )
        links = Lab.focus_areas.through
        links.objects.bulk_create(
            links(lab=lab, focusarea=rng.choice(self.areas)) for lab in self.labs
        )

    def agreements(self, start, count):
        rng = self.rng
        agreements = []
        for index in range(start, start + count):
            signed = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9862))
            # No later than a day past when this is run (the importer refuses a published
            # agreement signed after today); the same draw, so the same data otherwise.
            signed = min(signed, LAST_SIGNED)
            precision = rng.choice(["day"] * 8 + ["month", "year"])
            if precision == "month":
                signed = signed.replace(day=1)
            elif precision == "year":
                signed = signed.replace(month=1, day=1)
            published = rng.random() >= 0.1
            agreements.append(
                Agreement(
                    slug=f"bench-{index:07d}",
                    title=self.title(),
                    agreement_type=rng.choice(self.types),
                    status="published" if published else "draft",
                    published_at=self.now if published else None,
                    first_published_at=self.now if published else None,
                    signed_on=signed,
                    signed_on_precision=precision,
                    place=rng.choice(CITIES),
                    summary=self.summary(),
                )
            )
        agreements = Agreement.objects.bulk_create(agreements)
        parties, plans = [], []
        for agreement in agreements:
            chosen = self.parties()
            for position, (institution, unit) in enumerate(chosen):
                parties.append(
                    Party(
                        agreement=agreement, institution=institution, unit=unit, position=position
                    )
                )
            plans.append((agreement, len(chosen)))
        parties = iter(Party.objects.bulk_create(parties))
        participations, areas, labs = [], [], []
        for agreement, party_count in plans:
            own = list(islice(parties, party_count))
            people = rng.sample(self.people, 9)
            for position, person in enumerate(people[: rng.randint(1, 3)]):
                party = own[position % len(own)]
                participations.append(
                    Participation(
                        agreement=agreement,
                        person=person,
                        role=Role.SIGNATORY,
                        party=party,
                        organisation_id=party.institution_id,
                        title=rng.choice(TITLES),
                        position=position,
                    )
                )
            for position, person in enumerate(people[3 : 3 + rng.randint(0, 6)], start=3):
                participations.append(
                    Participation(
                        agreement=agreement,
                        person=person,
                        role=Role.WITNESS,
                        title=rng.choice(TITLES),
                        position=position,
                    )
                )
            for area in rng.sample(self.areas, rng.randint(1, 6)):
                areas.append(Agreement.focus_areas.through(agreement=agreement, focusarea=area))
            for lab in rng.sample(self.labs, rng.choice([0, 0, 0, 1, 1, 2])):
                labs.append(LabAgreement(lab=lab, agreement=agreement, outcome="founded"))
        Participation.objects.bulk_create(participations)
        Agreement.focus_areas.through.objects.bulk_create(areas)
        LabAgreement.objects.bulk_create(labs)

    def summary(self):
        words = self.rng.choices(WORDS, k=self.rng.randint(58, 118))
        # A phrase people search for, in some summaries as in the real ones.
        if self.rng.random() < 0.03:
            words.insert(self.rng.randrange(len(words)), "smart city")
        return " ".join(words).capitalize() + "."

    def title(self):
        words = self.rng.sample(WORDS, 3)
        return f"{' '.join(words).capitalize()} {self.rng.choice(['agreement', 'memorandum'])}"

    def parties(self):
        """2-4 (institution, unit): mostly a company, weighted to the big ones, with others."""
        rng = self.rng
        count = rng.choice([2, 2, 2, 3, 3, 4])
        chosen = set()
        if rng.random() < 0.8:
            chosen.add(rng.choices(self.companies, weights=self.company_weights)[0])
        while len(chosen) < count:
            chosen.add(rng.choice(self.others if rng.random() < 0.8 else self.companies))
        result = []
        for institution in sorted(chosen, key=lambda i: i.pk):
            units = self.units.get(institution.pk)
            unit = rng.choice(units) if units and rng.random() < 0.3 else None
            result.append((institution, unit))
        return result


NOUNS = {
    InstitutionKind.UNIVERSITY: "University",
    InstitutionKind.COMPANY: "Technologies",
    InstitutionKind.GOVERNMENT: "Municipal Government",
    InstitutionKind.RESEARCH_INSTITUTE: "Institute of Technology",
}
NATIVE_NOUNS = {
    InstitutionKind.UNIVERSITY: "大学",
    InstitutionKind.COMPANY: "科技有限公司",
    InstitutionKind.GOVERNMENT: "市人民政府",
    InstitutionKind.RESEARCH_INSTITUTE: "研究院",
}


def slugish(name):
    return "".join(c if c.isalnum() else "-" for c in name.lower())
