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
