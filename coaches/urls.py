from django.urls import path

from coaches import views

app_name = "coaches"

urlpatterns = [
    path("coaches/", views.directory, name="directory"),
    path("coaches/<uuid:public_id>/select/", views.select, name="select"),
    path("coach/profile/", views.profile_edit, name="profile"),
]
