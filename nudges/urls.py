from django.urls import path

from nudges import views

app_name = "nudges"
urlpatterns = [
    path("ops/", views.ops_dashboard, name="ops_dashboard"),
]
