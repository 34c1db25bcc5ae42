from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "rencai.review"
    verbose_name = "审核工作台"
