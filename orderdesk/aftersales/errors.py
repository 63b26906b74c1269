from orderdesk.errors import DomainError, NotFound


class CaseNotFound(NotFound):
    def __init__(self):
        super().__init__("That after-sales case does not exist.")


class InvalidCase(DomainError):
    """The case's type, mode, products, words or amounts break a rule."""


class CaseStatusRefused(DomainError):
    """The case's status (or who is asking) does not allow this step."""
