from django.urls import path

from engagements import views

urlpatterns = [
    path("", views.home, name="home"),
    path("coach/", views.coach_workspace, name="coach_workspace"),
    path("coach/engagements/<uuid:public_id>/", views.coach_engagement, name="coach_engagement"),
    path(
        "coach/engagements/<uuid:public_id>/sessions/<uuid:session_id>/edit/",
        views.coach_session_edit,
        name="coach_session_edit",
    ),
]
