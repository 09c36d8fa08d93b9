from django.urls import path, re_path

from coaches import views

app_name = "coaches"

urlpatterns = [
    path("coach/profile/", views.profile_edit, name="profile"),
    # Under MEDIA_URL, so a photo's .url is this route; names as photo_reencode gives them.
    re_path(r"^media/coaches/(?P<name>[0-9a-f]{32}\.jpg)$", views.photo, name="photo"),
]
