"""Signing test clients in the way the real code flow does."""

from __future__ import annotations

from django.test import Client

from accounts.models import User


def login_verified(client: Client, user: User) -> Client:
    """Sign `user` in as the code flow would: a session verified by their OTP device.

    The admin admits only verified staff sessions; force_login alone is refused.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import EmailCodeDevice

    device, _ = EmailCodeDevice.objects.get_or_create(user=user, defaults={"name": "Email"})
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# A code-verified session (every staff page needs one) reads its OTP device on its
# first request; later requests take it from the cache (accounts/backends.py).
OTP_DEVICE_QUERY = 1
