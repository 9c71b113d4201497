namespace Portal.Core.Installation;

/// <summary>
/// Photo evidence rules: at most <see cref="MaxBytes"/>, and JPEG, PNG or WebP by their leading bytes (the
/// declared content type and the file name are the uploader's word, so neither is trusted).
/// </summary>
public static class PhotoCheck
{
    public const int MaxBytes = 5 * 1024 * 1024;

    /// <summary>Reads at most one byte past the limit, so an oversized upload is refused without being buffered whole.</summary>
    public static async Task<(byte[]? Bytes, string? Error)> ReadAsync(Stream content, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                return (null, InstallationErrors.PhotoTooLarge);
            }
        }

        var bytes = buffer.ToArray();
        return Sniff(bytes) is null ? (null, InstallationErrors.PhotoNotImage) : (bytes, null);
    }

    public static (string ContentType, string Extension)? Sniff(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF)
        {
            return ("image/jpeg", ".jpg");
        }

        if (bytes.Length >= 8 && bytes[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return ("image/png", ".png");
        }

        if (bytes.Length >= 12 && bytes[..4].SequenceEqual("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return ("image/webp", ".webp");
        }

        return null;
    }
}
