from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "guanai.volunteers"
    label = "volunteers"
    verbose_name = "五老志愿者"
