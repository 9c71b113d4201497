using System.Globalization;
using Dapper;
using Portal.Core.Data;
using Portal.Core.Devices;

namespace Portal.Core.Installation;

/// <summary>
/// Gives the demo city a believable programme: each school's steps follow its devices' install states, with
/// dates spread over the weeks since the programme began (so the burn-up has a shape), two districts whose
/// own target date has passed (so some schools are overdue), and a contact per district.
/// </summary>
public sealed class InstallationDemo(Db db, TimeProvider time)
{
    private static readonly string[] Installers = ["安装队张工", "安装队李工", "安装队王工", "安装队赵工"];

    private static readonly string[] SurveyNotes = ["门卫室有网络与电源", "需新布网线约30米", "门口立杆已具备", "需加装防雨罩"];

    public async Task SeedAsync(int seed = 20261125, CancellationToken ct = default)
    {
        var random = new Random(seed);
        var now = time.GetUtcNow().UtcDateTime;

        // Six weeks in, the deadline at the end of the month it is (or of November when that is later).
        var start = now.Date.AddDays(-44).AddHours(-8);
        var deadline = now < ProgrammeSettings.Default.DeadlineUtc && now > ProgrammeSettings.Default.StartUtc
            ? ProgrammeSettings.Default.DeadlineUtc
            : new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1).AddHours(-8);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO InstallationProgramme (StartUtc, DeadlineUtc, UpdatedUtc, UpdatedBy) VALUES (@Start, @Deadline, @Now, 'demo')",
            new { Start = start, Deadline = deadline, Now = now }, tx, cancellationToken: ct)).ConfigureAwait(false);

        var districts = (await connection.QueryAsync<(int Id, string Code, string Name)>(new CommandDefinition(
            "SELECT Id, Code, Name FROM District ORDER BY Code", transaction: tx, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        for (var i = 0; i < districts.Count; i++)
        {
            // The two central districts promised the city to finish early; that date has passed.
            DateTime? target = i < 2 ? now.Date.AddDays(-5).AddHours(-8) : null;
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO DistrictTarget (DistrictId, TargetUtc, TargetPercent, ContactName, ContactPhone, UpdatedUtc) VALUES (@DistrictId, @TargetUtc, @TargetPercent, @ContactName, @ContactPhone, @Now)",
                new
                {
                    DistrictId = districts[i].Id,
                    TargetUtc = target,
                    TargetPercent = i < 2 ? 100 : 90,
                    ContactName = districts[i].Name + "教育局安全科",
                    ContactPhone = "0532-8" + (6000000 + i * 1111).ToString(CultureInfo.InvariantCulture),
                    Now = now,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        var devices = (await connection.QueryAsync<(int SchoolId, DeviceKind Kind, DeviceInstallState State, string SerialNumber)>(new CommandDefinition(
            "SELECT SchoolId, Kind, InstallState, SerialNumber FROM Device ORDER BY SchoolId, Kind", transaction: tx, cancellationToken: ct)).ConfigureAwait(false))
            .GroupBy(d => d.SchoolId).ToList();
        var span = (now - start).TotalDays;
        var notStarted = 0;
        foreach (var school in devices)
        {
            var terminal = school.FirstOrDefault(d => d.Kind == DeviceKind.AlarmTerminal);
            var camera = school.FirstOrDefault(d => d.Kind == DeviceKind.GateCamera);
            var least = (DeviceInstallState)Math.Min((int)terminal.State, (int)camera.State);

            // Steps follow the devices: installed → steps 0-2, connected → 3, accepted → 4 and mostly signed off.
            var reached = least switch
            {
                DeviceInstallState.Accepted => random.Next(5) == 0 ? 5 : 6,
                DeviceInstallState.Connected => 4,
                DeviceInstallState.Installed => 3,
                _ => terminal.State >= DeviceInstallState.Installed ? 2 : notStarted++ % 2, // half of them surveyed
            };

            // Later stages started earlier: finished schools began in the first weeks, so the burn-up climbs.
            var day = start.AddDays(random.NextDouble() * span * (reached >= 5 ? 0.35 : 0.6)).AddHours(9);
            for (var step = 0; step < reached; step++)
            {
                // Capped an hour per remaining step before now, so the steps stay in order even when squeezed.
                day = Min(day.AddDays(random.NextDouble() * (step == 0 ? 1 : 4)).AddHours(random.Next(0, 6)), now.AddHours(-1 - reached + step));
                var kind = (InstallationStepKind)step;
                await connection.ExecuteAsync(new CommandDefinition(InstallationService.InsertStep, new
                {
                    SchoolId = school.Key,
                    Step = step,
                    DoneUtc = day,
                    DoneBy = kind switch
                    {
                        InstallationStepKind.DevicesOnline => InstallationService.PlatformName,
                        InstallationStepKind.AcceptancePassed => "110值班员",
                        InstallationStepKind.SignedOff => "教育局安全科",
                        _ => Installers[random.Next(Installers.Length)],
                    },
                    Notes = kind == InstallationStepKind.SiteSurveyed ? SurveyNotes[random.Next(SurveyNotes.Length)] : null,
                    SerialNumber = kind switch
                    {
                        InstallationStepKind.TerminalInstalled => terminal.SerialNumber,
                        InstallationStepKind.CameraInstalled => camera.SerialNumber,
                        _ => null,
                    },
                    CreatedUtc = day,
                }, tx, cancellationToken: ct)).ConfigureAwait(false);
                if (kind == InstallationStepKind.AcceptancePassed)
                {
                    await connection.ExecuteAsync(new CommandDefinition("""
                        INSERT INTO AcceptanceTest (SchoolId, AlarmId, Outcome, RequestedUtc, RequestedBy, AudioOk, VideoOk, Notes, RecordedUtc, RecordedBy)
                        VALUES (@SchoolId, NULL, 1, @Requested, '校长', 1, 1, NULL, @Day, '110值班员')
                        """, new { SchoolId = school.Key, Requested = day.AddMinutes(-20), Day = day }, tx, cancellationToken: ct)).ConfigureAwait(false);
                }
            }

            // Devices agree with the steps: a device is "accepted" only where the test passed, "installed" only where recorded.
            var terminalState = reached switch { >= 5 => 3, 4 => 2, >= 2 => 1, _ => 0 };
            var cameraState = reached switch { >= 5 => 3, 4 => 2, 3 => 1, _ => 0 };
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE Device SET InstallState = CASE WHEN Kind = 0 THEN @TerminalState ELSE @CameraState END,
                    HealthState = CASE WHEN (CASE WHEN Kind = 0 THEN @TerminalState ELSE @CameraState END) >= 2 THEN 1 ELSE 0 END
                WHERE SchoolId = @SchoolId
                """, new { SchoolId = school.Key, TerminalState = terminalState, CameraState = cameraState }, tx, cancellationToken: ct)).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
}
