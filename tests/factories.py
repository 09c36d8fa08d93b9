from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db.models import Model
from django.utils import timezone

from accounts.models import Role, User
from coaches.models import CoachProfile, Language, Specialty
from engagements.models import CoachingSession, Engagement, Organization, Outcome, Program

M = TypeVar("M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """A factory whose call, `UserFactory(...)`, is typed as the model it creates.

    factory-boy 3.3 types `create()` and `build()` by the generic parameter, but a
    call goes through its metaclass, so mypy types it as the factory class
    (python/mypy#14122). The `__new__` below exists for mypy only; at run time
    the metaclass still creates the object.
    """

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> M:  # type: ignore[misc]  # see docstring
            ...


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.PARTICIPANT

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return model_class.objects.create_user(*args, **kwargs)


class SpecialtyFactory(ModelFactory[Specialty]):
    class Meta:
        model = Specialty
        django_get_or_create = ("name",)

    name = factory.Iterator(["Leadership", "Communication", "Resilience", "Career"])


class LanguageFactory(ModelFactory[Language]):
    class Meta:
        model = Language
        django_get_or_create = ("code",)

    code = "en"
    name = "English"


class CoachFactory(ModelFactory[CoachProfile]):
    class Meta:
        model = CoachProfile

    user = factory.SubFactory(UserFactory, role=Role.COACH)
    headline = factory.Faker("sentence", nb_words=6)
    bio = factory.Faker("paragraph")
    time_zone = "Europe/Paris"
    booking_url = factory.Sequence(lambda n: f"https://cal.example.com/coach-{n}")
    capacity = 10
    accepting_new = True


class OrganizationFactory(ModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Client {n}")


class ProgramFactory(ModelFactory[Program]):
    class Meta:
        model = Program

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Program {n}")
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=150))
    sessions_per_engagement = 6


class EngagementFactory(ModelFactory[Engagement]):
    """An engagement in `invited`; move it on with transition_to, as the code does."""

    class Meta:
        model = Engagement

    participant = factory.SubFactory(UserFactory, role=Role.PARTICIPANT)
    program = factory.SubFactory(ProgramFactory)


class SessionFactory(ModelFactory[CoachingSession]):
    class Meta:
        model = CoachingSession

    engagement = factory.SubFactory(EngagementFactory)
    coach = factory.SubFactory(CoachFactory)
    number = factory.Sequence(lambda n: n + 1)
    held_on = factory.LazyFunction(timezone.localdate)
    duration_minutes = 60
    outcome = Outcome.HELD
    notes = ""


def engagement_with_coach(*, coach: CoachProfile | None = None, **kwargs: Any) -> Engagement:
    """An engagement moved to coach_selected through the transition method."""
    engagement = EngagementFactory(**kwargs)
    engagement.transition_to("coach_selected", changes={"coach": coach or CoachFactory()})
    return engagement
