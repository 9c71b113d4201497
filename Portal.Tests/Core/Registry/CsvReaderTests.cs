using Portal.Core.Registry;
using Xunit;

namespace Portal.Tests.Core.Registry;

public sealed class CsvReaderTests
{
    private static string[][] Cells(string text) => [.. CsvReader.Read(text).Select(r => r.Cells.ToArray())];

    [Theory]
    [InlineData("a,b\r\nc,d\r\n")]
    [InlineData("a,b\nc,d\n")]
    [InlineData("a,b\rc,d")]
    [InlineData("a,b\r\nc,d")]
    public void Read_AnyLineEnding_SplitsRecords(string text)
    {
        Assert.Equal([["a", "b"], ["c", "d"]], Cells(text));
    }

    [Fact]
    public void Read_QuotedFields_KeepCommasQuotesAndLineBreaks()
    {
        var records = CsvReader.Read("x,\"a,b\",\"say \"\"hi\"\"\"\r\n\"line1\r\nline2\",y\r\nlast,\"\"\r\n");

        Assert.Equal([["x", "a,b", "say \"hi\""], ["line1\r\nline2", "y"], ["last", ""]], records.Select(r => r.Cells.ToArray()));
        Assert.Equal([1, 2, 3], records.Select(r => r.Line));
    }

    [Fact]
    public void Read_EmptyFieldsAndTrailingComma_AreKept()
    {
        Assert.Equal([["", "", ""], ["a", ""]], Cells(",,\na,"));
    }

    [Fact]
    public void Read_BlankLines_CountAsRecords()
    {
        Assert.Equal([1, 2, 3], CsvReader.Read("h\n\nx\n").Select(r => r.Line));
    }

    [Fact]
    public void Read_QuoteInsideUnquotedField_IsText()
    {
        Assert.Equal([["5\"", "b"]], Cells("5\",b"));
    }

    [Fact]
    public void Read_UnterminatedQuote_FlagsLastRecord()
    {
        var records = CsvReader.Read("a\n\"open,b");

        Assert.True(records[^1].UnterminatedQuote);
        Assert.Equal(2, records[^1].Line);
    }

    [Fact]
    public void Read_Bom_IsNotPartOfFirstField()
    {
        Assert.Equal([["学校标识码"]], Cells("\uFEFF学校标识码"));
    }
}
