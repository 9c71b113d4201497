using Portal.Simulator.Cameras;
using Portal.Simulator.Terminals;

namespace Portal.Simulator;

/// <summary>Command dispatcher: <c>Portal.Simulator &lt;command&gt; [options]</c>. Add a command with one line in <see cref="Commands"/>.</summary>
public static class Program
{
    private static readonly Dictionary<string, (string Usage, Func<string[], CancellationToken, Task<int>> Run)> Commands = new(StringComparer.OrdinalIgnoreCase)
    {
        ["camera"] = (CameraCommand.Usage, CameraCommand.RunAsync),
        ["alarm"] = (AlarmCommand.Usage, AlarmCommand.RunAsync),
        ["heartbeat"] = (HeartbeatCommand.Usage, HeartbeatCommand.RunAsync),
        ["sip-terminal"] = (SipTerminalCommand.Usage, SipTerminalCommand.RunAsync),
    };

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine("Usage: Portal.Simulator <command> [options]");
            foreach (var (_, (usage, _)) in Commands)
            {
                Console.Error.WriteLine("  " + usage);
            }

            return 1;
        }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            return await command.Run(args[1..], cts.Token).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"{args[0]}: {ex.Message}");
            Console.Error.WriteLine("Usage: Portal.Simulator " + command.Usage);
            return 2;
        }
    }
}
