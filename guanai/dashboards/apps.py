from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "guanai.dashboards"
    label = "dashboards"
    verbose_name = "工作指标与统计"
