from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "sosocial-demo"  # noqa: S105  (development only: `make run`)
# Notification email for the demo lands in the local mail catcher, never outside.
DEMO_EMAIL = "demo@sosocial.localhost"


class Command(BaseCommand):
    help = "Create the demo login used by `make run` (development only) and print how to sign in."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "demo_setup creates a superuser with a published password; it refuses to run with "
                "SOSOCIAL_ENV=production. Use `manage.py createsuperuser` instead."
            )
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        if not user.email:
            user.email = DEMO_EMAIL
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                "\nSoSocial is starting at http://127.0.0.1:8000/  "
                f"(sign in as {DEMO_USERNAME} / {DEMO_PASSWORD}; admin at /admin/;\n"
                "email it is sent is caught locally: http://127.0.0.1:8000/notifications/dev-mail/)\n"
            )
        )
