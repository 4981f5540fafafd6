from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "guanai.imports"
    label = "imports"
    verbose_name = "花名册导入"
