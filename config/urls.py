from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("engagements.urls")),
    path("", include("coaches.urls")),
    path("", include("nudges.urls")),
    path("", include("feedback.urls")),
    path("", include("reports.urls")),
]
