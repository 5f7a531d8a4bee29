from time import monotonic

from django.db.models import FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from yiwang.core.prepared import PreparedQuery, instance_from_row
from yiwang.core.refcache import RefCache, count_and_last_change
from yiwang.geography.models import Area

from .models import MEMBERSHIP_COLUMNS, ApiToken, Department, Membership, User, membership_from_row

LAST_USED_EVERY_SECONDS = 60
# The token's own columns that authentication reads, and the whole user (it becomes request.user).
TOKEN_COLUMNS = ("id", "user_id", "name", "prefix", "last_used_at", "revoked_at",
                 *(f"user__{field.attname}" for field in User._meta.concrete_fields))
# With the user's active memberships (User.active_memberships' columns) joined: one row per membership, or
# one row without a membership.
_MEMBERSHIP = "active_membership__"
_TOKEN_BY_DIGEST = PreparedQuery(
    lambda digest: ApiToken.objects.filter(digest=digest)
    .annotate(active_membership=FilteredRelation("user__memberships", condition=Q(user__memberships__active=True)))
    .order_by(f"{_MEMBERSHIP}id").values(*TOKEN_COLUMNS, *(_MEMBERSHIP + column for column in MEMBERSHIP_COLUMNS)),
    digest=(ApiToken._meta.get_field("digest"), "\x1fdigest\x1f"), prepare=True)


# What a token's query returned, kept per process by digest: the API's every request read it (a five-table
# join), a tenth of an intake's CPU. The cache is dropped whenever a token, user, membership, department or
# area changes: at once in the process that saved it (signals), within RECHECK_SECONDS in the others (the
# signature: each table's row count and latest updated_at), and each entry is read again after
# MAX_AGE_SECONDS whatever happened, for a change written past the models (update(), SQL by hand) that
# leaves updated_at as it was. So a revoked token, a disabled account or a removed membership counts in
# every process within two seconds. Tests: yiwang/accounts/tests/test_token_cache.py.
_WATCHED = (ApiToken, User, Membership, Department, Area)
RECHECK_SECONDS = 2.0
MAX_AGE_SECONDS = 60.0
_TOKENS: RefCache[dict] = RefCache("accounts.api_tokens", dict, lambda: count_and_last_change(*_WATCHED),
                                   recheck_seconds=RECHECK_SECONDS, watch=_WATCHED)


def _token_rows(digest: str) -> list[dict]:
    known = _TOKENS.get()
    entry = known.get(digest)
    now = monotonic()
    if entry is None or now - entry[0] > MAX_AGE_SECONDS:
        rows = _TOKEN_BY_DIGEST.rows(digest=digest)
        if not rows:
            return rows  # unknown keys are not kept: guessing cannot fill the memory
        known[digest] = entry = (now, rows)
    return entry[1]


def token_with_user(digest: str) -> ApiToken | None:
    """The token with this digest, its user and the user's active memberships (what scoping reads next):
    one indexed query, compiled once per process, its rows kept per process (see _TOKENS). Each request
    gets objects of its own, built from those rows."""
    rows = _token_rows(digest)
    if not rows:
        return None
    token = instance_from_row(ApiToken, rows[0])
    token.user = user = instance_from_row(User, rows[0], prefix="user__")
    start = len(_MEMBERSHIP)
    user._membership_cache = [
        membership_from_row(user, {key[start:]: value for key, value in row.items() if key.startswith(_MEMBERSHIP)})
        for row in rows if row[f"{_MEMBERSHIP}id"] is not None]
    return token


def _used(digest: str, now) -> None:
    """Note in the kept rows that "last used" was written (update() sends no signal that would drop them)."""
    entry = _TOKENS.get().get(digest)
    for row in entry[1] if entry else ():
        row["last_used_at"] = now


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`) with a per-user, revocable key."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        key = header[1].decode(errors="replace")
        digest = ApiToken.digest_of(key)
        token = token_with_user(digest)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid API token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        # "Last used" is for people reviewing their tokens: a write at most once a minute, not per request.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            _used(digest, now)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
