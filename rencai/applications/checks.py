"""F10: closing an account is refused while an application is approved or in review."""

from rencai.accounts.closing import register_closure_check


def _blocker(user):
    from rencai.applications.transitions import closure_blocker

    return closure_blocker(user)


register_closure_check(_blocker)
