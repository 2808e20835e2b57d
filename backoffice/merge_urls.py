"""The admin's pages for duplicates and merges, under /admin/duplicates/ (merge_views.py)."""

from django.urls import path

from backoffice import merge_views

app_name = "duplicates"
urlpatterns = [
    path("", merge_views.index, name="index"),
    path("<str:kind>/", merge_views.duplicate_list, name="list"),
    path("<str:kind>/choose/", merge_views.choose, name="choose"),
    path("<str:kind>/merge/<int:survivor>/<int:duplicate>/", merge_views.merge, name="merge"),
    path("<str:kind>/not-a-duplicate/", merge_views.not_duplicate, name="not-duplicate"),
]
