using PdfSharp.Fonts;

namespace Portal.Core.Installation;

/// <summary>
/// Gives PDFsharp one CJK font for every family it asks for: AR PL SungtiL GB from Debian's
/// fonts-arphic-gbsn00lp, a single-file TrueType font (PDFsharp cannot read .ttc collections such as Noto CJK).
/// PDFsharp embeds a subset, so readers need no font installed. Bold is simulated.
/// </summary>
public sealed class CjkFontResolver : IFontResolver
{
    public const string DefaultPath = "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf";

    /// <summary>The environment variable that points at another single-file CJK TrueType font.</summary>
    public const string PathVariable = "PORTAL_CJK_FONT";

    private const string FaceName = "cjk";

    private static readonly Lock Gate = new();
    private static bool _installed;

    private readonly Lazy<byte[]> _font;

    private CjkFontResolver(string path) => _font = new Lazy<byte[]>(() => File.ReadAllBytes(path));

    public static string FontPath => Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } path ? path : DefaultPath;

    /// <summary>Installs the resolver once per process (PDFsharp's font settings are global).</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (_installed)
            {
                return;
            }

            if (!File.Exists(FontPath))
            {
                throw new FileNotFoundException($"The CJK font for PDF reports is missing; install Debian's fonts-arphic-gbsn00lp or set {PathVariable}.", FontPath);
            }

            GlobalFontSettings.FontResolver = new CjkFontResolver(FontPath);
            _installed = true;
        }
    }

    /// <inheritdoc />
    public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic) =>
        new(FaceName, bold, italic);

    /// <inheritdoc />
    public byte[]? GetFont(string faceName) => faceName == FaceName ? _font.Value : null;
}
