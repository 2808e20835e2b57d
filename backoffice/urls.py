"""The reports of the back office, under /admin/reports/ (staff with the export permission)."""

from django.urls import path

from backoffice import views

app_name = "reports"
urlpatterns = [
    path("", views.report_index, name="index"),
    path("institutions.json", views.institution_choices, name="institutions"),
    # Before the reports' own addresses: no report may be named so.
    path("needs-attention/", views.needs_attention, name="attention"),
    path("<slug:slug>/", views.report_page, name="report"),
    path("<slug:slug>/download.<str:format>", views.report_download, name="download"),
]
