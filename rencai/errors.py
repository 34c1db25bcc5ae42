class ServiceError(Exception):
    """A domain error with a message for the user (Chinese by default, translated through
    gettext) and, where it belongs to one, the form field it is about."""

    def __init__(self, message, *, field: str | None = None, code: str = "invalid"):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.code = code
