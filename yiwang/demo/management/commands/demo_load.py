import time

from django.core.management.base import BaseCommand, CommandError

from yiwang.demo.generate import DEMO_PASSWORD
from yiwang.demo.loader import demo_is_loaded, demo_load, known_logins


def print_logins(write, logins) -> None:
    write("")
    write("Demo logins (password for all: %s)" % DEMO_PASSWORD)
    write("演示账号（密码均为 %s）" % DEMO_PASSWORD)
    width = max(len(role) for role, _u, _s in logins)
    for role, username, scope in logins:
        write(f"  {role.ljust(width)}  {username.ljust(14)}  {scope}")


class Command(BaseCommand):
    help = "Load the deterministic demo district (Lishi-like) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="multiply grids, buildings and records")
        parser.add_argument("--seed", type=int, default=20261128)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if areas already exist")

    def handle(self, *args, scale, seed, if_empty, **options):
        if demo_is_loaded():
            if if_empty:
                self.stdout.write("Demo district already loaded.")
                return
            raise CommandError("The database already has areas; the demo loads only into an empty database.")
        started = time.monotonic()
        self.stdout.write(f"Loading the demo district (scale {scale}, seed {seed})...")
        ctx = demo_load(seed=seed, scale=scale, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(
            f"Loaded {len(ctx.subdistricts)} subdistricts, {len(ctx.communities)} communities, {len(ctx.grids)} grids, "
            f"{len(ctx.buildings)} buildings in {time.monotonic() - started:.1f}s."))
        print_logins(self.stdout.write, known_logins())
