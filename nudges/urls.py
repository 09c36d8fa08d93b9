from django.urls import path

from nudges import views

app_name = "nudges"
urlpatterns = [
    path("ops/", views.ops_dashboard, name="ops_dashboard"),
    path("ops/remind/", views.ops_remind, name="ops_remind"),
    path("ops/engagements/<uuid:public_id>/", views.ops_engagement, name="ops_engagement"),
    path(
        "ops/engagements/<uuid:public_id>/<slug:action>/",
        views.ops_engagement_action,
        name="ops_engagement_action",
    ),
]
