from allauth.account.adapter import DefaultAccountAdapter


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    """Nobody signs up alone: people join a shop by its owner's invitation.

    This also closes sign-up through Facebook (allauth's social adapter asks this one),
    so a Facebook account signs in only once its owner has connected it from the Account page.
    """

    def is_open_for_signup(self, request) -> bool:
        return False
