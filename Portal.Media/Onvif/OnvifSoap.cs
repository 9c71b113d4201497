using System.Xml;
using System.Xml.Linq;

namespace Portal.Media.Onvif;

/// <summary>SOAP 1.2 envelopes and faults as ONVIF uses them (W3C SOAP 1.2 Part 1 §5.4 for faults).</summary>
/// <remarks>
/// <code>
/// &lt;env:Envelope&gt;&lt;env:Header&gt;wsse:Security&lt;/env:Header&gt;&lt;env:Body&gt;request&lt;/env:Body&gt;&lt;/env:Envelope&gt;
/// fault: env:Body/env:Fault/{env:Code/{env:Value, env:Subcode/env:Value ...}, env:Reason/env:Text}
/// </code>
/// Content-Type is <c>application/soap+xml; charset=utf-8</c> (SOAP 1.2 has no SOAPAction header; the action
/// rides as a media-type parameter, which cameras ignore, so it is left out).
/// </remarks>
public static class OnvifSoap
{
    public const string EnvelopeNamespace = "http://www.w3.org/2003/05/soap-envelope";
    public const string SchemaNamespace = "http://www.onvif.org/ver10/schema";
    public const string DeviceNamespace = "http://www.onvif.org/ver10/device/wsdl";
    public const string MediaNamespace = "http://www.onvif.org/ver10/media/wsdl";
    public const string PtzNamespace = "http://www.onvif.org/ver20/ptz/wsdl";
    public const string DeviceIONamespace = "http://www.onvif.org/ver10/deviceIO/wsdl";
    public const string ErrorNamespace = "http://www.onvif.org/ver10/error";

    /// <summary>Largest response accepted; real answers are a few KB, GetCapabilities perhaps 20.</summary>
    public const int MaxResponseBytes = 1024 * 1024;

    public static readonly XNamespace Env = EnvelopeNamespace;
    public static readonly XNamespace Tt = SchemaNamespace;
    public static readonly XNamespace Tds = DeviceNamespace;
    public static readonly XNamespace Trt = MediaNamespace;
    public static readonly XNamespace Tptz = PtzNamespace;
    public static readonly XNamespace Tmd = DeviceIONamespace;
    public static readonly XNamespace Ter = ErrorNamespace;

    public static string CreateEnvelope(XElement body, XElement? security)
    {
        var envelope = new XElement(
            Env + "Envelope",
            new XAttribute(XNamespace.Xmlns + "env", EnvelopeNamespace),
            new XAttribute(XNamespace.Xmlns + "tt", SchemaNamespace),
            new XElement(Env + "Header", security),
            new XElement(Env + "Body", body));
        return envelope.ToString(SaveOptions.DisableFormatting);
    }

    public static string CreateFault(string code, string subcode, string reason)
    {
        var fault = new XElement(
            Env + "Fault",
            new XAttribute(XNamespace.Xmlns + "ter", ErrorNamespace),
            new XElement(
                Env + "Code",
                new XElement(Env + "Value", code),
                new XElement(Env + "Subcode", new XElement(Env + "Value", subcode))),
            new XElement(Env + "Reason", new XElement(Env + "Text", new XAttribute(XNamespace.Xml + "lang", "en"), reason)));
        return CreateEnvelope(fault, null);
    }

    /// <summary>Parses an envelope without DTDs or external entities (XXE-safe); null when it is not XML.</summary>
    public static XDocument? TryLoad(string text)
    {
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxResponseBytes };
            using var reader = XmlReader.Create(new StringReader(text), settings);
            return XDocument.Load(reader);
        }
        catch (XmlException)
        {
            return null;
        }
    }

    public static XElement? Body(XDocument document) => document.Root?.Element(Env + "Body");

    /// <summary>The fault in a response, as (code, most specific subcode, reason), or null.</summary>
    public static (string Code, string? Subcode, string Reason)? ReadFault(XDocument document)
    {
        var fault = Body(document)?.Element(Env + "Fault");
        if (fault is null)
        {
            return null;
        }

        var code = fault.Element(Env + "Code");
        var value = code?.Element(Env + "Value")?.Value.Trim() ?? "unknown";
        string? subcode = null;
        for (var sub = code?.Element(Env + "Subcode"); sub is not null; sub = sub.Element(Env + "Subcode"))
        {
            subcode = sub.Element(Env + "Value")?.Value.Trim() ?? subcode;
        }

        var reason = fault.Element(Env + "Reason")?.Elements(Env + "Text").FirstOrDefault()?.Value.Trim() ?? string.Empty;
        return (value, subcode, reason);
    }

    /// <summary>True for the subcodes devices use to say "bad credentials" (ONVIF Core §5.11.2.1 and common variants).</summary>
    public static bool IsAuthenticationFault(string? subcode) =>
        subcode is not null && (subcode.EndsWith("NotAuthorized", StringComparison.OrdinalIgnoreCase)
            || subcode.EndsWith("FailedAuthentication", StringComparison.OrdinalIgnoreCase));
}
