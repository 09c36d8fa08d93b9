from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Session ratings and the closing survey, and what each role sees of them."""

    name = "feedback"
