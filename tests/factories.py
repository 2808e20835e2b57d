import factory
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from agreements.models import (
    Agreement,
    AgreementRelation,
    AgreementType,
    Participation,
    Party,
    Photo,
    Source,
)
from labs.models import Lab, LabAgreement, LabHost
from people.models import Person, PersonAlias
from registry.models import FocusArea, Institution, InstitutionAlias, InstitutionKind


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"University {n}")
    slug = factory.Sequence(lambda n: f"university-{n}")
    kind = InstitutionKind.UNIVERSITY
    country = "CN"


class InstitutionAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InstitutionAlias

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"Alias {n}")


class FocusAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FocusArea

    name = factory.Sequence(lambda n: f"Technology {n}")
    slug = factory.Sequence(lambda n: f"technology-{n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.Sequence(lambda n: f"person-{n}")


class PersonAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonAlias

    person = factory.SubFactory(PersonFactory)
    name = factory.Sequence(lambda n: f"Other name {n}")


class AgreementFactory(factory.django.DjangoModelFactory):
    """A draft by default, as agreements start; pass status="published" for a public one."""

    class Meta:
        model = Agreement

    slug = factory.Sequence(lambda n: f"agreement-{n}")
    title = factory.Sequence(lambda n: f"Cooperation agreement {n}")
    agreement_type = factory.LazyFunction(lambda: AgreementType.objects.get(slug="cooperation"))
    status = Agreement.Status.DRAFT
    published_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == Agreement.Status.PUBLISHED else None
    )
    first_published_at = factory.LazyAttribute(lambda o: o.published_at)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    agreement = factory.SubFactory(AgreementFactory)
    institution = factory.SubFactory(InstitutionFactory)


class SignedAgreementFactory(AgreementFactory):
    """An agreement with a party, as the admin's form and the review workflow ask of one."""

    class Meta:
        skip_postgeneration_save = True  # the party is saved by itself

    party = factory.RelatedFactory(PartyFactory, factory_related_name="agreement")


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    agreement = factory.SubFactory(AgreementFactory)
    person = factory.SubFactory(PersonFactory)
    role = "witness"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    agreement = factory.SubFactory(AgreementFactory)
    url = factory.Sequence(lambda n: f"https://news.example.edu/{n}")
    title = factory.Sequence(lambda n: f"News {n}")


class PhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Photo

    agreement = factory.SubFactory(AgreementFactory)
    caption = "The signing ceremony."


class RelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementRelation

    source = factory.SubFactory(AgreementFactory)
    target = factory.SubFactory(AgreementFactory)
    type = "follows"


class LabFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lab

    name = factory.Sequence(lambda n: f"Joint Lab {n}")
    slug = factory.Sequence(lambda n: f"joint-lab-{n}")


class LabHostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabHost

    lab = factory.SubFactory(LabFactory)
    institution = factory.SubFactory(InstitutionFactory)


class LabAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LabAgreement

    lab = factory.SubFactory(LabFactory)
    agreement = factory.SubFactory(AgreementFactory)
    outcome = LabAgreement.Outcome.FOUNDED


class UserFactory(factory.django.DjangoModelFactory):
    """A staff member in one of the groups the migrations create ("Editors", "Publishers")."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        # Saved in a group or not: the password is set after the row was written, and
        # without it stored a signed-in client's session would not hold (force_login
        # remembers a hash of it), so a user "in no group" was anonymous.
        self.save()


def logged_in(user):
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


def two_companies_with_branches():
    """Two companies, each with a unit named "Tianjin Branch" (China Telecom's with a unit of
    its own), and a university: units of one name, told apart by their parent."""
    telecom = InstitutionFactory(name="China Telecom")
    branch = InstitutionFactory(name="Tianjin Branch", parent=telecom)
    InstitutionFactory(name="Binhai Office", parent=branch)
    unicom = InstitutionFactory(name="China Unicom")
    InstitutionFactory(name="Tianjin Branch", parent=unicom)
    InstitutionFactory(name="Tianjin University")
    return telecom, unicom
