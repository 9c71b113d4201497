using System.Globalization;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Portal.Core.Schools;

namespace Portal.Core.Installation;

/// <summary>
/// Writes the completion report as an Excel workbook: "汇总" (totals and the progress by district and by
/// school type, with the completion rate drawn as a bar of cells and as an Excel data bar), "未完成学校"
/// (each unfinished school and what it lacks) and "进度" (the burn-up figures per day).
/// </summary>
/// <remarks>
/// The chart is made of cells, not a DrawingML chart: a text bar column (█ per 5 %) that every viewer shows,
/// plus a conditional-formatting data bar on the rate column that Excel and LibreOffice draw. Strings are
/// inline (no shared-string table) so the writer streams rows in one pass.
/// </remarks>
public static class CompletionReportXlsx
{
    public const string SummarySheet = "汇总";
    public const string UnfinishedSheet = "未完成学校";
    public const string BurnUpSheet = "进度";

    /// <summary>The row (1-based) where the district (or type) table's header sits on the summary sheet.</summary>
    public const int SummaryHeaderRow = 5;

    public static readonly IReadOnlyList<string> ProgressHeads =
        ["名称", "学校数", "已勘察", "终端已装", "球机已装", "已接入", "已验收", "已完成", "完成率(%)", "逾期", "目标日期", "目标(%)", "完成率图"];

    public static readonly IReadOnlyList<string> UnfinishedHeads = ["学校代码", "学校名称", "学校类型", "区（市）", "下一步", "尚缺步骤", "截止日期", "逾期", "校长", "电话"];

    private const uint Bold = 1;

    public static void Write(ProgrammeSnapshot snapshot, string title, Stream output)
    {
        using var document = SpreadsheetDocument.Create(output, SpreadsheetDocumentType.Workbook);
        var workbook = document.AddWorkbookPart();
        workbook.Workbook = new Workbook();
        var styles = workbook.AddNewPart<WorkbookStylesPart>();
        styles.Stylesheet = new Stylesheet(
            new Fonts(new Font(), new Font(new DocumentFormat.OpenXml.Spreadsheet.Bold())),
            new Fills(new Fill(new PatternFill { PatternType = PatternValues.None }), new Fill(new PatternFill { PatternType = PatternValues.Gray125 })),
            new Borders(new Border()),
            new CellFormats(new CellFormat(), new CellFormat { FontId = 1, ApplyFont = true }));
        var sheets = workbook.Workbook.AppendChild(new Sheets());

        var rows = snapshot.DistrictId is null ? snapshot.ByDistrict : snapshot.ByType;
        var summary = new SheetData();
        summary.Append(Row(1, [Text(title, Bold)]));
        summary.Append(Row(2, [Text(ReportText.Subtitle(snapshot))]));
        var total = snapshot.Total;
        summary.Append(Row(3, [Text("学校总数", Bold), Number(total.Schools), Text("已完成", Bold), Number(total.Done), Text("完成率(%)", Bold), Number(total.DonePercent), Text("逾期", Bold), Number(total.Overdue)]));
        summary.Append(Row(4, [Text(snapshot.DistrictId is null ? "按区（市）" : "按学校类型", Bold)]));
        uint r = SummaryHeaderRow;
        summary.Append(Row(r++, [.. ProgressHeads.Select(h => Text(h, Bold))]));
        var firstData = r;
        foreach (var row in rows.Append(total))
        {
            summary.Append(ProgressRowCells(r++, row));
        }

        var lastData = r - 1;
        if (snapshot.DistrictId is null)
        {
            r++;
            summary.Append(Row(r++, [Text("按学校类型", Bold)]));
            summary.Append(Row(r++, [.. ProgressHeads.Select(h => Text(h, Bold))]));
            foreach (var row in snapshot.ByType.Append(total))
            {
                summary.Append(ProgressRowCells(r++, row));
            }
        }

        var summaryPart = AddSheet(workbook, sheets, 1, SummarySheet, summary, [14, 8, 8, 9, 9, 8, 8, 8, 10, 6, 11, 8, 22]);
        summaryPart.Worksheet.InsertAfter(DataBar($"I{firstData}:I{lastData}"), summaryPart.Worksheet.GetFirstChild<SheetData>());

        var unfinished = new SheetData();
        uint u = 1;
        unfinished.Append(Row(u++, [.. UnfinishedHeads.Select(h => Text(h, Bold))]));
        foreach (var s in snapshot.Unfinished)
        {
            unfinished.Append(Row(u++,
            [
                Text(s.Code), Text(s.Name), Text(SchoolTypeNames.Chinese[s.SchoolType]), Text(s.DistrictName),
                Text(s.NextStep is { } next ? InstallationSteps.Chinese[next] : string.Empty), Text(ReportText.Missing(s)),
                Text(Day(s.DueUtc)), Text(s.IsOverdue ? "是" : "否"), Text(s.PrincipalName), Text(s.Phone),
            ]));
        }

        AddSheet(workbook, sheets, 2, UnfinishedSheet, unfinished, [12, 36, 14, 10, 14, 60, 11, 6, 10, 14]);

        var burnUp = new SheetData();
        uint b = 1;
        burnUp.Append(Row(b++, [Text("日期", Bold), Text("累计完成", Bold), Text("累计验收", Bold), Text("目标", Bold)]));
        foreach (var point in snapshot.BurnUp().Where(p => p.Done >= 0))
        {
            burnUp.Append(Row(b++, [Text(point.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), Number(point.Done), Number(point.Accepted), Number(point.Target)]));
        }

        AddSheet(workbook, sheets, 3, BurnUpSheet, burnUp, [12, 10, 10, 10]);
        workbook.Workbook.Save();
    }

    private static Row ProgressRowCells(uint index, ProgressRow row) => Row(index,
    [
        Text(row.Name, row.Key == 0 && row.Name == "合计" ? Bold : 0), Number(row.Schools), Number(row.Reached[0]), Number(row.Reached[1]), Number(row.Reached[2]),
        Number(row.Reached[3]), Number(row.Reached[4]), Number(row.Done), Number(row.DonePercent), Number(row.Overdue),
        Text(row.TargetUtc is { } t ? Day(t) : string.Empty), Number(row.TargetPercent), Text(new string('█', (int)Math.Round(row.DonePercent / 5))),
    ]);

    private static string Day(DateTime utc) => ProgrammeSnapshot.LocalDay(utc.AddTicks(-1)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static WorksheetPart AddSheet(WorkbookPart workbook, Sheets sheets, uint id, string name, SheetData data, double[] widths)
    {
        var part = workbook.AddNewPart<WorksheetPart>();
        var columns = new Columns(widths.Select((w, i) => new Column { Min = (uint)i + 1, Max = (uint)i + 1, Width = w, CustomWidth = true }));
        part.Worksheet = new Worksheet(columns, data);
        sheets.Append(new Sheet { Id = workbook.GetIdOfPart(part), SheetId = id, Name = name });
        return part;
    }

    private static ConditionalFormatting DataBar(string range) => new(
        new ConditionalFormattingRule(
            new DocumentFormat.OpenXml.Spreadsheet.DataBar(
                new ConditionalFormatValueObject { Type = ConditionalFormatValueObjectValues.Number, Val = "0" },
                new ConditionalFormatValueObject { Type = ConditionalFormatValueObjectValues.Number, Val = "100" },
                new Color { Rgb = "FF1E5AA8" }))
        { Type = ConditionalFormatValues.DataBar, Priority = 1 })
    { SequenceOfReferences = new ListValue<StringValue> { InnerText = range } };

    private static Row Row(uint index, Cell[] cells)
    {
        var row = new Row { RowIndex = index };
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i].CellReference = Column(i) + index.ToString(CultureInfo.InvariantCulture);
            row.Append(cells[i]);
        }

        return row;
    }

    private static string Column(int index) => index < 26 ? ((char)('A' + index)).ToString() : ((char)('A' + index / 26 - 1)).ToString() + (char)('A' + index % 26);

    private static Cell Text(string text, uint style = 0) => new(new InlineString(new Text(text))) { DataType = CellValues.InlineString, StyleIndex = style == 0 ? null : style };

    private static Cell Number(double value) => new(new CellValue(value.ToString(CultureInfo.InvariantCulture))) { DataType = CellValues.Number };
}
