"""URLs of program reports, staff exports and the sponsor's pages (namespace reports)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("ops/programs/", views.staff_programs, name="staff_programs"),
    path(
        "ops/programs/<uuid:public_id>/report/",
        views.staff_program_report,
        name="staff_program_report",
    ),
    path("ops/exports/engagements.csv", views.export_engagements, name="export_engagements"),
    path("ops/exports/sessions.csv", views.export_sessions, name="export_sessions"),
    path("sponsor/", views.sponsor_home, name="sponsor_home"),
    path(
        "sponsor/programs/<uuid:public_id>/",
        views.sponsor_program_report,
        name="sponsor_program_report",
    ),
]
