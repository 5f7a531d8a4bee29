"""The default channel backends: they write the message to the log instead of sending it.

A backend is a class with `channel` and `send(notification) -> None`; `send` raises on failure (the
delivery is then retried). It reads `notification.title`, `.body`, `.link`, `.user`, `.email` and
`.phone` (decrypted on access; `.phone_masked` for logs).
"""

import logging

logger = logging.getLogger("yiwang.notify")


class ConsoleBackend:
    """Writes the message to the log (stderr); the default for every channel."""

    channel = "console"

    def send(self, notification) -> None:
        target = notification.phone_masked or notification.email or (notification.user and notification.user.username)
        logger.warning("[%s → %s] %s %s", self.channel, target, notification.title, notification.body)


class ConsoleSMS(ConsoleBackend):
    channel = "sms"


class ConsoleEmail(ConsoleBackend):
    channel = "email"


class ConsoleWeChat(ConsoleBackend):
    """Stands in for a WeChat template message (openid + template id + data) until one is configured."""

    channel = "wechat"
