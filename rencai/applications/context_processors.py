from rencai.notifications.models import Message

# The badge counts up to this many unread messages, then shows "99+".
BADGE_MAX = 99


def inbox(request):
    """The unread badge and the corner pop-up (F38), in one indexed query: the newest
    unread messages, at most one more than the badge counts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    newest = list(
        Message.objects.filter(user=user, read_at__isnull=True)
        .only("id", "title", "body", "link")
        .order_by("-id")[: BADGE_MAX + 1]
    )
    unread = len(newest) if len(newest) <= BADGE_MAX else f"{BADGE_MAX}+"
    return {"inbox": {"unread": unread, "latest": newest[0] if newest else None}}
