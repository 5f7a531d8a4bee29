"""Monthly PDF reports per area (Chinese text, charts and tables), built in the background.

`build_monthly_pdf(area, month)` builds one report synchronously and returns the PDF bytes: the
benchmark times it, and the Celery task `monthly_report_build` calls it through `monthly_report_run`.
Chinese renders with reportlab's built-in CID font STSong-Light (no font files to ship); charts are
drawn with reportlab.graphics.

A report is one MonthlyReport row per (area, month) (a database constraint): asking twice, even at
the same moment, returns the same row, and `monthly_report_run` claims the row with a conditional
UPDATE so only one worker ever builds it.
"""

import datetime as dt
import io
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import audit_record
from yiwang.core.tasks import enqueue_on_commit

from . import selectors as S
from .models import MonthlyReport, ReportStatus

logger = logging.getLogger(__name__)
FONT = "STSong-Light"


def month_period(month: dt.date) -> S.Period:
    first = month.replace(day=1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return S.Period(first, last)


def _fmt(value, suffix="%"):
    return "—" if value is None else f"{value}{suffix}"


def build_monthly_pdf(area, month: dt.date, *, progress=None) -> bytes:
    """Build the monthly report of `area` for the month containing `month`; returns PDF bytes."""
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    def step(pct):
        if progress:
            progress(pct)

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    period = month_period(month)
    title_style = ParagraphStyle("t", fontName=FONT, fontSize=18, leading=24, spaceAfter=6)
    h_style = ParagraphStyle("h", fontName=FONT, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9.5, leading=14)
    table_style = TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, 9), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa7b8")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ])

    story = [Paragraph(f"{area.name} {period.start:%Y}年{period.start.month}月 网格化治理月度报告", title_style),
             Paragraph(f"区域编码 {area.code} · 统计期间 {period.label()} · 生成时间 "
                       f"{timezone.localtime():%Y-%m-%d %H:%M}", body), Spacer(1, 4 * mm)]
    ind = S.indicators(area, period)
    step(20)
    c, r = ind["counts"], ind["rates"]
    story.append(Paragraph("一、主要指标", h_style))
    if ind["empty"]:
        story.append(Paragraph("本月没有案件记录。", body))
    rows = [["指标", "数值", "指标", "数值"],
            ["受理量", c["intake"], "响应率", _fmt(r["response_rate"])],
            ["结案量", c["closed"], "解决率", _fmt(r["resolution_rate"])],
            ["按期结案", c["closed_on_time"], "满意率", _fmt(r["satisfaction_rate"])],
            ["超期结案", c["overdue_closed"], "按期结案率", _fmt(r["on_time_closure_rate"])],
            ["返工", c["reworked"], "返工率", _fmt(r["rework_rate"])],
            ["当前在办", ind["open_now"], "当前超期", ind["overdue_now"]]]
    story.append(Table(rows, colWidths=[35 * mm, 40 * mm, 35 * mm, 40 * mm], style=table_style))

    tr = S.trend(area, period)
    step(40)
    story.append(Paragraph("二、每日受理与结案趋势", h_style))
    drawing = Drawing(170 * mm, 60 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 8 * mm, 150 * mm, 45 * mm
    chart.data = [tr["series"]["intake"] or [0], tr["series"]["closed"] or [0]]
    chart.categoryAxis.categoryNames = [d[8:] for d in tr["days"]]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.lines[0].strokeColor = colors.HexColor("#1f6feb")
    chart.lines[1].strokeColor = colors.HexColor("#2da44e")
    drawing.add(chart)
    drawing.add(String(14 * mm, 56 * mm, "蓝：受理量  绿：结案量", fontName=FONT, fontSize=8))
    story.append(drawing)

    cats = S.categories(area, period, limit=10)
    step(55)
    story.append(Paragraph("三、案件类别分布（前十）", h_style))
    if cats["items"]:
        drawing = Drawing(170 * mm, 62 * mm)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 12 * mm, 14 * mm, 150 * mm, 44 * mm
        bars.data = [[i["intake"] for i in cats["items"]]]
        bars.categoryAxis.categoryNames = [i["name"][:6] for i in cats["items"]]
        bars.categoryAxis.labels.fontName = FONT
        bars.categoryAxis.labels.fontSize = 7
        bars.categoryAxis.labels.angle = 20
        bars.categoryAxis.labels.dy = -6
        bars.valueAxis.valueMin = 0
        bars.bars[0].fillColor = colors.HexColor("#1f6feb")
        drawing.add(bars)
        story.append(drawing)
    else:
        story.append(Paragraph("无。", body))

    ranked = S.rank_areas(area, period)
    step(70)
    if ranked:
        story.append(Paragraph("四、下级区域考评排名", h_style))
        rows = [["名次", "区域", "受理", "响应率", "解决率", "满意率", "综合得分", "等级", "当前超期"]]
        rows += [[i["rank"] or "—", i["name"], i["counts"]["intake"], _fmt(i["rates"]["response_rate"]),
                  _fmt(i["rates"]["resolution_rate"]), _fmt(i["rates"]["satisfaction_rate"]),
                  _fmt(i["score"], ""), i["grade"], i["overdue_now"]] for i in ranked[:40]]
        story.append(Table(rows, repeatRows=1, style=table_style))
    departments = S.rank_departments(area, period)
    if departments:
        story.append(Paragraph("五、职能部门考评", h_style))
        rows = [["名次", "部门", "派遣", "结案", "按期结案率", "返工率", "综合得分", "等级"]]
        rows += [[i["rank"] or "—", i["name"], i["counts"]["dispatched"], i["counts"]["closed"],
                  _fmt(i["rates"]["on_time_closure_rate"]), _fmt(i["rates"]["rework_rate"]), _fmt(i["score"], ""),
                  i["grade"]] for i in departments[:30]]
        story.append(Table(rows, repeatRows=1, style=table_style))
    step(85)
    from yiwang.cases.models import Case
    from yiwang.cases.workflow import OPEN_STATES

    overdue = (Case.objects.filter(area_path__startswith=area.path, state__in=[s.value for s in OPEN_STATES],
                                   overdue=True).select_related("category", "grid", "department")
               .order_by("deadline")[:30])
    story.append(Paragraph("六、当前超期案件（前三十）", h_style))
    rows = [["编号", "类别", "网格", "部门", "时限"]]
    rows += [[o.tracking_code, o.category.name[:10], o.grid.name[:10], str(o.department or "")[:10],
              f"{timezone.localtime(o.deadline):%m-%d %H:%M}" if o.deadline else ""] for o in overdue]
    if len(rows) == 1:
        story.append(Paragraph("无超期案件。", body))
    else:
        story.append(Table(rows, repeatRows=1, style=table_style))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{area.name} {period.start:%Y-%m}", author="Yiwang")
    doc.build(story)
    step(100)
    return buffer.getvalue()


# -- background jobs -------------------------------------------------------------------------------
def monthly_report_request(*, actor, area, month: dt.date) -> tuple[MonthlyReport, bool]:
    """Ask for the monthly report of an area the actor may see (the caller resolved `area` with
    selectors.dashboard_area). Returns (report, created); only a new or failed report is (re)built."""
    from .tasks import monthly_report_build

    month = month.replace(day=1)
    created = False
    try:
        with transaction.atomic():
            report, created = MonthlyReport.objects.get_or_create(
                area=area, month=month, defaults={"area_path": area.path, "requested_by": actor})
    except IntegrityError:  # the same request committed a moment earlier
        report = MonthlyReport.objects.get(area=area, month=month)
    retry = False
    if not created and report.status == ReportStatus.FAILED:
        retry = MonthlyReport.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
            status=ReportStatus.QUEUED, progress=0, error="") == 1
    with transaction.atomic():
        audit_record(actor=actor, action="dashboards.report_request", obj=report,
                     changes={"month": month.isoformat(), "new": created or retry}, area_path=area.path)
        if created or retry:
            enqueue_on_commit(monthly_report_build, report.pk)
    report.refresh_from_db()
    return report, created


def monthly_report_run(report_id: int) -> None:
    """Build a queued report once: the conditional UPDATE lets exactly one worker claim it."""
    if MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
            status=ReportStatus.RUNNING, progress=5) != 1:
        return
    report = MonthlyReport.objects.select_related("area").get(pk=report_id)

    def progress(pct):
        MonthlyReport.objects.filter(pk=report_id).update(progress=min(pct, 99))

    try:
        pdf = build_monthly_pdf(report.area, report.month, progress=progress)
        report.file.save(f"{report.area_path}-{report.month:%Y-%m}.pdf", ContentFile(pdf), save=False)
        MonthlyReport.objects.filter(pk=report_id).update(file=report.file.name, status=ReportStatus.DONE,
                                                          progress=100, finished_at=timezone.now())
    except Exception as exc:
        logger.exception("monthly report %s failed", report_id)
        MonthlyReport.objects.filter(pk=report_id).update(status=ReportStatus.FAILED, error=str(exc)[:300])


def report_status(report: MonthlyReport) -> dict:
    return {"id": report.pk, "area": report.area_path, "month": f"{report.month:%Y-%m}", "status": report.status,
            "status_label": report.get_status_display(), "progress": report.progress,
            "download": reverse("dashboards:report_download", args=[report.pk])
            if report.status == ReportStatus.DONE else None,
            "page": reverse("dashboards:report", args=[report.pk]),
            "error": _("The report could not be built; ask for it again.") if report.status == ReportStatus.FAILED
            else ""}
