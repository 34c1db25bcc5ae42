"""Create (or refresh) the demo city: one city with three districts, their authorities,
approved employers (one labour-dispatch company) and one account per persona."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from rencai.accounts.models import User
from rencai.identity import credit_code_check_char, resident_id_check_digit
from rencai.orgs.models import Authority, Employer, Membership, Region
from rencai.profiles.demo import load_demo_lists
from rencai.programs.loader import load_pack

PASSWORD = "Rencai@Demo2026"


def demo_id_number(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def demo_credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


class Command(BaseCommand):
    help = "Load the demo city with one account per persona (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        province, _ = Region.objects.update_or_create(
            code="990000", defaults={"name": "示范省", "level": Region.Level.PROVINCE}
        )
        city, _ = Region.objects.update_or_create(
            code="990100",
            defaults={"name": "示范市", "level": Region.Level.CITY, "parent": province},
        )
        districts = {}
        for code, name in [("990102", "东城区"), ("990103", "西城区"), ("990121", "南山县")]:
            districts[code], _ = Region.objects.update_or_create(
                code=code, defaults={"name": name, "level": Region.Level.DISTRICT, "parent": city}
            )

        def authority(region, kind, name):
            obj, _ = Authority.objects.get_or_create(region=region, kind=kind, name=name)
            return obj

        city_hr = authority(city, Authority.Kind.HR_BUREAU, "示范市人力资源和社会保障局")
        authority(city, Authority.Kind.ORG_DEPARTMENT, "中共示范市委组织部")
        city_finance = authority(city, Authority.Kind.FINANCE_BUREAU, "示范市财政局")
        authority(city, Authority.Kind.TALENT_OFFICE, "示范市人才工作领导小组办公室")
        authority(city, Authority.Kind.EXPERT_CENTRE, "示范市专家服务中心")
        district_hr = {}
        for code, region in districts.items():
            district_hr[code] = authority(
                region, Authority.Kind.HR_BUREAU, f"{region.name}人力资源和社会保障局"
            )
            authority(region, Authority.Kind.FINANCE_BUREAU, f"{region.name}财政局")
            authority(region, Authority.Kind.ORG_DEPARTMENT, f"中共{region.name}委组织部")
            Employer.objects.update_or_create(
                kind=Employer.Kind.VIRTUAL,
                district=region,
                defaults={
                    "name": f"{region.name}虚拟单位（跨区县申报）",
                    "status": Employer.Status.APPROVED,
                },
            )

        def employer(first17, name, kind, district_code, contact, phone):
            obj, _ = Employer.objects.update_or_create(
                credit_code=demo_credit_code(first17),
                defaults={
                    "name": name,
                    "kind": kind,
                    "district": districts.get(district_code, city),
                    "contact_name": contact,
                    "phone": phone,
                    "status": Employer.Status.APPROVED,
                },
            )
            return obj

        tech = employer(
            "91990102MA0000001",
            "示范市星河科技有限公司",
            Employer.Kind.ENTERPRISE,
            "990102",
            "王经理",
            "13800000002",
        )
        employer(
            "12990103MB0000002",
            "示范市第一人民医院",
            Employer.Kind.INSTITUTION,
            "990103",
            "李主任",
            "13800000012",
        )
        employer(
            "91990121MA0000003",
            "南山县新材料股份有限公司",
            Employer.Kind.ENTERPRISE,
            "990121",
            "赵经理",
            "13800000013",
        )
        employer(
            "91990102MA0000004",
            "示范市众诚劳务派遣有限公司",
            Employer.Kind.DISPATCH,
            "990102",
            "陈经理",
            "13800000014",
        )

        def account(username, kind, real_name, phone, **extra):
            if extra.get("id_number"):  # a person: the same ID number is the same person
                found = User.objects.filter(id_number=extra["id_number"]).first()
                if found is not None and found.username != username:
                    found.username = username
                    found.save(update_fields=["username"])
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "kind": kind,
                    "real_name": real_name,
                    "phone": phone,
                    "is_active": True,
                    "closed_at": None,
                    **extra,
                },
            )
            user.set_password(PASSWORD)
            user.save()
            return user

        rows = []
        applicant_id = demo_id_number("99010219980312451")
        account(
            "zhangxiaoming",  # logs in by ID number too; never the ID number as login name
            User.Kind.PERSON,
            "张晓明",
            "13800000001",
            id_type=User.IdType.RESIDENT_ID,
            id_number=applicant_id,
            gender="M",
            birth_date="1998-03-12",
            employer=tech,
            registration_status=User.RegistrationStatus.APPROVED,
        )
        rows.append(("申请人 applicant", applicant_id, "13800000001"))

        emp_user = account(tech.credit_code, User.Kind.EMPLOYER, "王经理", "13800000002")
        Membership.objects.get_or_create(
            user=emp_user, employer=tech, role=Membership.Role.EMPLOYER_ADMIN
        )
        rows.append(("单位管理员 employer admin", tech.credit_code, "13800000002"))

        # AGENCY (F56–F61): an approved HR-service agency in 东城区
        hr_agency = employer(
            "91990102MA0000005",
            "示范市人才港人力资源服务有限公司",
            Employer.Kind.HR_AGENCY,
            "990102",
            "郑经办",
            "13800000021",
        )
        if not hr_agency.licence_number:
            hr_agency.licence_number = "（示）人服证字〔2024〕第0102001号"
            hr_agency.save(update_fields=["licence_number"])
        agency_admin = account("agency_demo", User.Kind.AGENCY, "郑经办", "13800000021")
        Membership.objects.get_or_create(
            user=agency_admin, employer=hr_agency, role=Membership.Role.EMPLOYER_ADMIN
        )
        rows.append(("人力资源服务机构 HR agency", "agency_demo", "13800000021"))

        reviewer = account("dongcheng_reviewer", User.Kind.STAFF, "刘审核", "13800000003")
        Membership.objects.get_or_create(
            user=reviewer, authority=district_hr["990102"], role=Membership.Role.REVIEWER
        )
        rows.append(("区县审核员 district reviewer (东城区)", "dongcheng_reviewer", "13800000003"))

        city_reviewer = account("city_reviewer", User.Kind.STAFF, "周审核", "13800000004")
        Membership.objects.get_or_create(
            user=city_reviewer, authority=city_hr, role=Membership.Role.REVIEWER
        )
        rows.append(("市级审核员 city reviewer", "city_reviewer", "13800000004"))

        finance = account("city_finance", User.Kind.STAFF, "吴财务", "13800000005")
        Membership.objects.get_or_create(
            user=finance, authority=city_finance, role=Membership.Role.FINANCE_OFFICER
        )
        rows.append(("财务经办 finance officer", "city_finance", "13800000005"))

        account(
            "admin", User.Kind.STAFF, "系统管理员", "13800000006", is_staff=True, is_superuser=True
        )
        rows.append(("系统管理员 system admin (/admin/)", "admin", "13800000006"))

        # INDUSTRY (F43): a park office with a park enterprise, a city-level enterprise,
        # and a reviewer at the city expert centre.
        park = authority(city, Authority.Kind.PARK_OFFICE, "示范市高新技术产业园区管理委员会")
        expert_centre = Authority.objects.get(region=city, kind=Authority.Kind.EXPERT_CENTRE)
        employer(  # a city-level enterprise (市直属企业): its district is the city itself
            "91990100MA0000005",
            "示范市新能源集团有限公司",
            Employer.Kind.ENTERPRISE,
            "990100",
            "孙经理",
            "13800000015",
        )
        park_firm = employer(
            "91990102MA0000006",
            "示范高新区智能装备有限公司",
            Employer.Kind.ENTERPRISE,
            "990102",
            "钱经理",
            "13800000016",
        )
        Employer.objects.filter(pk=park_firm.pk).update(park=park)
        expert = account("expert_reviewer", User.Kind.STAFF, "郑专家", "13800000007")
        Membership.objects.get_or_create(
            user=expert, authority=expert_centre, role=Membership.Role.REVIEWER
        )
        rows.append(("专家服务中心审核员 expert-centre reviewer", "expert_reviewer", "13800000007"))
        park_reviewer = account("park_reviewer", User.Kind.STAFF, "冯审核", "13800000008")
        Membership.objects.get_or_create(
            user=park_reviewer, authority=park, role=Membership.Role.REVIEWER
        )
        rows.append(("园区审核员 park reviewer", "park_reviewer", "13800000008"))
        talent_office = Authority.objects.get(region=city, kind=Authority.Kind.TALENT_OFFICE)
        talent_reviewer = account("talent_reviewer", User.Kind.STAFF, "陈审核", "13800000009")
        Membership.objects.get_or_create(
            user=talent_reviewer, authority=talent_office, role=Membership.Role.REVIEWER
        )
        rows.append(("人才办审核员 talent-office reviewer", "talent_reviewer", "13800000009"))

        schools, qualifications = load_demo_lists()
        for pack in ("city.yaml", "industry.yaml", "chain.yaml", "talent.yaml", "agency.yaml"):
            report = load_pack(settings.BASE_DIR / "policies" / pack)
            self.stdout.write(
                f"Policy pack {pack}: {len(report.created)} new, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged programs"
            )
        from rencai.cms.demo import load_demo_cms

        articles, downloads = load_demo_cms()
        self.stdout.write(f"Portal: {articles} articles, {downloads} downloads")
        from rencai.housing.demo import load_demo_housing

        load_demo_housing()

        self.stdout.write(
            self.style.SUCCESS(f"Demo city 示范市 loaded. Accounts (password for all: {PASSWORD}):")
        )
        for label, login, phone in rows:
            self.stdout.write(f"  {label:<40} login: {login:<22} phone: {phone}")
        self.stdout.write(f"  Lists: {schools} schools, {qualifications} vocational qualifications")
