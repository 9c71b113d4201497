using System.Globalization;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Core.Installation;

/// <summary>
/// Gives the demo city a believable programme: each school's steps follow its devices' install states, with
/// dates spread over the weeks since the programme began (so the burn-up has a shape), two districts whose
/// own target date has passed (so some schools are overdue), and a contact per district.
/// </summary>
public sealed class InstallationDemo(Db db, TimeProvider time)
{
    // The repositories own the SQL; they are stateless wrappers over the same Db.
    private readonly InstallationRepository _installation = new(db);
    private readonly DistrictRepository _districts = new(db);
    private readonly DeviceRepository _devices = new(db);

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
        await InstallationRepository.AddSettingsAsync(tx, new ProgrammeSettings(start, deadline), now, "demo", ct).ConfigureAwait(false);

        var districts = (await DistrictRepository.GetAllAsync(tx, ct).ConfigureAwait(false)).OrderBy(d => d.Code, StringComparer.Ordinal).ToList();
        for (var i = 0; i < districts.Count; i++)
        {
            // The two central districts promised the city to finish early; that date has passed.
            DateTime? target = i < 2 ? now.Date.AddDays(-5).AddHours(-8) : null;
            await InstallationRepository.SaveDistrictTargetAsync(tx, new DistrictTarget
            {
                DistrictId = districts[i].Id,
                TargetUtc = target,
                TargetPercent = i < 2 ? 100 : 90,
                ContactName = districts[i].Name + "教育局安全科",
                ContactPhone = "0532-8" + (6000000 + i * 1111).ToString(CultureInfo.InvariantCulture),
            }, now, ct).ConfigureAwait(false);
        }

        var devices = (await DeviceRepository.GetAllAsync(tx, ct).ConfigureAwait(false))
            .Select(d => (d.SchoolId, d.Kind, State: d.InstallState, d.SerialNumber))
            .OrderBy(d => d.SchoolId).ThenBy(d => d.Kind)
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
                await InstallationRepository.AddStepAsync(tx, new InstallationStepRecord
                {
                    SchoolId = school.Key,
                    Step = kind,
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
                }, ct).ConfigureAwait(false);
                if (kind == InstallationStepKind.AcceptancePassed)
                {
                    await _installation.AddTestAsync(tx, new AcceptanceTest
                    {
                        SchoolId = school.Key,
                        Outcome = AcceptanceOutcome.Passed,
                        RequestedUtc = day.AddMinutes(-20),
                        RequestedBy = "校长",
                        AudioOk = true,
                        VideoOk = true,
                        RecordedUtc = day,
                        RecordedBy = "110值班员",
                    }, ct).ConfigureAwait(false);
                }
            }

            // Devices agree with the steps: a device is "accepted" only where the test passed, "installed" only where recorded.
            var terminalState = reached switch { >= 5 => DeviceInstallState.Accepted, 4 => DeviceInstallState.Connected, >= 2 => DeviceInstallState.Installed, _ => DeviceInstallState.Planned };
            var cameraState = reached switch { >= 5 => DeviceInstallState.Accepted, 4 => DeviceInstallState.Connected, 3 => DeviceInstallState.Installed, _ => DeviceInstallState.Planned };
            foreach (var (kind, state) in new[] { (DeviceKind.AlarmTerminal, terminalState), (DeviceKind.GateCamera, cameraState) })
            {
                var health = state >= DeviceInstallState.Connected ? DeviceHealthState.Online : DeviceHealthState.Unknown;
                await DeviceRepository.SetInstallStateAsync(tx, school.Key, kind, state, health, ct).ConfigureAwait(false);
            }
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
}
