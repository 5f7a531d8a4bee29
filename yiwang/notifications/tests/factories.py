"""Test backends that record what they were asked to send."""


class RecordingSMS:
    """An SMS backend that keeps what it was asked to send (title, body, phone) in `RecordingSMS.sent`;
    `RecordingSMS.fail = True` makes it raise like a gateway that is down."""

    channel = "sms"
    sent: list[tuple[str, str, str]] = []
    fail = False

    def send(self, notification) -> None:
        if RecordingSMS.fail:
            raise ConnectionError("gateway down")
        RecordingSMS.sent.append((notification.title, notification.body, notification.phone))


class RecordingEmail:
    """An email backend like RecordingSMS: (title, body, address) in `RecordingEmail.sent`."""

    channel = "email"
    sent: list[tuple[str, str, str]] = []
    fail = False

    def send(self, notification) -> None:
        if RecordingEmail.fail:
            raise ConnectionError("mail server down")
        RecordingEmail.sent.append((notification.title, notification.body, notification.email))
