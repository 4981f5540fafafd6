from django.apps import AppConfig


class CafesConfig(AppConfig):
    name = "guanai.cafes"
    label = "cafes"
    verbose_name = "网吧义务监督"
