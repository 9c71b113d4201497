using Xunit;

namespace Portal.Tests.Media.Sip;

/// <summary>
/// RFC 4475-style torture messages (our own, by the RFC's categories) against a running SIP element on UDP:
/// each gets the answer RFC 3261 prescribes or is dropped, and the element keeps serving afterwards.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SipTortureTests : IAsyncLifetime
{
    private SipTestNode _node = null!;
    private RawSipPeer _peer = null!;
    private int _sequence;

    public static TheoryData<string> ValidNames => [.. SipTortureMessages.Valid.Select(m => m.Name)];

    public static TheoryData<string> InvalidNames => [.. SipTortureMessages.Invalid.Select(m => m.Name)];

    public ValueTask InitializeAsync()
    {
        _node = SipTestNode.Start().WithAccount("terminal-00001", "right-password");
        _peer = new RawSipPeer(_node.Udp.LocalEndPoint);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _peer.Dispose();
        await _node.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(ValidNames))]
    public async Task ValidMessage_IsProcessed(string name) => await ExpectAsync(SipTortureMessages.Valid.Single(m => m.Name == name));

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task InvalidMessage_IsRefusedOrDropped(string name) => await ExpectAsync(SipTortureMessages.Invalid.Single(m => m.Name == name));

    [Fact]
    public async Task EveryTortureMessage_InOneBurst_LeavesTheElementServing()
    {
        foreach (var (_, text, _) in SipTortureMessages.Valid.Concat(SipTortureMessages.Invalid))
        {
            await _peer.SendAsync(SipTortureMessages.Render(text, _peer.Port, NextId()));
        }

        await _peer.SendAsync(_peer.Probe("z9hG4bKafterburst"));
        Assert.Equal(200, (await FindAsync("probe-z9hG4bKafterburst")).StatusCode);
    }

    [Fact]
    public async Task Refusal_CarriesAllowAcceptAndUnsupported()
    {
        var unsupported = await _peer.AskAsync(SipTortureMessages.Render(SipTortureMessages.Invalid.Single(m => m.Name.StartsWith("3.3.5", StringComparison.Ordinal)).Text, _peer.Port, NextId()));
        var unknownType = await _peer.AskAsync(SipTortureMessages.Render(SipTortureMessages.Invalid.Single(m => m.Name.StartsWith("3.3.6", StringComparison.Ordinal)).Text, _peer.Port, NextId()));
        var unknownMethod = await _peer.AskAsync(SipTortureMessages.Render(SipTortureMessages.Valid.Single(m => m.Name.StartsWith("3.1.1.5", StringComparison.Ordinal)).Text, _peer.Port, NextId()));

        Assert.Equal("nobodyknowsthis, 100rel", unsupported.Headers["Unsupported"]);
        Assert.Equal("application/sdp", unknownType.Headers["Accept"]);
        Assert.Contains("REGISTER", unknownMethod.Headers["Allow"], StringComparison.Ordinal);
    }

    /// <summary>RFC 3261 §21.4.1: a request line we can read and a Via to answer to, but a line that is no header: 400 saying which line.</summary>
    [Fact]
    public async Task LineThatIsNotAHeader_Gets400_NamingTheLine()
    {
        var text = SipTortureMessages.Invalid.Single(m => m.Name.StartsWith("a line that is not a header field", StringComparison.Ordinal)).Text;
        var refusal = await _peer.AskAsync(SipTortureMessages.Render(text, _peer.Port, NextId()));
        Assert.Equal(400, refusal.StatusCode);
        Assert.Equal("Bad Request (line 7 is not a header field)", refusal.ReasonPhrase);
        Assert.Equal("1 OPTIONS", refusal.Headers["CSeq"]); // the readable headers are echoed as usual (§8.2.6.2)
    }

    private async Task ExpectAsync((string Name, string Text, int? Status) message)
    {
        var id = NextId();
        await _peer.SendAsync(SipTortureMessages.Render(message.Text, _peer.Port, id));
        if (message.Status is { } status)
        {
            var response = await FindAsync(id);
            Assert.True(response.StatusCode == status, $"{message.Name}: expected {status}, got {response.StatusCode} {response.ReasonPhrase}");
            return;
        }

        // Dropped: the element answers the next message, and nothing came for this one before it.
        await _peer.SendAsync(_peer.Probe("z9hG4bK" + id));
        var next = await _peer.ReceiveAsync() ?? throw new TimeoutException("the element stopped answering after " + message.Name);
        Assert.True(next.CallId == "probe-z9hG4bK" + id, $"{message.Name}: expected no answer, got {next.StatusCode} {next.ReasonPhrase}");
    }

    /// <summary>The first final response to the message with this id (its branch or Call-ID), skipping 100 and others' answers.</summary>
    private async Task<global::Portal.Media.Sip.SipResponse> FindAsync(string id)
    {
        while (true)
        {
            var response = await _peer.ReceiveAsync() ?? throw new TimeoutException("no answer for " + id);
            if (response.StatusCode >= 200
                && (response.TopVia?.Branch == "z9hG4bK" + id || (response.CallId ?? string.Empty).StartsWith(id, StringComparison.Ordinal)))
            {
                return response;
            }
        }
    }

    private string NextId() => "t" + Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..8];
}
