"""The site under /mirror/: a URLconf other than the root's, for tests/test_addresses.py."""

from django.urls import include, path

urlpatterns = [path("mirror/", include("registry.urls"))]
