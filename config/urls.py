from django.contrib import admin
from django.urls import include, path

from config import views

# The branded 500 page (config/error_pages.py); Django finds 400, 403 and 404 by template.
handler500 = "config.error_pages.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("engagements.urls")),
    path("", include("coaches.urls")),
    path("", include("nudges.urls")),
    path("", include("feedback.urls")),
    path("", include("scheduling.urls")),
    path("", include("reports.urls")),
]
