from rencai.notifications.models import Message


def inbox(request):
    """The unread badge and the corner pop-up (F38): two small indexed queries."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = Message.objects.filter(user=user, read_at__isnull=True)
    return {"inbox": {"unread": unread.count(), "latest": unread.order_by("-id").first()}}
