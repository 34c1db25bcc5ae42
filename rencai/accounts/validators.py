"""Password rules beyond Django's (issue 8). Staff and administrator passwords follow
China's graded protection (MLPS level 3): longer, and made of at least three of the four
character classes. Other accounts keep Django's length and common-password rules only,
as ASVS 5.0 advises."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _is_privileged(user) -> bool:
    if user is None:
        return False
    if getattr(user, "kind", None) == "staff":
        return True
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def character_classes(password: str) -> int:
    return sum(
        (
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class StaffPasswordValidator:
    """For staff (kind "staff") and administrators (is_staff or is_superuser):
    at least ``min_length`` characters and ``min_classes`` of upper case, lower case,
    digits and symbols. Every place Django or a service sets a password calls it with the
    user, so the admin's add and change forms, password change and reset all apply it."""

    def __init__(self, min_length: int = 10, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if not _is_privileged(user):
            return
        errors = []
        if len(password) < self.min_length:
            errors.append(
                ValidationError(
                    _("工作人员和管理员的密码至少%(n)d位。") % {"n": self.min_length},
                    code="staff_password_too_short",
                )
            )
        if character_classes(password) < self.min_classes:
            errors.append(
                ValidationError(
                    _("工作人员和管理员的密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。")
                    % {"n": self.min_classes},
                    code="staff_password_too_simple",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return _(
            "工作人员和管理员的密码至少%(n)d位，并包含大写字母、小写字母、数字、符号中的至少%(c)d类。"
        ) % {"n": self.min_length, "c": self.min_classes}
