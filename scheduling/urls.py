from django.urls import path, re_path

from scheduling import hooks, views

app_name = "scheduling"

# The coach's endpoint token, as scheduling.models.new_token makes it.
ENDPOINT = r"(?P<token>[A-Za-z0-9_-]{16,64})"

urlpatterns = [
    path("coach/profile/bookings/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path("coach/bookings/<uuid:public_id>/confirm/", views.confirm, name="booking_confirm"),
    path("sessions/<uuid:public_id>/calendar.ics", views.session_ics, name="session_ics"),
    path("ops/bookings/<uuid:public_id>/assign/", views.assign, name="booking_assign"),
    path("ops/bookings/<uuid:public_id>/dismiss/", views.dismiss, name="booking_dismiss"),
    re_path(rf"^hooks/calendly/{ENDPOINT}/$", hooks.calendly_hook, name="calendly_hook"),
    re_path(rf"^hooks/calcom/{ENDPOINT}/$", hooks.calcom_hook, name="calcom_hook"),
]
