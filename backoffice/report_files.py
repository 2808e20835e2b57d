"""A report's chart and its files: CSV, XLSX and PDF, made the same way for the admin's download
links and for `manage.py report`.

The PDF is an HTML template rendered by xhtml2pdf: pure Python (on reportlab), so it installs
from PyPI with no system libraries, unlike WeasyPrint (Pango, cairo). It draws the report's
chart from the same SVG as the admin page (through svglib), so the two cannot disagree.
"""

import base64
import csv
import io
import re
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from xhtml2pdf import pisa

from agreements.charts import text_width
from agreements.exports import neutralise
from backoffice.reports import DEFAULT_SCOPE

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHART_COLOUR = "#417690"  # the admin's blue; the tests look for it on the PDF's first page
CHART_BARS = 40  # more would not be read; the table has every row

# Helvetica has no Chinese, Japanese or Korean glyphs: a report that holds any (a native-script
# name, or the whole report in the Chinese interface) is written in STSong-Light, one of the
# standard Adobe CJK faces every PDF reader knows. It is named, not embedded, so the PDF stays
# small, installs nothing, and its text stays searchable; Latin letters are in it too.
LATIN_FONT = "Helvetica"
CJK_FONT = "STSong-Light"
CJK_TEXT = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))  # the chart (svglib) finds it by this name


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    width: float
    text_y: float
    value_x: float


@dataclass(frozen=True)
class Chart:
    bars: list
    width: int
    height: int
    label_width: int
    left_out: int  # rows the chart leaves out (the table has them)


def chart_layout(points, *, label_width=240, bar_space=300, row=20):
    """Horizontal bars for [(label, value), ...], in order, the longest `bar_space` wide,
    named on their left; labels longer than the space for them are cut with an ellipsis."""
    shown = points[:CHART_BARS]
    most = max((value for _, value in shown), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(shown):
        width = round(bar_space * max(value, 0) / most, 1)
        text = fitted(label, label_width - 6)
        y = index * row + 4
        bars.append(Bar(text, value, y, width, y + 11, label_width + width + 6))
    return Chart(
        bars=bars,
        width=label_width + bar_space + 50,
        height=len(shown) * row + 8,
        label_width=label_width,
        left_out=len(points) - len(shown),
    )


def fitted(label, width, *, size=11):
    """The label, cut with an ellipsis where it would be wider than `width` px at `size` px (a
    Chinese character is twice as wide as a Latin letter)."""
    if text_width(label, size) <= width:
        return label
    while label and text_width(label + "…", size) > width:
        label = label[:-1]
    return label + "…"


def chart_svg(result, *, font="Helvetica, Arial, sans-serif"):
    """The chart as an SVG document: inline in the admin page, an image in the PDF. Drawn
    with presentation attributes, not style, which the Content-Security-Policy would block."""
    points = result.chart()
    chart = chart_layout(points)
    if not chart.bars:
        return ""
    # What a screen reader says of the picture: its largest bar (of those drawn, as the
    # picture shows them), and where every number is.
    label, value = max(points[:CHART_BARS], key=lambda point: point[1])
    summary = _(
        "%(title)s; the most %(column)s, %(value)s: %(label)s. The table below has every number."
    ) % {
        "title": result.report.title,
        "column": result.report.columns[result.report.chart_value],
        "value": value,
        "label": label,
    }
    return render_to_string(
        "backoffice/report_chart.svg",
        {"chart": chart, "colour": CHART_COLOUR, "summary": summary, "font": font},
    )


def table(result):
    """The header and rows, every text cell neutralised: each file is opened by a spreadsheet
    sooner or later, and a name such as "=HYPERLINK(...)" must stay a name."""
    header = [neutralise(column) for column in result.report.columns]
    rows = [
        [cell if isinstance(cell, int) else neutralise(cell) for cell in row] for row in result.rows
    ]
    return header, rows


def csv_bytes(result):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header, rows = table(result)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def xlsx_bytes(result):
    """The table on a first sheet; the filters it was made with on a second, since a CSV
    file has only room for the table."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("report"))
    header, rows = table(result)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    about = workbook.create_sheet(_("filters"))
    for label, value in about_rows(result):
        about.append([neutralise(label), neutralise(value)])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def about_rows(result):
    return [
        (_("report"), str(result.report.title)),
        (_("made on"), result.made_on.isoformat()),
        (_("counts"), str(result.scope)),
        *((str(label), str(value)) for label, value in result.described_filters()),
    ]


def pdf_html(result, *, font):
    svg = chart_svg(result, font=font)
    return render_to_string(
        "backoffice/report_pdf.html",
        {
            "result": result,
            "font": font,
            "chart": chart_layout(result.chart()),
            "chart_uri": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
            if svg
            else "",
        },
    )


def pdf_bytes(result):
    html = pdf_html(result, font=LATIN_FONT)
    if CJK_TEXT.search(html):
        html = pdf_html(result, font=CJK_FONT)
    output = io.BytesIO()
    status = pisa.CreatePDF(html, dest=output, encoding="utf-8")
    if status.err:
        raise RuntimeError(f"the PDF of {result.report.slug} could not be made")
    return output.getvalue()


WRITERS = {"csv": csv_bytes, "xlsx": xlsx_bytes, "pdf": pdf_bytes}


def report_file(result, format):
    return WRITERS[format](result)


def report_words(result):
    """What a report's file name says (registry.text.file_name): the report, the day it was
    made and what it was made with (its scope unless the default, its filters' and options'
    values), so that one day's files of a report made for two companies are not both
    `companies-2026-12-07.csv`."""
    words = [value for _label, value in result.described_filters()]
    if (scope := result.filterset.form.cleaned_data.get("status")) not in (None, DEFAULT_SCOPE):
        words.insert(0, scope)
    return [result.report.slug, result.made_on.isoformat(), *words]
