"""Excel exports of any scoped dashboard list: audited, watermarked with the exporter, formula-safe."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import audit_record

from . import selectors as S

EXPORT_LIMIT = 50_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Stop spreadsheet formula injection: text starting with = + - @ (or tab/CR) gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _workbook(title: str, headers: list[str], rows: list[list], *, exporter) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    stamp = _("Exported by %(name)s (%(user)s) at %(time)s — internal use only") % {
        "name": str(exporter), "user": exporter.get_username(), "time": _local(timezone.now())}
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([neutralise(title)])
    ws.append([stamp])
    ws["A2"].font = Font(color="C00000", italic=True)
    ws.append([neutralise(h) for h in headers])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(v) for v in row])
    # The watermark is also printed on every page and stored in the document properties.
    ws.oddHeader.center.text = stamp
    ws.oddFooter.center.text = stamp
    wb.properties.creator = exporter.get_username()
    wb.properties.description = stamp
    ws.freeze_panes = "A4"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def export_list(*, actor, area, which: str, period: S.Period | None = None) -> tuple[str, bytes]:
    """An xlsx of one dashboard list ('overdue', 'supervised', 'open' cases; 'areas', 'departments',
    'workers' rankings) under `area`, with only what the actor may see. Returns (filename, bytes)."""
    if which in ("overdue", "supervised", "open"):
        cases = S.case_list(actor, area, which, limit=EXPORT_LIMIT)
        headers = [_("Tracking code"), _("Category"), _("Grid"), _("State"), _("Department"), _("Deadline"),
                   _("Supervision"), _("Reported"), _("Address")]
        rows = [[c.tracking_code, c.category.name, c.grid.name, c.get_state_display(), str(c.department or ""),
                 _local(c.deadline), c.get_supervision_display() if c.supervision else "", _local(c.created_at),
                 c.address] for c in cases]
        titles = {"overdue": _("Overdue cases"), "supervised": _("Supervised cases"), "open": _("Open cases")}
        title = f"{area.name} {titles[which]}"
    elif which in ("areas", "departments", "workers"):
        period = period or S.Period.parse({})
        builder = {"areas": S.rank_areas, "departments": S.rank_departments, "workers": S.rank_workers}[which]
        items = builder(area, period)
        if which == "workers":
            headers = [_("Rank"), _("Name"), _("Reports"), _("Verifications"), _("Verified on time (%)"),
                       _("Score"), _("Grade")]
            rows = [[i["rank"], i["name"], i["reported"], i["verified"], i["rates"]["verification_on_time_rate"],
                     i["score"], i["grade"]] for i in items]
        else:
            headers = [_("Rank"), _("Name"), _("Intake"), _("Closed"), _("Response rate (%)"),
                       _("Resolution rate (%)"), _("Satisfaction rate (%)"), _("On-time closure rate (%)"),
                       _("Score"), _("Grade")]
            rows = [[i["rank"], i["name"], i["counts"]["intake"], i["counts"]["closed"], i["rates"]["response_rate"],
                     i["rates"]["resolution_rate"], i["rates"]["satisfaction_rate"],
                     i["rates"]["on_time_closure_rate"], i["score"], i["grade"]] for i in items]
        title = f"{area.name} {_('Ranking')} {period.label()}"
    else:
        from django.http import Http404

        raise Http404
    data = _workbook(title, headers, rows, exporter=actor)
    audit_record(actor=actor, action="dashboards.export", obj=area, area_path=area.path,
                 changes={"list": which, "rows": len(rows),
                          **({"period": period.label()} if period and which not in ("overdue", "supervised", "open")
                             else {})})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"{area.path}-{which}-{stamp}.xlsx", data
