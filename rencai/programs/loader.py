"""Load a policy pack into the database (B1): ``manage.py load_policy policies/city.yaml``.
Loading again updates it: a program whose definition changed gets a new version; an
unchanged program keeps its version; a program dropped from the pack is deactivated
(its applications keep their version)."""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.profiles.materials import check_upload
from rencai.programs.models import Pack, Program, ProgramVersion
from rencai.programs.schema import PackError, validate_pack


@dataclass
class LoadReport:
    pack: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def _digest(value) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def parse_pack_file(path: str | Path) -> dict:
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackError(name, "", "file not found") from None
    except UnicodeDecodeError:
        raise PackError(name, "", "the file is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PackError(name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return validate_pack(data, name)


def _store_template(template: dict, filename: str, where: str) -> dict:
    """Check a blank form (申报表) like an upload and keep its bytes in the default
    storage under a name made of its SHA-256: the same file is stored once, and a
    changed file is a new name, so the definition (and the program's version) changes
    with it while older versions keep theirs."""
    source = Path(template["source"])
    with source.open("rb") as handle:
        try:
            checked = check_upload(File(handle, name=source.name))
        except ServiceError as exc:
            raise PackError(
                filename, where, f'template "{template["path"]}": {exc.message}'
            ) from None
        name = f"templates/{checked.sha256}.{checked.extension}"
        if not default_storage.exists(name):
            handle.seek(0)
            name = default_storage.save(name, ContentFile(handle.read()))
    return {
        "name": checked.original_name,
        "file": name,
        "sha256": checked.sha256,
        "size": checked.size,
    }


def _store_templates(pack_data: dict, filename: str) -> None:
    for i, program in enumerate(pack_data["programs"]):
        for j, spec in enumerate(program["materials"]):
            if "template" in spec:
                where = f"programs[{i}].materials[{j}].template"
                spec["template"] = _store_template(spec["template"], filename, where)


def load_pack(path: str | Path, *, actor=None) -> LoadReport:
    pack_data = parse_pack_file(path)
    source = str(path)
    # Stored before the transaction; a failed load leaves at most unused, content-named
    # files that a later load of the same template reuses.
    _store_templates(pack_data, source)
    report = LoadReport(pack=pack_data["pack"])
    with transaction.atomic():
        pack, _ = Pack.objects.select_for_update().get_or_create(
            code=pack_data["pack"],
            defaults={"name": pack_data["name"], "source": source, "sha256": ""},
        )
        pack.name = pack_data["name"]
        pack.source = source
        pack.sha256 = _digest(pack_data)
        pack.city = pack_data["city"]
        pack.talent = pack_data["talent"]
        pack.agency = pack_data["agency"]
        pack.active = True
        pack.save()
        codes = []
        for definition in pack_data["programs"]:
            codes.append(definition["code"])
            _load_program(pack, definition, report)
        for program in Program.objects.filter(pack=pack, active=True).exclude(code__in=codes):
            program.active = False
            program.save(update_fields=["active"])
            report.deactivated.append(program.code)
        audit_record(
            action="policy.load",
            actor=actor,
            obj=pack,
            after={
                "source": source,
                "sha256": pack.sha256,
                "created": report.created,
                "updated": report.updated,
                "deactivated": report.deactivated,
            },
        )
    from rencai.city import city_config_clear

    transaction.on_commit(city_config_clear)
    city_config_clear()
    return report


def _load_program(pack: Pack, definition: dict, report: LoadReport) -> None:
    digest = _digest(definition)
    program = Program.objects.select_for_update().filter(code=definition["code"]).first()
    if program is not None and program.pack_id != pack.pk:
        raise PackError(
            pack.source,
            f"programs[{definition['order']}].code",
            f'program "{program.code}" already belongs to the pack "{program.pack.code}"',
        )
    created = program is None
    if created:
        program = Program(pack=pack, code=definition["code"])
    program.name = definition["name"]
    program.category = definition["category"]
    program.category_name = definition["category_name"]
    program.applicant_kind = definition["applicant"]
    program.order = definition["order"]
    program.active = True
    program.save()
    current = program.current_version
    if current is not None and current.sha256 == digest:
        program.save()
        report.unchanged.append(program.code)
        return
    number = (current.number + 1) if current else 1
    version = ProgramVersion.objects.create(
        program=program, number=number, definition=definition, sha256=digest
    )
    program.current_version = version
    program.save(update_fields=["current_version"])
    (report.created if created else report.updated).append(program.code)
