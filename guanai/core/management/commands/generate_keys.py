from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from guanai.core import keys


class Command(BaseCommand):
    help = (
        "生成字段加密密钥 (Generate the SM4 field keys and the blind-index key). Without options the "
        "settings are printed; --dir writes DIR/field-keys and DIR/blind-index-key (mode 0600, existing "
        "files are left alone); --add appends a new newest field key before `rotate_keys`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir", type=Path, default=None, help=_("写入密钥文件的目录（不要放在代码仓库里）")
        )
        parser.add_argument(
            "--add",
            action="store_true",
            help=_("在字段密钥文件末尾追加一把新密钥（--dir 下的，或 GUANAI_FIELD_KEYS_FILE 指向的）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path | None = options["dir"]
        if options["add"]:
            path = directory / keys.FIELD_KEYS_FILE_NAME if directory else keys.field_keys_file()
            self.add_key(path)
        elif directory is not None:
            self.write_files(directory)
        else:
            self.stdout.write(f"{keys.FIELD_KEYS}={keys.new_field_key_entry('k1')}")
            self.stdout.write(f"{keys.BLIND_INDEX_KEY}={keys.new_blind_index_key_text().strip()}")

    def write_files(self, directory: Path) -> None:
        for name, make in (
            (keys.FIELD_KEYS_FILE_NAME, keys.new_field_keys_text),
            (keys.BLIND_INDEX_KEY_FILE_NAME, keys.new_blind_index_key_text),
        ):
            path = directory / name
            if keys.write_new_file(path, make()):
                self.stdout.write(_("已生成 %(path)s") % {"path": path})
            else:
                self.stdout.write(_("%(path)s 已存在，未改动") % {"path": path})
        self.stdout.write(
            f"{keys.FIELD_KEYS}_FILE={directory / keys.FIELD_KEYS_FILE_NAME}\n"
            f"{keys.BLIND_INDEX_KEY}_FILE={directory / keys.BLIND_INDEX_KEY_FILE_NAME}"
        )

    def add_key(self, path: Path | None) -> None:
        if path is None:
            try:
                key_id = keys.next_key_id(keys.key_ring().field_keys)
            except ImproperlyConfigured:
                key_id = "k2"
            raise CommandError(
                _(
                    "字段密钥直接写在 GUANAI_FIELD_KEYS 中，没有可追加的文件：请把下面这一项加到它的末尾，"
                    "或用 --dir 指定密钥目录。\n%(entry)s"
                )
                % {"entry": keys.new_field_key_entry(key_id)}
            )
        try:
            existing = keys.parse_field_keys(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as error:
            raise CommandError(_("无法读取 %(path)s：%(error)s") % {"path": path, "error": error}) from error
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        key_id = keys.next_key_id(existing)
        keys.replace_file(path, keys.format_field_keys(existing) + keys.new_field_key_entry(key_id) + "\n")
        self.stdout.write(
            _(
                "已在 %(path)s 追加密钥 %(key_id)s，它现在是最新的加密密钥。重启所有进程后运行 "
                "`manage.py rotate_keys`；旧密钥在轮换完成前不要删除。"
            )
            % {"path": path, "key_id": key_id}
        )
