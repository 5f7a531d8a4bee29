"""`make run`: migrate, load the demo on first run, print logins, then serve with periodic work in-process."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from yiwang.core.periodic import start_in_process_runner
from yiwang.demo.generate import DEMO_PASSWORD

from .demo_load import print_logins


class Command(BaseCommand):
    help = "Run the embedded platform: migrate, load the demo if empty, start periodic work and the server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("demo_load", if_empty=True)
        from yiwang.demo.loader import known_logins

        print_logins(self.stdout.write, known_logins())
        if not settings.CELERY_BROKER_URL:
            start_in_process_runner()
            self.stdout.write("Background and periodic tasks run in-process (no broker configured).")
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(self.style.SUCCESS(f"\nYiwang is running: http://{host}/  (sign in with a login above; "
                                             f"password {DEMO_PASSWORD})\n"))
        call_command("runserver", addrport, use_reloader=False, skip_checks=False)
