using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;

namespace Portal.Media.Sip;

/// <summary>A <c>sip:</c> or <c>sips:</c> URI (RFC 3261 §19.1).</summary>
/// <remarks>
/// <code>
/// sip:user:password@host:port;uri-parameters?headers
///     \__ userinfo __/ \_hostport_/\_ params _/\_ headers _/
/// host = hostname / IPv4address / "[" IPv6address "]"
/// </code>
/// The user part may hold ';' (RFC 4475 §3.1.1.9: <c>sip:user;par=u%40example.net@example.com</c>), so userinfo
/// ends at the last '@' before the headers. <see cref="User"/> is unescaped; <see cref="ToString"/> writes the
/// user part as it arrived, so a URI we echo (To, Contact) is byte-identical.
/// </remarks>
public sealed class SipUri
{
    public const int MaxLength = 2048;

    public SipUri(string host, string? user = null, int? port = null, bool secure = false)
    {
        Host = host;
        User = user;
        RawUser = user is null ? null : Escape(user);
        Port = port;
        IsSecure = secure;
    }

    private SipUri(bool secure, string? rawUser, string? user, string? password, string host, int? port, SipParameters parameters, string? headers)
    {
        IsSecure = secure;
        RawUser = rawUser;
        User = user;
        Password = password;
        Host = host;
        Port = port;
        Parameters = parameters;
        Headers = headers;
    }

    /// <summary><c>sips:</c> (TLS all the way, RFC 3261 §19.1).</summary>
    public bool IsSecure { get; }

    public string Scheme => IsSecure ? "sips" : "sip";

    /// <summary>The user part, %-escapes decoded; null when the URI has no userinfo.</summary>
    public string? User { get; }

    /// <summary>The user part exactly as written.</summary>
    public string? RawUser { get; }

    /// <summary>RFC 3261 §19.1.1 deprecates passwords in URIs; kept only so the URI round-trips.</summary>
    public string? Password { get; }

    /// <summary>A host name, an IPv4 address, or an IPv6 reference with its brackets.</summary>
    public string Host { get; }

    public int? Port { get; }

    public SipParameters Parameters { get; } = new();

    /// <summary>The raw <c>?headers</c> part without the '?', or null.</summary>
    public string? Headers { get; }

    /// <summary>The <c>transport</c> parameter, lower case, or null.</summary>
    public string? Transport => Parameters["transport"]?.ToLowerInvariant();

    /// <summary>The host as an address when it is a literal IPv4 or IPv6 address.</summary>
    public IPAddress? HostAddress => IPAddress.TryParse(Host.Trim('[', ']'), out var address) ? address : null;

    public static SipUri Parse(string text) => TryParse(text, out var uri, out var error) ? uri : throw new FormatException(error);

    /// <summary>True when <paramref name="text"/> starts with a URI scheme (RFC 3986 §3.1) followed by ':'.</summary>
    public static bool HasScheme(string text, [NotNullWhen(true)] out string? scheme)
    {
        scheme = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(text[0]))
        {
            return false;
        }

        foreach (var c in text.AsSpan(1, colon - 1))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '+' and not '-' and not '.')
            {
                return false;
            }
        }

        scheme = text[..colon];
        return true;
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out SipUri? uri, out string error)
    {
        uri = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            error = "empty or overlong URI";
            return false;
        }

        foreach (var c in text)
        {
            if (c <= ' ' || c == 0x7F || c is '<' or '>' or '"')
            {
                error = "space or delimiter inside the URI";
                return false;
            }
        }

        bool secure;
        if (text.StartsWith("sip:", StringComparison.OrdinalIgnoreCase))
        {
            secure = false;
        }
        else if (text.StartsWith("sips:", StringComparison.OrdinalIgnoreCase))
        {
            secure = true;
        }
        else
        {
            error = "not a sip: or sips: URI";
            return false;
        }

        var rest = text[(secure ? 5 : 4)..];
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        var at = rest.LastIndexOf('@', question < 0 ? rest.Length - 1 : question);
        if (at < 0 && question >= 0)
        {
            at = rest.LastIndexOf('@'); // a '?' inside the user part
            question = rest.IndexOf('?', at + 1);
        }

        string? rawUser = null, user = null, password = null;
        if (at >= 0)
        {
            var userinfo = rest[..at];
            var colon = userinfo.IndexOf(':', StringComparison.Ordinal);
            rawUser = colon < 0 ? userinfo : userinfo[..colon];
            password = colon < 0 ? null : userinfo[(colon + 1)..];
            if (rawUser.Length == 0 || !SipText.TryUnescape(rawUser, out user))
            {
                error = "empty or badly escaped user part";
                return false;
            }

            rest = rest[(at + 1)..];
            question = rest.IndexOf('?', StringComparison.Ordinal);
        }

        string? headers = null;
        if (question >= 0)
        {
            headers = rest[(question + 1)..];
            rest = rest[..question];
        }

        var semi = rest.IndexOf(';', StringComparison.Ordinal);
        var hostPort = semi < 0 ? rest : rest[..semi];
        if (!TryParseHostPort(hostPort, out var host, out var port))
        {
            error = "bad host or port";
            return false;
        }

        if (!SipParameters.TryParse(semi < 0 ? ReadOnlySpan<char>.Empty : rest.AsSpan(semi), out var parameters, out error))
        {
            return false;
        }

        uri = new SipUri(secure, rawUser, user, password, host, port, parameters, headers);
        error = string.Empty;
        return true;
    }

    /// <summary>Parses <c>host[:port]</c> with an IPv6 reference in brackets.</summary>
    public static bool TryParseHostPort(string text, out string host, out int? port)
    {
        host = string.Empty;
        port = null;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(text[1..close], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = text[..(close + 1)];
            portText = text[(close + 1)..];
            if (portText.Length > 0 && portText[0] != ':')
            {
                return false;
            }
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? text : text[..colon];
            portText = colon < 0 ? string.Empty : text[colon..];
            if (!IsHostName(host))
            {
                return false;
            }
        }

        if (portText.Length > 0)
        {
            if (!int.TryParse(portText.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                return false;
            }

            port = p;
        }

        return true;
    }

    /// <summary>Same target for routing purposes: scheme, user, host and port (RFC 3261 §19.1.4, reduced to what we compare).</summary>
    public bool IsSameTarget(SipUri other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return IsSecure == other.IsSecure && string.Equals(User, other.User, StringComparison.Ordinal)
            && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase) && Port == other.Port;
    }

    public override string ToString()
    {
        var builder = new StringBuilder(64);
        builder.Append(Scheme).Append(':');
        if (RawUser is not null)
        {
            builder.Append(RawUser);
            if (Password is not null)
            {
                builder.Append(':').Append(Password);
            }

            builder.Append('@');
        }

        builder.Append(Host);
        if (Port is { } port)
        {
            builder.Append(':').Append(port.ToString(CultureInfo.InvariantCulture));
        }

        Parameters.WriteTo(builder);
        if (Headers is not null)
        {
            builder.Append('?').Append(Headers);
        }

        return builder.ToString();
    }

    /// <summary>Escapes what may not appear raw in a user part (RFC 3261 §25.1 <c>user</c>).</summary>
    internal static string Escape(string user)
    {
        var builder = new StringBuilder(user.Length);
        foreach (var b in Encoding.UTF8.GetBytes(user))
        {
            var c = (char)b;
            if (b < 0x80 && (char.IsAsciiLetterOrDigit(c) || "-_.!~*'()&=+$,;?/".Contains(c, StringComparison.Ordinal)))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 255)
        {
            return false;
        }

        foreach (var c in host)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.' and not '_')
            {
                return false;
            }
        }

        return true;
    }
}
