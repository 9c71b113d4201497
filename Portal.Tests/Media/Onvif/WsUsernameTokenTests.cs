using System.Xml.Linq;
using Portal.Media.Onvif;
using Xunit;

namespace Portal.Tests.Media.Onvif;

public sealed class WsUsernameTokenTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 15, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ComputeDigest_KnownInput_MatchesIndependentComputation()
    {
        // Expected value computed independently: base64(sha1(bytes 00..0F + created + password)) in Python.
        var nonce = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

        Assert.Equal("TFDPx64LF28/VwaTBY5M9RXpUY0=", WsUsernameToken.ComputeDigest(nonce, "2026-01-15T08:00:00.000Z", "gate-cam-1"));
    }

    [Fact]
    public void Create_ThenVerify_AcceptsOnlyTheRightPasswordAndTime()
    {
        var token = WsUsernameToken.Create("admin", "pw", Now);

        Assert.True(WsUsernameToken.Verify(token, "admin", "pw", Now.AddSeconds(3), TimeSpan.FromMinutes(5)));
        Assert.False(WsUsernameToken.Verify(token, "admin", "other", Now, TimeSpan.FromMinutes(5)));
        Assert.False(WsUsernameToken.Verify(token, "root", "pw", Now, TimeSpan.FromMinutes(5)));
        Assert.False(WsUsernameToken.Verify(token, "admin", "pw", Now.AddMinutes(10), TimeSpan.FromMinutes(5)));
        Assert.False(WsUsernameToken.Verify(null, "admin", "pw", Now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void ReadFault_NotAuthorized_IsAnAuthenticationFault()
    {
        var document = OnvifSoap.TryLoad(OnvifSoap.CreateFault("env:Sender", "ter:NotAuthorized", "Sender not authorized"))!;

        var fault = OnvifSoap.ReadFault(document);

        Assert.Equal(("env:Sender", "ter:NotAuthorized", "Sender not authorized"), fault);
        Assert.True(OnvifSoap.IsAuthenticationFault(fault!.Value.Subcode));
    }

    [Theory]
    [InlineData("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>")]
    [InlineData("not xml")]
    [InlineData("<a><b></a>")]
    public void TryLoad_HostileOrBrokenXml_ReturnsNull(string text)
    {
        Assert.Null(OnvifSoap.TryLoad(text));
    }

    [Fact]
    public void CreateEnvelope_WithToken_HasSoap12Structure()
    {
        var envelope = XDocument.Parse(OnvifSoap.CreateEnvelope(new XElement(OnvifSoap.Tptz + "Stop"), WsUsernameToken.Create("a", "b", Now)));

        Assert.Equal(OnvifSoap.Env + "Envelope", envelope.Root!.Name);
        Assert.NotNull(envelope.Root.Element(OnvifSoap.Env + "Header")!.Element(XName.Get("Security", WsUsernameToken.WsseNamespace)));
        Assert.NotNull(OnvifSoap.Body(envelope)!.Element(OnvifSoap.Tptz + "Stop"));
    }

    [Fact]
    public void ReadFault_SeededFuzz_NeverThrows()
    {
        byte[][] seeds =
        [
            System.Text.Encoding.UTF8.GetBytes(OnvifSoap.CreateFault("env:Sender", "ter:NotAuthorized", "Sender not authorized")),
            System.Text.Encoding.UTF8.GetBytes(OnvifSoap.CreateEnvelope(new XElement(OnvifSoap.Tptz + "GetPresetsResponse", new XElement(OnvifSoap.Tptz + "Preset", new XAttribute("token", "1"))), WsUsernameToken.Create("a", "b", Now))),
        ];

        foreach (var input in MediaFuzz.Inputs(1021, seeds))
        {
            var document = OnvifSoap.TryLoad(System.Text.Encoding.UTF8.GetString(input));
            if (document is not null)
            {
                _ = OnvifSoap.ReadFault(document);
                _ = WsUsernameToken.Verify(document.Root?.Descendants(XName.Get("Security", WsUsernameToken.WsseNamespace)).FirstOrDefault(), "a", "b", Now, TimeSpan.FromMinutes(5));
            }
        }
    }
}
