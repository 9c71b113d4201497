using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Portal.Core.Alarms;

/// <summary>
/// Escalates alarms nobody answered in time. The deadlines are columns of Alarm, so this loop holds no
/// timer of its own: after a restart the first pass escalates whatever fell due meanwhile. Several
/// instances may run it; the conditional update lets only one escalate each alarm.
/// </summary>
public sealed class AlarmEscalator(AlarmRepository alarms, AlarmNotifier notifier, TimeProvider time, ILogger<AlarmEscalator> logger) : BackgroundService
{
    /// <summary>How often deadlines are checked: an escalation is at most this late.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever went wrong, the next tick tries again: a dead escalator would leave every alarm unescalated.
                logger.LogError(ex, "Escalation pass failed; retrying at the next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass: escalate what is due and tell the consoles (an alarm that fails is logged and tried again next pass).</summary>
    public async Task<IReadOnlyList<int>> RunOnceAsync(CancellationToken ct = default)
    {
        var escalated = await alarms.EscalateDueAsync(time.GetUtcNow().UtcDateTime,
            (id, ex) => logger.LogError(ex, "Alarm {AlarmId} could not be escalated; trying again at the next tick", id), ct).ConfigureAwait(false);
        foreach (var e in escalated)
        {
            logger.LogWarning("Alarm {AlarmId} escalated to the city centre: unanswered past its deadline", e.Id);
            notifier.Publish(e.Id, AlarmEventKind.Escalated, e.FormerCentreDistrictId);
        }

        return [.. escalated.Select(e => e.Id)];
    }
}
