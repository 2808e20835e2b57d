from django.urls import path

from labs import views

app_name = "labs"
urlpatterns = [
    path("labs/", views.lab_list, name="list"),
    path("labs/<str:slug>/", views.lab_detail, name="detail"),
]
