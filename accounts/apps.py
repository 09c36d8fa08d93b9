from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self) -> None:
        """Retry failed email tasks (django.tasks has no retries of its own); register
        the deploy check of SITE_URL; forget a cached user or OTP device row when it is
        written."""
        from django.db.models.signals import post_delete, post_save
        from django.tasks.signals import task_finished

        from accounts import checks  # noqa: F401 - registers the checks
        from accounts.backends import device_changed, user_saved
        from accounts.emails import email_retry_failed
        from accounts.models import EmailCodeDevice, User

        task_finished.connect(email_retry_failed, dispatch_uid="accounts.email_retry_failed")
        post_save.connect(user_saved, sender=User, dispatch_uid="accounts.user_saved")
        for signal in (post_save, post_delete):
            signal.connect(device_changed, sender=EmailCodeDevice, dispatch_uid="accounts.device")


class CoachdeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the OTP-verified admin site as the default site."""

    default = False
    default_site = "accounts.admin_site.CoachdeskAdminSite"
