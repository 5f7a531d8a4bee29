"""The base world every benchmark stands on: the demo district's geography at a chosen scale (the demo
generator's own code, so grids tile exactly), its buildings, and its accounts — one grid worker per grid,
so scale 5.6 gives the 2,000 grid workers of a district like Lishi — plus API tokens and sessions for
the benchmark's clients."""

import random
import time

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

TOKEN_USERS = ("root", "qu_ddy", "qu_admin", "jd1_ddy", "sq01_01", "sq01_02")


def generate(scale: float, seed: int) -> dict:
    from yiwang.accounts.models import Membership, User
    from yiwang.demo.generate import DemoContext, generate_accounts, generate_buildings, generate_geography
    from yiwang.geography.models import Area, Building

    ctx = DemoContext(rng=random.Random(seed), scale=scale)
    with transaction.atomic():
        generate_geography(ctx)
        generate_buildings(ctx)
        generate_accounts(ctx)
    return {"grids": len(ctx.grids), "communities": len(ctx.communities), "buildings": Building.objects.count(),
            "users": User.objects.count(), "memberships": Membership.objects.count(),
            "areas": Area.objects.count()}


def token_key(username: str) -> str:
    return f"yiwang-bench-{username}-token-not-secret"


def api_tokens(usernames=TOKEN_USERS) -> dict[str, str]:
    """`Authorization` header values for benchmark users (created once, deterministic keys)."""
    from yiwang.accounts.models import ApiToken, User

    headers = {}
    for username in usernames:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        key = token_key(username)
        ApiToken.objects.get_or_create(digest=ApiToken.digest_of(key),
                                       defaults={"user": user, "name": "benchmark", "prefix": key[:8]})
        headers[username] = f"Token {key}"
    return headers


def grid_worker_tokens(limit: int) -> dict[str, str]:
    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role

    names = list(Membership.objects.filter(role=Role.GRID_WORKER).order_by("area__path")
                 .values_list("user__username", flat=True)[:limit])
    return api_tokens(names)


def session_cookie(username: str) -> str | None:
    """A signed-in session, as a browser would hold after the login page, for page benchmarks."""
    from yiwang.accounts.middleware import LOGIN_AT_KEY
    from yiwang.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[LOGIN_AT_KEY] = time.time()
    store.create()
    return f"sessionid={store.session_key}"
