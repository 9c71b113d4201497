using System.Net;
using Portal.Media.WebRtc.Stun;
using Xunit;

namespace Portal.Tests.Media.WebRtc.Stun;

public class StunMessageTests
{
    // RFC 5769 §2.1-2.3 published vectors (short-term credential). Their padding bytes are 0x20 on purpose.
    private const string Password = "VOkJxbRl1RmTxUk/WvJxBt";

    private static readonly byte[] SampleRequest = Hex(
        "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae" +
        "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74" +
        "00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36" +
        "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20" +
        "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2" +
        "80 28 00 04 e5 7a 3b cf");

    private static readonly byte[] SampleIPv4Response = Hex(
        "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae" +
        "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20" +
        "00 20 00 08 00 01 a1 47 e1 12 a6 43" +
        "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7" +
        "80 28 00 04 c0 7d 4c 96");

    private static readonly byte[] SampleIPv6Response = Hex(
        "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae" +
        "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20" +
        "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9" +
        "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41" +
        "80 28 00 04 c8 fb 0b 4c");

    private static readonly byte[] TransactionId = Hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae");

    public static TheoryData<byte[]> Vectors => new() { SampleRequest, SampleIPv4Response, SampleIPv6Response };

    [Fact]
    public void TryParse_Rfc5769SampleRequest_ReadsIceAttributes()
    {
        Assert.True(StunMessage.TryParse(SampleRequest, out var message, out var error), error);

        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal("evtj:h6vY", message.Username);
        Assert.Equal("STUN test client", message.Software);
        Assert.Equal(0x6e0001ffu, message.Priority);
        Assert.Equal(0x932ff9b151263b36UL, message.IceControlled);
        Assert.Null(message.IceControlling);
        Assert.False(message.UseCandidate);
        Assert.True(message.HasFingerprint);
        Assert.True(message.CheckIntegrity(SampleRequest, StunMessage.ShortTermKey(Password)));
        Assert.False(message.CheckIntegrity(SampleRequest, StunMessage.ShortTermKey("wrong")));
    }

    [Fact]
    public void Write_Rfc5769SampleRequest_ProducesExactBytes()
    {
        var message = new StunMessage
        {
            Type = StunMessageType.BindingRequest,
            TransactionId = TransactionId,
            Software = "STUN test client",
            Priority = 0x6e0001ff,
            IceControlled = 0x932ff9b151263b36,
            Username = "evtj:h6vY",
            PaddingByte = 0x20,
        };
        var buffer = new byte[200];

        var length = message.Write(buffer, StunMessage.ShortTermKey(Password));

        Assert.Equal(Convert.ToHexString(SampleRequest), Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void TryParse_Rfc5769IPv4Response_DecodesXorMappedAddress()
    {
        Assert.True(StunMessage.TryParse(SampleIPv4Response, out var message, out var error), error);

        Assert.Equal(StunMessageType.BindingSuccessResponse, message.Type);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), message.XorMappedAddress);
        Assert.Equal("test vector", message.Software);
        Assert.True(message.CheckIntegrity(SampleIPv4Response, StunMessage.ShortTermKey(Password)));
    }

    [Fact]
    public void TryParse_Rfc5769IPv6Response_DecodesXorMappedAddress()
    {
        Assert.True(StunMessage.TryParse(SampleIPv6Response, out var message, out var error), error);

        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853), message.XorMappedAddress);
        Assert.True(message.CheckIntegrity(SampleIPv6Response, StunMessage.ShortTermKey(Password)));
    }

    [Theory]
    [InlineData("192.0.2.1", 0)]
    [InlineData("2001:db8:1234:5678:11:2233:4455:6677", 1)]
    public void Write_Rfc5769Responses_ProducesExactBytes(string address, int vector)
    {
        var expected = vector == 0 ? SampleIPv4Response : SampleIPv6Response;
        var message = new StunMessage
        {
            Type = StunMessageType.BindingSuccessResponse,
            TransactionId = TransactionId,
            Software = "test vector",
            XorMappedAddress = new IPEndPoint(IPAddress.Parse(address), 32853),
            PaddingByte = 0x20,
        };
        var buffer = new byte[200];

        var length = message.Write(buffer, StunMessage.ShortTermKey(Password));

        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void Write_BindingRequestWithUseCandidate_RoundTrips()
    {
        var request = StunMessage.CreateBindingRequest("local:remote", 1_845_501_695, 0x0102030405060708, controlling: true, useCandidate: true);
        var key = StunMessage.ShortTermKey("a-password-of-22-chars");
        var buffer = new byte[request.GetLength(withIntegrity: true)];

        var length = request.Write(buffer, key);

        Assert.Equal(buffer.Length, length);
        Assert.True(StunMessage.TryParse(buffer, out var parsed, out var error), error);
        Assert.Equal("local:remote", parsed.Username);
        Assert.Equal(1_845_501_695u, parsed.Priority);
        Assert.Equal(0x0102030405060708UL, parsed.IceControlling);
        Assert.True(parsed.UseCandidate);
        Assert.True(parsed.CheckIntegrity(buffer, key));
        Assert.True(request.TransactionId.Span.SequenceEqual(parsed.TransactionId.Span));
    }

    [Fact]
    public void Write_ErrorResponse_RoundTripsCodeAndReason()
    {
        var request = StunMessage.CreateBindingRequest("a:b", 1, 1, controlling: true, useCandidate: false);
        var response = StunMessage.CreateErrorResponse(request, 401, "Unauthorized");
        var buffer = new byte[128];

        var length = response.Write(buffer);

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var parsed, out var error), error);
        Assert.Equal(StunMessageType.BindingErrorResponse, parsed.Type);
        Assert.Equal(401, parsed.ErrorCode);
        Assert.Equal("Unauthorized", parsed.ErrorReason);
        Assert.False(parsed.HasMessageIntegrity);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void TryParse_EveryTruncation_RefusesCleanly(byte[] vector)
    {
        for (var length = 0; length < vector.Length; length++)
        {
            Assert.False(StunMessage.TryParse(vector.AsSpan(0, length), out _, out var error));
            Assert.False(string.IsNullOrEmpty(error));
        }
    }

    [Fact]
    public void TryParse_FlippedByteBeforeFingerprint_RefusesWithFingerprintError()
    {
        var corrupt = (byte[])SampleRequest.Clone();
        corrupt[30] ^= 0x01; // inside SOFTWARE

        Assert.False(StunMessage.TryParse(corrupt, out _, out var error));
        Assert.Contains("FINGERPRINT", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_WrongMagicCookie_Refuses()
    {
        var corrupt = (byte[])SampleRequest.Clone();
        corrupt[4] = 0;

        Assert.False(StunMessage.TryParse(corrupt, out _, out var error));
        Assert.Contains("cookie", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_AttributeLengthPastEnd_Refuses()
    {
        var corrupt = (byte[])SampleIPv4Response[..32];
        corrupt[3] = 12; // message length 12: SOFTWARE header claims 11 bytes but only 8 follow

        Assert.False(StunMessage.TryParse(corrupt, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_InvalidUtf8Username_Refuses()
    {
        var message = new StunMessage { Type = StunMessageType.BindingRequest, TransactionId = TransactionId, Username = "ab:cd", AddFingerprint = false };
        var buffer = new byte[64];
        var length = message.Write(buffer);
        buffer[24] = 0xFF;

        Assert.False(StunMessage.TryParse(buffer.AsSpan(0, length), out _, out var error));
        Assert.Contains("USERNAME", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_FuzzedInput_NeverThrows()
    {
        var key = StunMessage.ShortTermKey(Password);
        var iteration = 0;
        foreach (var input in MediaFuzz.Inputs(5769, [SampleRequest, SampleIPv4Response, SampleIPv6Response]))
        {
            iteration++;
            var ok = StunMessage.TryParse(input, out var message, out var error);
            Assert.True(ok || error.Length > 0, "iteration " + iteration);
            if (ok)
            {
                _ = message!.CheckIntegrity(input, key);
            }
        }
    }

    private static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", string.Empty, StringComparison.Ordinal));
}
