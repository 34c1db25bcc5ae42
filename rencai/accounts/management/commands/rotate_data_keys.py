from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from rencai import crypto
from rencai.audit.services import audit_record
from rencai.fields import EncryptedCharField


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (ID numbers, phones, bank accounts) with the first "
        "key of RENCAI_DATA_KEYS and recompute the blind indexes with RENCAI_INDEX_KEY. Run "
        "after putting a new key first; drop the old key once this has finished."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=1000)

    def handle(self, *args, chunk, **options):
        kid, _keys = crypto.data_keys()
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
            if not fields:
                continue
            names = [f.name for f in fields] + [f.index_field for f in fields if f.index_field]
            last, count = 0, 0
            while True:
                with transaction.atomic():
                    rows = list(
                        model._default_manager.select_for_update()
                        .filter(pk__gt=last)
                        .order_by("pk")[:chunk]
                    )
                    for obj in rows:
                        # Reading decrypted with whichever key; saving encrypts anew.
                        obj.save(update_fields=names)
                if not rows:
                    break
                last, count = rows[-1].pk, count + len(rows)
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        with transaction.atomic():
            audit_record(action="data_keys.rotate", extra={"key": kid, "rows": total})
        self.stdout.write(self.style.SUCCESS(f"{total} rows now under key {kid}."))
