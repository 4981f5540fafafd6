from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "guanai.committees"
    label = "committees"
    verbose_name = "关工委组织"
