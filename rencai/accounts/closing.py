"""The hook for refusing to close an account (F10).

A check is a callable ``check(user) -> str | None`` returning the reason for refusal, or
None. The application engine registers "an application is approved or under review"."""

_checks = []


def register_closure_check(check):
    if check not in _checks:
        _checks.append(check)
    return check


def closure_blockers(user) -> list[str]:
    return [reason for check in _checks if (reason := check(user))]


# --- Erasing what the law does not require us to keep (issue 8, PIPL art. 47) -------------
#
# An eraser is ``eraser(user) -> dict[str, int]`` (what it removed, for the audit row). It
# runs inside the closing transaction, before the account's own fields are cleared, so it
# can still read them (the phone, say). What stays: the name and ID number on the account
# and every application with its attached materials and history — subsidy records are
# public-money records an audit may ask for.

_erasers = []


def register_eraser(eraser):
    if eraser not in _erasers:
        _erasers.append(eraser)
    return eraser


def erase_personal_data(user) -> dict[str, int]:
    """Run every registered eraser, then clear the account's contact data. Returns the
    counts of what was removed."""
    from rencai.accounts.models import LoginLock, SmsCode, User

    removed: dict[str, int] = {}
    for eraser in _erasers:
        removed.update(eraser(user))
    if user.phone:
        removed["sms_codes"] = SmsCode.objects.filter(phone=user.phone).delete()[0]
    removed["login_locks"] = LoginLock.objects.filter(user=user).delete()[0]
    User.objects.filter(pk=user.pk).update(phone=None, phone_index=None, email="")
    user.phone, user.email = None, ""
    return removed
