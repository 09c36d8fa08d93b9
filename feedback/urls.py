"""URLs of the participant's feedback: rating a session, the closing survey."""

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("sessions/<uuid:public_id>/rating/", views.rate_session, name="rate_session"),
    path("engagements/<uuid:public_id>/survey/", views.closing_survey, name="closing_survey"),
]
