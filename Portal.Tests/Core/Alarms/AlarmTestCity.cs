using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Alarms;
using Portal.Core.Alerts;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Schools;
using Portal.Tests.Data;

namespace Portal.Tests.Core.Alarms;

/// <summary>A fresh demo city per test class with the alarm machinery on a fake clock, the intake running.</summary>
public sealed class AlarmTestCity : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly string _files;

    /// <param name="schools">How many demo schools (two devices each) the city has.</param>
    public AlarmTestCity(int schools = 30)
    {
        Database = new SqliteDb();
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
        Secrets = new DeviceSecrets(new EphemeralDataProtectionProvider());
        new DemoCity(Database.Db, Secrets, Time).SeedAsync(schools).GetAwaiter().GetResult();
        Schools = new SchoolRepository(Database.Db);
        Districts = new DistrictRepository(Database.Db);
        Devices = new DeviceRepository(Database.Db);
        Repository = new AlarmRepository(Database.Db);
        Notifier = new AlarmNotifier(Repository, NullLogger<AlarmNotifier>.Instance);
        Flow = new AlarmFlow(Time);
        Intake = new AlarmIntake(Database.Db, Notifier, Time, NullLogger<AlarmIntake>.Instance, Flow);
        Escalator = new AlarmEscalator(Repository, Notifier, Time, NullLogger<AlarmEscalator>.Instance);
        Service = new AlarmService(Repository, Intake, Notifier, Schools, Districts, Time);
        Refusals = new DeviceRefusalCounter(Database.Db, Time, NullLogger<DeviceRefusalCounter>.Instance);
        Verifier = new DeviceRequestVerifier(Database.Db, Devices, Secrets, Refusals, Time);
        Limits = new DeviceRateLimitOptions();
        Limiter = new DeviceRateLimiter(Limits, Time);
        _files = Directory.CreateTempSubdirectory("portal-alarm-city-").FullName;
        Installation = new InstallationService(Database.Db, new InstallationRepository(Database.Db), Schools, Districts, Devices,
            new ProgrammeQueries(Database.Db, Time), new InstallationFiles(_files), Time);
        Presence = new DevicePresence(Devices, Installation, Time, NullLogger<DevicePresence>.Instance);
        Alerts = new AdminAlertRepository(Database.Db);
        DeviceIntake = NewDeviceIntake(Presence, Limiter);
        Intake.StartAsync(_stop.Token).GetAwaiter().GetResult();
        Notifier.StartAsync(_stop.Token).GetAwaiter().GetResult();
        Presence.StartAsync(_stop.Token).GetAwaiter().GetResult();
    }

    public SqliteDb Database { get; }

    public FakeTimeProvider Time { get; }

    public DeviceSecrets Secrets { get; }

    public SchoolRepository Schools { get; }

    public DistrictRepository Districts { get; }

    public DeviceRepository Devices { get; }

    public AlarmRepository Repository { get; }

    public AlarmNotifier Notifier { get; }

    public AlarmIntake Intake { get; }

    /// <summary>When the intake last committed a press (the health probes wait while alarms flow).</summary>
    public AlarmFlow Flow { get; }

    public AlarmEscalator Escalator { get; }

    public AlarmService Service { get; }

    public DeviceRequestVerifier Verifier { get; }

    public InstallationService Installation { get; }

    public DeviceRefusalCounter Refusals { get; }

    public DeviceRateLimitOptions Limits { get; }

    public DeviceRateLimiter Limiter { get; }

    public DevicePresence Presence { get; }

    public AdminAlertRepository Alerts { get; }

    /// <summary>The one entry point for device requests (HTTP and SIP doors).</summary>
    public DeviceIntake DeviceIntake { get; }

    /// <summary>Another entry point over the same city, e.g. with its own presence (a restarted process) or its own limits.</summary>
    public DeviceIntake NewDeviceIntake(DevicePresence presence, DeviceRateLimiter limiter) =>
        new(Verifier, Devices, Schools, Districts, Secrets, Intake, presence, Alerts, Refusals, limiter, Time, NullLogger<DeviceIntake>.Instance);

    public async Task<(School School, Device Terminal)> SchoolInDistrictAsync(string districtCode, int index = 0)
    {
        var district = (await Districts.GetAllAsync()).Single(d => d.Code == districtCode);
        var page = await Schools.GetPageAsync(global::Portal.Core.Security.UserScope.System, new SchoolQuery(DistrictId: district.Id), new global::Portal.Core.Data.PageRequest(0, 100));
        var school = page.Items[index];
        var terminal = (await Devices.GetManyBySchoolIdAsync(school.Id)).Single(d => d.Kind == DeviceKind.AlarmTerminal);
        return (school, terminal);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Intake.StopAsync(CancellationToken.None);
        await Notifier.StopAsync(CancellationToken.None);
        await Presence.StopAsync(CancellationToken.None);
        Intake.Dispose();
        Notifier.Dispose();
        Escalator.Dispose();
        Presence.Dispose();
        Refusals.Dispose();
        Limiter.Dispose();
        _stop.Dispose();
        Database.Dispose();
        Directory.Delete(_files, recursive: true);
    }
}
