using System.Globalization;

namespace Portal.Media.Sdp;

/// <summary>Small lexical helpers shared by the SDP types, and the attribute look-ups both levels offer.</summary>
internal static class SdpText
{
    /// <summary>RTP payload types are 7 bits (RFC 3550 §5.1).</summary>
    public static bool TryParsePayloadType(ReadOnlySpan<char> text, out int payloadType) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out payloadType) && payloadType is >= 0 and <= 127;

    /// <summary>Splits on single spaces, tolerating runs of spaces and tabs that some cameras emit.</summary>
    public static string[] Tokens(string value) =>
        value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    public static string? Get(IList<SdpAttribute> attributes, string name)
    {
        foreach (var a in attributes)
        {
            if (string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return a.Value ?? string.Empty;
            }
        }

        return null;
    }

    public static void Set(IList<SdpAttribute> attributes, string name, string? value)
    {
        Remove(attributes, name);
        attributes.Add(new SdpAttribute(name, value));
    }

    public static void Remove(IList<SdpAttribute> attributes, string name)
    {
        for (var i = attributes.Count - 1; i >= 0; i--)
        {
            if (string.Equals(attributes[i].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                attributes.RemoveAt(i);
            }
        }
    }

    public static SdpDirection? GetDirection(IList<SdpAttribute> attributes)
    {
        foreach (var a in attributes)
        {
            switch (a.Name.ToLowerInvariant())
            {
                case "sendrecv": return SdpDirection.SendRecv;
                case "sendonly": return SdpDirection.SendOnly;
                case "recvonly": return SdpDirection.RecvOnly;
                case "inactive": return SdpDirection.Inactive;
            }
        }

        return null;
    }

    public static void SetDirection(IList<SdpAttribute> attributes, SdpDirection direction)
    {
        Remove(attributes, "sendrecv");
        Remove(attributes, "sendonly");
        Remove(attributes, "recvonly");
        Remove(attributes, "inactive");
        attributes.Add(new SdpAttribute(direction switch
        {
            SdpDirection.SendOnly => "sendonly",
            SdpDirection.RecvOnly => "recvonly",
            SdpDirection.Inactive => "inactive",
            _ => "sendrecv",
        }));
    }

    public static IReadOnlyList<T> ParseAll<T>(IList<SdpAttribute> attributes, string name, TryParser<T> parser)
    {
        var result = new List<T>();
        foreach (var a in attributes)
        {
            if (a.Value is not null && string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase) && parser(a.Value, out var item))
            {
                result.Add(item);
            }
        }

        return result;
    }

    public delegate bool TryParser<T>(string value, out T result);
}
