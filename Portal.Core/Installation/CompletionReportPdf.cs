using System.Globalization;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace Portal.Core.Installation;

/// <summary>
/// Writes the completion report as PDF with PDFsharp: totals, a bar chart of each district's (or school
/// type's) completion against its target, the tables, and the unfinished schools with what each lacks.
/// </summary>
public static class CompletionReportPdf
{
    private const double Margin = 36;
    private const double RowHeight = 14;

    private static readonly XColor Accent = XColor.FromArgb(0x1E, 0x5A, 0xA8);
    private static readonly XColor Late = XColor.FromArgb(0xC6, 0x28, 0x28);

    public static void Write(ProgrammeSnapshot snapshot, string title, Stream output)
    {
        CjkFontResolver.EnsureInstalled();
        var options = new XPdfFontOptions(PdfFontEncoding.Unicode);
        var fonts = new Fonts(
            new XFont("cjk", 16, XFontStyleEx.Bold, options),
            new XFont("cjk", 10, XFontStyleEx.Bold, options),
            new XFont("cjk", 9, XFontStyleEx.Regular, options),
            new XFont("cjk", 7.5, XFontStyleEx.Regular, options));

        using var document = new PdfDocument();
        document.Info.Title = title;
        document.Info.Creator = "SchoolSafetyPortal";
        var page = NewPage(document);
        var g = XGraphics.FromPdfPage(page);
        var width = page.Width.Point - 2 * Margin;
        var y = Margin;

        g.DrawString(title, fonts.Title, XBrushes.Black, Margin, y + 16);
        y += 30;
        g.DrawString(ReportText.Subtitle(snapshot), fonts.Body, XBrushes.DimGray, Margin, y);
        y += 20;

        var total = snapshot.Total;
        string[] cards =
        [
            $"学校总数 {total.Schools}", $"已完成 {total.Done}（{Pct(total.DonePercent)}）",
            $"已联调验收 {total.Accepted}", $"设备已接入 {total.Online}", $"逾期未完成 {total.Overdue}",
        ];
        var cardWidth = width / cards.Length;
        for (var i = 0; i < cards.Length; i++)
        {
            g.DrawRectangle(new XPen(XColors.LightGray, 0.8), XBrushes.WhiteSmoke, Margin + i * cardWidth + 2, y, cardWidth - 4, 26);
            g.DrawString(cards[i], fonts.Head, i == 4 && total.Overdue > 0 ? new XSolidBrush(Late) : XBrushes.Black, Margin + i * cardWidth + 10, y + 17);
        }

        y += 40;
        var rows = snapshot.DistrictId is null ? snapshot.ByDistrict : snapshot.ByType;
        y = DrawChart(g, fonts, rows, Margin, y, width * 0.45, snapshot.DistrictId is null ? "各区（市）完成率" : "各类学校完成率");
        var tableX = Margin + width * 0.5;
        DrawProgressTable(g, fonts, snapshot.DistrictId is null ? "按区（市）" : "按学校类型", rows, total, tableX, 160, width * 0.5);
        y = Math.Max(y, 160 + RowHeight * (rows.Count + 3)) + 16;
        if (snapshot.DistrictId is null && y + RowHeight * (snapshot.ByType.Count + 3) < page.Height.Point - Margin)
        {
            DrawProgressTable(g, fonts, "按学校类型", snapshot.ByType, total, Margin, y, width);
        }

        g.Dispose();
        DrawUnfinished(document, fonts, snapshot);
        document.Save(output, closeStream: false);
    }

    private static PdfPage NewPage(PdfDocument document)
    {
        var page = document.AddPage();
        page.Size = PageSize.A4;
        page.Orientation = PageOrientation.Landscape;
        return page;
    }

    private static double DrawChart(XGraphics g, Fonts fonts, IReadOnlyList<ProgressRow> rows, double x, double y, double width, string caption)
    {
        g.DrawString(caption, fonts.Head, XBrushes.Black, x, y + 10);
        y += 18;
        const double labelWidth = 90;
        const double bar = 14;
        var barArea = width - labelWidth - 40;
        var fill = new XSolidBrush(Accent);
        var targetPen = new XPen(Late, 1.2);
        foreach (var row in rows)
        {
            g.DrawString(row.Name, fonts.Body, XBrushes.Black, x, y + 10);
            g.DrawRectangle(XBrushes.Gainsboro, x + labelWidth, y, barArea, bar);
            g.DrawRectangle(fill, x + labelWidth, y, barArea * row.DonePercent / 100, bar);
            var tx = x + labelWidth + barArea * row.TargetPercent / 100;
            g.DrawLine(targetPen, tx, y - 2, tx, y + bar + 2);
            g.DrawString(Pct(row.DonePercent), fonts.Small, XBrushes.Black, x + labelWidth + barArea + 4, y + 10);
            y += bar + 5;
        }

        g.DrawString("蓝条：已完成比例；红线：目标比例", fonts.Small, XBrushes.DimGray, x + labelWidth, y + 8);
        return y + 14;
    }

    private static void DrawProgressTable(XGraphics g, Fonts fonts, string caption, IReadOnlyList<ProgressRow> rows, ProgressRow total, double x, double y, double width)
    {
        g.DrawString(caption, fonts.Head, XBrushes.Black, x, y - 4);
        string[] heads = ["名称", "学校", "勘察", "终端", "球机", "接入", "验收", "完成", "完成率", "逾期"];
        var first = width * 0.16;
        var col = (width - first) / (heads.Length - 1);
        double ColX(int i) => i == 0 ? x : x + first + (i - 1) * col;
        g.DrawRectangle(XBrushes.Gainsboro, x, y, width, RowHeight);
        for (var i = 0; i < heads.Length; i++)
        {
            g.DrawString(heads[i], fonts.Head, XBrushes.Black, ColX(i) + 2, y + 10.5);
        }

        y += RowHeight;
        foreach (var row in rows.Append(total))
        {
            string[] cells =
            [
                row.Name, N(row.Schools), N(row.Reached[0]), N(row.Reached[1]), N(row.Reached[2]), N(row.Reached[3]),
                N(row.Reached[4]), N(row.Done), Pct(row.DonePercent), N(row.Overdue),
            ];
            var font = ReferenceEquals(row, total) ? fonts.Head : fonts.Body;
            for (var i = 0; i < cells.Length; i++)
            {
                g.DrawString(cells[i], font, i == 9 && row.Overdue > 0 ? new XSolidBrush(Late) : XBrushes.Black, ColX(i) + 2, y + 10.5);
            }

            g.DrawLine(XPens.LightGray, x, y + RowHeight, x + width, y + RowHeight);
            y += RowHeight;
        }
    }

    private static void DrawUnfinished(PdfDocument document, Fonts fonts, ProgrammeSnapshot snapshot)
    {
        var list = snapshot.Unfinished.ToList();
        string[] heads = ["学校代码", "学校名称", "区（市）", "类型", "尚缺步骤", "截止日期", "逾期"];
        double[] widths = [62, 190, 55, 75, 300, 55, 28];
        XGraphics? g = null;
        double y = 0;
        var pageNumber = 0;
        var lateBrush = new XSolidBrush(Late);
        for (var i = 0; i <= list.Count; i++)
        {
            if (g is null || y > document.Pages[^1].Height.Point - Margin - RowHeight)
            {
                g?.Dispose();
                var page = NewPage(document);
                g = XGraphics.FromPdfPage(page);
                pageNumber++;
                y = Margin;
                g.DrawString($"未完成学校（{list.Count} 所）" + (pageNumber > 1 ? $" · 续 {pageNumber}" : string.Empty), fonts.Head, XBrushes.Black, Margin, y + 10);
                y += 18;
                g.DrawRectangle(XBrushes.Gainsboro, Margin, y, widths.Sum(), RowHeight);
                var hx = Margin;
                for (var c = 0; c < heads.Length; c++)
                {
                    g.DrawString(heads[c], fonts.Head, XBrushes.Black, hx + 2, y + 10.5);
                    hx += widths[c];
                }

                y += RowHeight;
            }

            if (i == list.Count)
            {
                break;
            }

            var s = list[i];
            string[] cells =
            [
                s.Code, s.Name, s.DistrictName, Schools.SchoolTypeNames.Chinese[s.SchoolType], ReportText.Missing(s),
                ProgrammeSnapshot.LocalDay(s.DueUtc.AddTicks(-1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), s.IsOverdue ? "是" : string.Empty,
            ];
            var cx = Margin;
            for (var c = 0; c < cells.Length; c++)
            {
                g.DrawString(cells[c], fonts.Small, s.IsOverdue && c == 6 ? lateBrush : XBrushes.Black, cx + 2, y + 10);
                cx += widths[c];
            }

            g.DrawLine(XPens.Gainsboro, Margin, y + RowHeight, Margin + widths.Sum(), y + RowHeight);
            y += RowHeight;
        }

        g?.Dispose();
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Pct(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private sealed record Fonts(XFont Title, XFont Head, XFont Body, XFont Small);
}

/// <summary>Wording shared by both report formats, so the xlsx and the PDF say the same thing.</summary>
public static class ReportText
{
    public static string Title(string? districtName) => (districtName ?? "青岛市") + "中小学幼儿园一键报警及门口球机安装完成情况报告";

    public static string Subtitle(ProgrammeSnapshot snapshot) => string.Create(CultureInfo.InvariantCulture,
        $"统计时间 {snapshot.AsOfUtc + ProgrammeSnapshot.LocalOffset:yyyy-MM-dd HH:mm}（北京时间） · 完成期限 {ProgrammeSnapshot.LocalDay(snapshot.Settings.DeadlineUtc.AddTicks(-1)):yyyy-MM-dd} · 完成 = 教育局确认");

    public static string Missing(SchoolProgress school) => string.Join("、", school.Missing.Select(m => InstallationSteps.Chinese[m]));
}
