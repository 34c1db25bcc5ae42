"""Demo content for the public portal (F54): policy guides, announcements, recruitment
notices and two files to download. Idempotent: articles are matched on kind and title,
downloads on title (an existing file is kept). Amounts are marked 示范 (demo only)."""

import datetime
import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from rencai.cms.files import check_download
from rencai.cms.models import Article, Download

K = Article.Kind
HR = "示范市人力资源和社会保障局"
TALENT_OFFICE = "示范市人才工作领导小组办公室"

POLICY_GUIDES = [
    {
        "title": "人才分类认定办法（示范）",
        "summary": "人才分为 A 至 F 六类；已认定的人才按类别申请生活补贴、人才公寓和购房补贴。",
        "source": TALENT_OFFICE,
        "pinned": True,
        "body": """\
一、适用范围
在本市就业、创业的各类人才，可以在本平台申请人才分类认定。认定结果是办理生活补贴、租住人才公寓、购房首付款补贴等业务的依据。

二、人才类别
A类：国内外顶尖人才。
B类：国家级领军人才。
C类：省级领军人才。
D类：市级拔尖人才。
E类：高层次人才，包括博士研究生、正高级专业技术职称人员，以及硕士研究生、副高级专业技术职称人员、高级技师。
F类：基础人才，包括全日制本（专）科毕业生，技师、高级工，技工院校预备技师（技师）班、高级工班毕业生。

三、办理流程
1. 注册并登录平台，在个人中心点击“我要认定”。
2. 阅读个人申报须知，选择符合自身条件的人才分类和荣誉资质。
3. 如实填写个人资料（带 * 的为必填项），保存后上传附件。
4. 勾选个人申请承诺，提交审核。审核进度和结果会以短信通知。

四、审批单位
F类人才由市人力资源和社会保障局审批；E类及以上人才由市人才工作领导小组办公室审批。

五、资料容缺
申请时部分资料暂时无法取得的，可以申请容缺审核，选择补充期限并说明原因。未在期限内补齐的，取消人才资格和相应业务资格。

六、变更认定
已认定的人才资质发生变化的，在个人中心点击“变更分类”，更新资料和附件后重新提交，审批流程与新认定相同。

七、诚信要求
申报资料须真实、合法。弄虚作假的，列入异常名单，取消人才资格，一年内不得再次申请。""",
    },
    {
        "title": "高校毕业生生活补助申领指南",
        "summary": "在本市就业的全日制高校毕业生按月申请生活补助，本科每月 500 元（示范标准），累计不超过 36 个月。",
        "source": HR,
        "body": """\
一、申请条件
1. 全日制高校毕业生（大专及以上学历），已在本市用人单位就业并签订劳动合同。
2. 所在单位已在平台注册并通过区县人社部门审核。
3. 同一时段不能重复申请，累计申领不超过 36 个月。

二、补助标准（示范标准，以正式文件为准）
大专每月 300 元，本科每月 500 元，硕士研究生每月 1000 元，博士研究生每月 2000 元。

三、申请月数
申请月数 = 申请结束时间 - 申请开始时间 - 扣减月数，首尾月份都计算在内。扣减月数不为 0 的，须在“情况说明”中写明原因（例如期间未在本市工作，或已享受其他同类补贴）。

四、所需材料
毕业证书（必交）、学位证书（有则提交）、劳动合同（必交）。材料可上传 PDF 或图片，每个文件不超过 20 MB。

五、办理流程
个人在线申报 → 用人单位审核 → 区县人社部门审核 → 市人社局审核 → 公示 → 拨付 → 个人确认到账。审核不通过的，可以按审核意见修改后重新申请。

六、咨询
政策问题请拨打页面底部的政策咨询电话；系统操作问题请拨打技术支持电话。""",
    },
    {
        "title": "人才公寓申请指南（示范）",
        "summary": "F类及以上人才可申请租住人才公寓；所有用户均可申请入住人才驿站。",
        "source": TALENT_OFFICE,
        "body": """\
一、可以申请的业务
1. 入住人才驿站：所有用户均可申请，用于来本市求职、面试期间的短期住宿。
2. 租住人才公寓：已认定为 F类及以上的人才可以申请。
3. 购房首付款补贴券：已认定为 F类及以上的人才可以申请。

二、申请前准备
先完成人才分类认定。未认定或类别不符的，个人中心里对应的业务为灰色，不能申请。

三、办理流程
1. 在人才服务中心浏览人才公寓小区、户型图片和全景展示。
2. 选择小区后点击“申请入住”，填写入住人数和计划入住时间。
3. 提交后由所在单位和主管部门审核，审核结果以短信通知。
4. 审核通过后，按通知时间签订租赁协议并办理入住。

四、租金标准（示范）
人才公寓租金按市场租金的一定比例收取，具体比例以各小区公布的为准。

五、退出
不再符合条件、离开本市工作或购买本市住房的，应当在 30 日内申请退出。""",
    },
]

AGENCY_RULES = [
    {
        "title": "人力资源服务机构分类分级评定实施细则（示范）",
        "summary": "按职业介绍、人力资源管理咨询等服务类别，依三级评价指标评分定级，等级有效期三年。",
        "source": HR,
        "body": """\
一、评定范围
在本区依法登记并取得人力资源服务许可证或备案的人力资源服务机构，可以按服务类别申请分类分级评定。

二、评价指标
每个服务类别设一级、二级、三级评价指标。机构逐项填写三级指标，系统按指标计分；审核部门可以按核实情况调整单项得分，并说明理由。

三、等级与有效期
等级按总分和必备指标确定，有效期三年。有效期内可申请升级；期满前可申请保级，审核通过后有效期顺延。

四、办理流程
机构申报 → 区人力资源和社会保障局初审 → 市人力资源和社会保障局评定。审核不通过的，机构可修改后重新上报。""",
    },
    {
        "title": "人力资源服务业发展补贴实施细则（示范）",
        "summary": "参加或承办人力资源服务业发展大会、为本地引进人才的机构，可按本细则申请补贴。补贴标准为示范数据。",
        "source": HR,
        "body": """\
一、补贴项目
1. 人力资源服务业发展大会备案补贴；
2. 人力资源服务机构引才补贴。

二、申报材料
下载对应的申报表，如实填写并加盖公章后扫描为 PDF 上传；其他证明材料可以拼接成一个 PDF 文件上传。每个文件不超过 20 MB。

三、办理流程
机构在“补贴申报”中新增申报并提交，区人力资源和社会保障局审核；引才补贴再由市人力资源和社会保障局复核。""",
    },
]

ANNOUNCEMENTS = [
    {
        "title": "关于人才补贴申报平台正式运行的通知",
        "summary": "平台升级后所有用户需重新注册；已领取过补贴的人员注册后，系统按身份证号自动匹配历史记录。",
        "source": HR,
        "pinned": True,
        "body": """\
各用人单位、广大人才：

人才补贴申报平台已完成升级改造，现正式运行。请注意以下事项：

1. 所有用户需要重新注册登录账号。已经领取过补贴的人员重新注册后，系统会根据身份证号自动匹配已录入的个人信息和补贴记录。
2. 个人注册时请填写真实的姓名和手机号，两个字的姓名中间不要加空格；身份证号最后一位是 X 的请填写大写 X。
3. 单位注册时请填写真实的单位名称；个人选择所在单位前，单位须已注册并通过审核。
4. 建议使用谷歌、火狐等主流浏览器。

特此通知。""",
    },
    {
        "title": "关于高校毕业生生活补助常态化受理的公告",
        "summary": "自即日起，高校毕业生生活补助全年常态化受理，不再集中申报。",
        "source": HR,
        "body": """\
为方便高校毕业生及时享受政策，自即日起，高校毕业生生活补助在本平台全年常态化受理。

符合条件的毕业生可随时在线申报，用人单位应在 10 个工作日内完成审核。审核结果公示期为 7 天，公示期内任何单位和个人均可提出异议。

申请条件、补助标准和所需材料见“政策指南”栏目《高校毕业生生活补助申领指南》。""",
    },
]

RECRUITMENT = [
    {
        "title": "示范市星河科技有限公司人才招聘",
        "summary": "招聘软件开发工程师、测试工程师，本科及以上学历优先。",
        "source": "示范市星河科技有限公司",
        "employer_name": "示范市星河科技有限公司",
        "positions": "软件开发工程师（本科及以上，5 名）\n测试工程师（大专及以上，2 名）\n"
        "产品经理（本科及以上，1 名）",
        "contact": "人力资源部 0999-1234567（示范号码）",
        "deadline_days": 30,
        "body": """\
公司主要从事工业软件研发，因业务发展需要，现面向社会招聘以下岗位人员。

一、基本条件
遵纪守法，身体健康；全日制大专及以上学历，专业对口者优先。

二、待遇
签订劳动合同，缴纳社会保险和住房公积金。符合条件的，可申请本市高校毕业生生活补助和租房补贴。

三、报名方式
将个人简历发送至公司人力资源部，或电话咨询。""",
    },
    {
        "title": "示范市第一人民医院 护理岗位招聘",
        "summary": "招聘护理人员 10 名，须取得护士执业资格。",
        "source": "示范市第一人民医院",
        "employer_name": "示范市第一人民医院",
        "positions": "护士（大专及以上，取得护士执业资格，10 名）",
        "contact": "医院人事科 0999-7654321（示范号码）",
        "deadline_days": -10,
        "body": """\
因工作需要，医院面向社会公开招聘护理人员。

一、报名条件
护理学专业全日制大专及以上学历，已取得护士执业资格证书。

二、招聘程序
报名、资格审查、笔试、面试、体检、公示、聘用。

本次招聘报名已截止，感谢关注。""",
    },
]


def demo_pdf_bytes() -> bytes:
    """A one-page PDF (Latin text, so no CJK font is needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Talent subsidy application form (demo)")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 770, "Talent subsidy application form (demo)")
    pdf.setFont("Helvetica", 11)
    for i, line in enumerate(
        ["Name:", "ID number:", "Employer:", "Programme:", "Signature and date:"]
    ):
        pdf.drawString(72, 720 - i * 36, line)
        pdf.line(180, 718 - i * 36, 520, 718 - i * 36)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def demo_xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append(
        ["序号", "姓名", "证件号码", "最高学历", "申请项目", "申请月数", "金额（元，示范）"]
    )
    sheet.append([1, "", "", "本科", "高校毕业生生活补助", 12, 6000])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


DOWNLOADS = [
    (
        "人才补贴申请表（示范）",
        "个人申报时下载填写，签字后扫描上传。",
        "人才补贴申请表.pdf",
        demo_pdf_bytes,
    ),
    (
        "单位员工申报花名册模板（示范）",
        "单位汇总本单位人员申报情况时使用，请勿改动表头。",
        "员工申报花名册模板.xlsx",
        demo_xlsx_bytes,
    ),
]


def _article(kind, item, now, index):
    item = dict(item)
    days = item.pop("deadline_days", None)
    defaults = {
        **item,
        "published": True,
        "published_at": now - datetime.timedelta(days=3 + index * 5),
        "deadline": (
            timezone.localdate() + datetime.timedelta(days=days) if days is not None else None
        ),
    }
    Article.objects.update_or_create(kind=kind, title=defaults.pop("title"), defaults=defaults)


def load_demo_cms() -> tuple[int, int]:
    """Create or refresh the demo articles and downloads; returns (articles, downloads)."""
    now = timezone.now()
    with transaction.atomic():
        for kind, items in (
            (K.POLICY_GUIDE, POLICY_GUIDES),
            (K.ANNOUNCEMENT, ANNOUNCEMENTS),
            (K.RECRUITMENT, RECRUITMENT),
            (K.AGENCY_RULES, AGENCY_RULES),
        ):
            for index, item in enumerate(items):
                _article(kind, item, now, index)
    for index, (title, description, filename, make) in enumerate(DOWNLOADS):
        if Download.objects.filter(title=title).exists():
            continue
        content = ContentFile(make(), name=filename)
        checked = check_download(content)
        item = Download(
            title=title,
            description=description,
            original_name=checked.original_name,
            size=checked.size,
            content_type=checked.content_type,
            published=True,
            published_at=now - datetime.timedelta(days=2 + index),
        )
        item.file.save(filename, content, save=False)
        try:
            item.save()
        except BaseException:
            item.file.delete(save=False)
            raise
    articles = len(POLICY_GUIDES) + len(ANNOUNCEMENTS) + len(RECRUITMENT)
    return articles, len(DOWNLOADS)
