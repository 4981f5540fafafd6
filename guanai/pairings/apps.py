from django.apps import AppConfig


class PairingsConfig(AppConfig):
    name = "guanai.pairings"
    label = "pairings"
    verbose_name = "结对关爱"
