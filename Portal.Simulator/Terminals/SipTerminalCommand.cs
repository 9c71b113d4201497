using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Portal.Media.Sip;
using Portal.Media.Sip.Transport;

namespace Portal.Simulator.Terminals;

/// <summary>
/// <c>sip-terminal --sip 127.0.0.1:5060 --account terminal-00000 [--password P] [--number 110] [--seconds 20] [--tcp] [--register-only]</c>:
/// a simulated SIP alarm terminal that registers with digest, presses (calls the alarm number), waits for an
/// operator to answer, sends a tone and the gate clip, then prints what it sent and received.
/// Demo passwords are <c>demo-sip-</c> + account unless --password is given.
/// </summary>
public static class SipTerminalCommand
{
    public const string Usage = "sip-terminal --sip HOST:PORT --account terminal-00000 [--password P] [--number 110] [--seconds 20] [--wait 120] [--tcp] [--register-only]";

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var options = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument {args[i]}.");
            }

            options[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
        }

        if (!IPEndPoint.TryParse(options.GetValueOrDefault("sip") ?? string.Empty, out var portal) || portal.Port == 0)
        {
            throw new ArgumentException("--sip HOST:PORT (an IP address) is required.");
        }

        var account = options.GetValueOrDefault("account") ?? throw new ArgumentException("--account is required.");
        var password = options.GetValueOrDefault("password") ?? "demo-sip-" + account;
        var seconds = int.Parse(options.GetValueOrDefault("seconds") ?? "20", CultureInfo.InvariantCulture);
        var wait = int.Parse(options.GetValueOrDefault("wait") ?? "120", CultureInfo.InvariantCulture);
        var protocol = options.ContainsKey("tcp") ? SipTransportProtocol.Tcp : SipTransportProtocol.Udp;

        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        await using var fleet = SimulatedTerminalFleet.Start(new SipEndPoint(protocol, portal), loggers);
        var terminal = fleet.Get(account, password);
        var registration = await terminal.RegisterAsync(600, ct).ConfigureAwait(false);
        Console.WriteLine($"REGISTER {account}: {registration.StatusCode} {registration.ReasonPhrase}");
        if (registration.StatusCode != SipStatus.Ok || options.ContainsKey("register-only"))
        {
            return registration.StatusCode == SipStatus.Ok ? 0 : 3;
        }

        using var ringing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        ringing.CancelAfter(TimeSpan.FromSeconds(wait));
        Console.WriteLine($"Pressing: calling {options.GetValueOrDefault("number") ?? "110"}, ringing until an operator answers (at most {wait} s)");
        var result = await terminal.PressAsync(options.GetValueOrDefault("number") ?? "110", ringing.Token).ConfigureAwait(false);
        if (result.Call is null)
        {
            Console.WriteLine($"Call refused: {result.Status} {result.Reason}");
            return 3;
        }

        Console.WriteLine($"Answered: {result.Call.Plan?.Audio?.Codec} + {result.Call.Plan?.Video?.Codec}; talking for {seconds} s");
        await Task.WhenAny(result.Call.Ended, Task.Delay(TimeSpan.FromSeconds(seconds), ct)).ConfigureAwait(false);
        var media = terminal.Media!;
        Console.WriteLine(FormattableString.Invariant($"sent {media.AudioSent} audio + {media.VideoSent} video packets; received {media.AudioReceived} audio packets from the operator"));
        await terminal.HangUpAsync().ConfigureAwait(false);
        return 0;
    }
}
