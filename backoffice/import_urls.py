"""Importing agreements in the admin, under /admin/import/ (backoffice/import_views.py)."""

from django.urls import path

from backoffice import import_views

app_name = "agreement_import"
urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("confirm/", import_views.confirm, name="confirm"),
    path("template.<str:format>", import_views.template, name="template"),
]
