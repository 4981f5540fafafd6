from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "guanai.notifications"
    label = "notifications"
    verbose_name = "通知"
