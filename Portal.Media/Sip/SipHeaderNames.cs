namespace Portal.Media.Sip;

/// <summary>Header field names we read or write, in their canonical spelling, and the compact forms (RFC 3261 §7.3.3, §20).</summary>
public static class SipHeaderNames
{
    public const string Accept = "Accept";
    public const string Allow = "Allow";
    public const string Authorization = "Authorization";
    public const string CallId = "Call-ID";
    public const string Contact = "Contact";
    public const string ContentEncoding = "Content-Encoding";
    public const string ContentLength = "Content-Length";
    public const string ContentType = "Content-Type";
    public const string CSeq = "CSeq";
    public const string Expires = "Expires";
    public const string From = "From";
    public const string MaxForwards = "Max-Forwards";
    public const string MinExpires = "Min-Expires";
    public const string ProxyAuthenticate = "Proxy-Authenticate";
    public const string ProxyAuthorization = "Proxy-Authorization";
    public const string ProxyRequire = "Proxy-Require";
    public const string RecordRoute = "Record-Route";
    public const string Require = "Require";
    public const string RetryAfter = "Retry-After";
    public const string Route = "Route";
    public const string Server = "Server";
    public const string Supported = "Supported";
    public const string To = "To";
    public const string Unsupported = "Unsupported";
    public const string UserAgent = "User-Agent";
    public const string Via = "Via";
    public const string WwwAuthenticate = "WWW-Authenticate";

    /// <summary>Headers that carry exactly one value; a request with two is malformed (RFC 4475 §3.3.8, §3.3.9).</summary>
    internal static readonly string[] SingleValued = [CallId, CSeq, From, To, MaxForwards, ContentLength, ContentType, Expires];

    /// <summary>The full name for a compact form (RFC 3261 §7.3.3 and later registrations), or the name as given.</summary>
    public static string Expand(string name) => name.Length != 1 ? name : char.ToLowerInvariant(name[0]) switch
    {
        'i' => CallId,
        'm' => Contact,
        'e' => ContentEncoding,
        'l' => ContentLength,
        'c' => ContentType,
        'f' => From,
        's' => "Subject",
        'k' => Supported,
        't' => To,
        'v' => Via,
        'o' => "Event",
        'u' => "Allow-Events",
        'r' => "Refer-To",
        'x' => "Session-Expires",
        _ => name,
    };
}
