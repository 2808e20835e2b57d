from django.urls import path

from api import openapi, views

app_name = "api"
urlpatterns = [
    path("", views.index, name="index"),
    path("openapi.json", openapi.schema, name="openapi"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/<str:slug>/", views.agreement, name="agreement"),
    path("withdrawn/", views.withdrawn, name="withdrawn"),
    path("institutions/", views.institutions, name="institutions"),
    path("institutions/<str:slug>/", views.institution, name="institution"),
    path("people/", views.people, name="people"),
    path("people/<str:slug>/", views.person, name="person"),
    path("labs/", views.labs, name="labs"),
    path("labs/<str:slug>/", views.lab, name="lab"),
    path("focus-areas/", views.focus_areas, name="focus-areas"),
    path("focus-areas/<str:slug>/", views.focus_area, name="focus-area"),
]
