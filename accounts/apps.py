from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Accounts and audit"


class CoachdeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the OTP-verified admin site as the default site."""

    default = False
    default_site = "accounts.admin_site.CoachdeskAdminSite"
