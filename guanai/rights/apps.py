from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "guanai.rights"
    label = "rights"
    verbose_name = "个人信息主体权利请求"
