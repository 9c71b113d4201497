using System.Text;
using static Portal.Core.Registry.RegistryProblemCodes;

namespace Portal.Core.Registry;

/// <summary>A file turned into records, or the reason it could not be.</summary>
internal sealed record RegistrySheet(string Format, string? Encoding, IReadOnlyList<RawRecord> Records, RegistryProblem? Problem)
{
    public static RegistrySheet Refused(RegistryProblem problem) => new("unknown", null, [], problem);
}

/// <summary>
/// Reads an uploaded registry file within the size limit, decides from its bytes (not its name) whether it
/// is an XLSX package or CSV text, and decodes CSV as UTF-8 (with or without BOM) or GB18030, which is what
/// Chinese Excel writes for "CSV (逗号分隔)" and is a superset of GBK.
/// </summary>
internal static class RegistryFileReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    static RegistryFileReader() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static async Task<RegistrySheet> ReadAsync(Stream content, string fileName, RegistryImportLimits limits, CancellationToken ct)
    {
        var bytes = await ReadLimitedAsync(content, limits.MaxBytes, ct).ConfigureAwait(false);
        if (bytes is null)
        {
            return RegistrySheet.Refused(Make(0, null, FileTooLarge, null, $"上限 {limits.MaxBytes / (1024 * 1024)} MB", $"limit {limits.MaxBytes / (1024 * 1024)} MB"));
        }

        if (bytes.Length == 0)
        {
            return RegistrySheet.Refused(Make(0, null, EmptyFile));
        }

        var span = bytes.AsSpan();
        if (span.StartsWith("PK\u0003\u0004"u8))
        {
            using var stream = new MemoryStream(bytes, writable: false);
            var records = XlsxReader.Read(stream, limits.MaxRows + 2, limits, out var tooLarge);
            if (tooLarge)
            {
                var unpacked = (limits.MaxPartBytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return RegistrySheet.Refused(Make(0, null, FileTooLarge, fileName, $"解压后超过上限（每部分 {unpacked} MB）", $"too large once unpacked (limit {unpacked} MB a part)"));
            }

            return records is null
                ? RegistrySheet.Refused(Make(0, null, NotSpreadsheet, fileName))
                : new RegistrySheet("xlsx", null, records, null);
        }

        // Old binary Excel and Word (OLE2 compound file), PDF, images: name the format so the user knows to re-save.
        if (span.StartsWith((ReadOnlySpan<byte>)[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]))
        {
            return RegistrySheet.Refused(Make(0, null, UnsupportedFormat, fileName, "旧版 .xls/.doc 文件", "legacy .xls/.doc file"));
        }

        if (LooksBinary(span))
        {
            return RegistrySheet.Refused(Make(0, null, NotSpreadsheet, fileName));
        }

        var (text, encoding) = Decode(bytes);
        return new RegistrySheet("csv", encoding, CsvReader.Read(text), null);
    }

    internal static (string Text, string Encoding) Decode(byte[] bytes)
    {
        if (bytes.AsSpan().StartsWith("\uFEFF"u8))
        {
            return (StrictUtf8.GetString(bytes, 3, bytes.Length - 3), "utf-8-bom");
        }

        try
        {
            return (StrictUtf8.GetString(bytes), "utf-8");
        }
        catch (DecoderFallbackException)
        {
            return (Encoding.GetEncoding("GB18030").GetString(bytes), "gb18030");
        }
    }

    /// <summary>
    /// Text never holds NUL or most C0 controls; binary formats (PNG, JPEG, PDF streams, ZIP other than ours)
    /// do within their first bytes. UTF-16 text would also land here, and Excel does not write it for CSV.
    /// </summary>
    private static bool LooksBinary(ReadOnlySpan<byte> bytes)
    {
        var sample = bytes[..Math.Min(bytes.Length, 8192)];
        foreach (var b in sample)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\r' or (byte)'\n' or 0x0C))
            {
                return true;
            }
        }

        return sample.StartsWith("%PDF"u8);
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream content, long maxBytes, CancellationToken ct)
    {
        if (content.CanSeek && content.Length - content.Position > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
