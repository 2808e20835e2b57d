"""Records' addresses made from routes reversed once (registry/addresses.py) are reverse()'s."""

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import translation

from registry.addresses import record_url

# Agreements' slugs are ASCII (their route's converter is `slug`); the others' may be any word.
SLUGS = {
    "agreements:detail": ["huawei-2019-smart-campus", "eth_2"],
    "agreements:institution-detail": ["huawei", "华为技术", "zürich_eth-2"],
    "agreements:person-detail": ["zhang-wei", "张伟"],
    "agreements:focus-area-detail": ["5g", "人工智能"],
    "labs:detail": ["joint-lab", "联合实验室"],
}
CASES = [(name, slug) for name, slugs in SLUGS.items() for slug in slugs]


@pytest.fixture
def script_prefix():
    yield set_script_prefix
    set_script_prefix("/")


@pytest.mark.parametrize(("name", "slug"), CASES)
def test_an_address_is_what_reverse_gives(name, slug, script_prefix):
    assert record_url(name, slug) == reverse(name, args=[slug])
    script_prefix("/registry/")
    assert record_url(name, slug) == reverse(name, args=[slug])
    assert record_url(name, slug).startswith("/registry/")


def test_an_address_follows_the_language():
    with translation.override("zh-hans"):
        assert record_url("labs:detail", "a") == reverse("labs:detail", args=["a"])


def test_an_address_follows_the_urlconf(settings):
    assert record_url("labs:detail", "a") == "/labs/a/"
    settings.ROOT_URLCONF = "tests.urls_mirror"
    assert record_url("labs:detail", "a") == reverse("labs:detail", args=["a"]) == "/mirror/labs/a/"
