from django.db.models import FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from yiwang.core.prepared import PreparedQuery, instance_from_row

from .models import MEMBERSHIP_COLUMNS, ApiToken, User, membership_from_row

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


def token_with_user(digest: str) -> ApiToken | None:
    """The token with this digest, its user and the user's active memberships (what scoping reads next):
    one indexed query, compiled once per process (it runs on every API request). Nothing is cached across
    requests: a revoked token, a disabled account or a removed membership counts from its next use."""
    rows = _TOKEN_BY_DIGEST.rows(digest=digest)
    if not rows:
        return None
    token = instance_from_row(ApiToken, rows[0])
    token.user = user = instance_from_row(User, rows[0], prefix="user__")
    start = len(_MEMBERSHIP)
    user._membership_cache = [
        membership_from_row(user, {key[start:]: value for key, value in row.items() if key.startswith(_MEMBERSHIP)})
        for row in rows if row[f"{_MEMBERSHIP}id"] is not None]
    return token


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
        token = token_with_user(ApiToken.digest_of(key))
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
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
