from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "guanai.audit"
    label = "audit"
    verbose_name = "审计日志"
