from django.apps import AppConfig


class MinorsConfig(AppConfig):
    name = "guanai.minors"
    label = "minors"
    verbose_name = "困难青少年信息管理"
