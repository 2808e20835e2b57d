import pytest

from tests.factories import AgreementFactory, PartyFactory


@pytest.mark.django_db
def test_factories_build_a_published_agreement():
    party = PartyFactory(agreement=AgreementFactory(status="published"))
    assert party.agreement.published_at is not None
