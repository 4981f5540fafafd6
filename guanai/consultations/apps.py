from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "guanai.consultations"
    label = "consultations"
    verbose_name = "网上律师事务所与心理志愿服务"
