from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "guanai.mentoring"
    label = "mentoring"
    verbose_name = "帮教"
