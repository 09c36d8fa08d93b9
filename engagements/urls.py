from django.urls import path

from engagements import views

urlpatterns = [
    path("", views.home, name="home"),
    # Choosing a coach: a page about the participant's engagement, under /coaches/.
    path("coaches/", views.directory, name="directory"),
    path("coaches/<uuid:public_id>/select/", views.select_coach, name="select_coach"),
    path("coach/", views.coach_workspace, name="coach_workspace"),
    path("coach/engagements/<uuid:public_id>/", views.coach_engagement, name="coach_engagement"),
    path(
        "coach/engagements/<uuid:public_id>/sessions/<uuid:session_id>/edit/",
        views.coach_session_edit,
        name="coach_session_edit",
    ),
    path(
        "coach/engagements/<uuid:public_id>/sessions/<uuid:session_id>/void/",
        views.coach_session_void,
        name="coach_session_void",
    ),
]
