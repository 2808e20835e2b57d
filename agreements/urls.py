from django.urls import path

from agreements import feeds, pages, views

app_name = "agreements"
urlpatterns = [
    path("agreements/", views.search, name="search"),
    path("agreements/export.<str:format>", views.export, name="export"),
    path("agreements/feed.atom", feeds.feed, name="feed"),
    path("agreements/<slug:slug>/", pages.agreement_detail, name="detail"),
    path("institutions/", pages.institution_list, name="institution-list"),
    path("institutions/<str:slug>/", pages.institution_detail, name="institution-detail"),
    path(
        "institutions/<str:slug>/people/",
        pages.institution_people,
        name="institution-people",
    ),
    path("people/<str:slug>/", pages.person_detail, name="person-detail"),
    path("technologies/", pages.focus_area_list, name="focus-area-list"),
    path("technologies/<str:slug>/", pages.focus_area_detail, name="focus-area-detail"),
]
