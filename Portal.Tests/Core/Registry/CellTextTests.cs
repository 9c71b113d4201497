using Portal.Core.Registry;
using Xunit;

namespace Portal.Tests.Core.Registry;

public sealed class CellTextTests
{
    [Theory]
    [InlineData("３３７０ ０００ ０００", "Identifier", "3370000000")]
    [InlineData("\u00A0ATS-01\u200B ", "Identifier", "ATS-01")]
    [InlineData("０５３２－１２３４\u3000５６７８", "Code", "0532-1234 5678")]
    [InlineData("  第６小学（东校区）\u3000", "Text", "第6小学（东校区）")]
    [InlineData("青岛市  实验\t小学", "Text", "青岛市 实验 小学")]
    [InlineData("ＰＴＺ，４Ｋ", "Code", "PTZ,4K")]
    public void Normalize_ExcelQuirks_FoldToPlainText(string raw, string kind, string expected)
    {
        Assert.Equal(expected, CellText.Normalize(raw, Enum.Parse<CellKind>(kind)));
    }

    [Theory]
    [InlineData("3.37E+09", true)]
    [InlineData("1.23457E+11", true)]
    [InlineData("1E-05", true)]
    [InlineData("4E5", false)]
    [InlineData("PTZ-4E", false)]
    [InlineData("ATS00000001", false)]
    [InlineData("E+10", false)]
    public void IsScientific_ExcelDisplayForm_IsRecognised(string text, bool expected)
    {
        Assert.Equal(expected, CellText.IsScientific(text));
    }

    [Theory]
    [InlineData("3370000000", "3370000000")]
    [InlineData("3.37E9", "3370000000")]
    [InlineData("120.587385", "120.587385")]
    [InlineData("13800138000", "13800138000")]
    [InlineData("123456789012345678", "1.23456789012346E+017")]
    public void FromNumber_StoredNumericCell_GivesExactTextOrFlagsLoss(string stored, string expected)
    {
        Assert.Equal(expected, CellText.FromNumber(stored));
        Assert.Equal(expected.Contains('E', StringComparison.Ordinal), CellText.IsScientific(CellText.FromNumber(stored)));
    }
}
