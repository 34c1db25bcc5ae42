"""Closing an account erases its in-app messages and masks its phone in the SMS outbox
(the outbox row stays: it records that a message was sent, which the city may need to
show; the message bodies hold no ID or phone numbers)."""

from rencai.accounts.closing import register_eraser
from rencai.identity import mask_phone
from rencai.notifications.models import Message, SmsMessage


def erase_messages(user) -> dict[str, int]:
    removed = {"messages": Message.objects.filter(user=user).delete()[0]}
    if user.phone:
        masked = mask_phone(user.phone)
        field = SmsMessage._meta.get_field("phone")
        removed["sms_outbox_masked"] = SmsMessage.objects.filter(phone=user.phone).update(
            phone=masked, phone_index=field.index_of(masked)
        )
    return removed


register_eraser(erase_messages)
