using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Alarms;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Core.Installation;
using Portal.Core.Notifications;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Health;
using Portal.Services;
using Portal.Tests.Data;

namespace Portal.Tests.Core.Health;

/// <summary>
/// A demo city on a real SQLite file with the health checks wired as in the portal: the real camera probe (RTSP and
/// ONVIF over sockets) unless a test passes its own, a SIP OPTIONS probe the test controls, and a clock the test moves
/// (socket time-outs stay real: they are the probes' own).
/// </summary>
public sealed class HealthCity : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);

    private readonly HttpClientFactory _http = new();

    public HealthCity(int schools = 20, HealthOptions? options = null, ICameraProbe? cameraProbe = null, ISipOptionsProbe? sipProbe = null, AlarmFlow? alarms = null)
    {
        Database = new SqliteDb();
        Time = new FakeTimeProvider(Start);
        Secrets = new DeviceSecrets(new EphemeralDataProtectionProvider());
        new DemoCity(Database.Db, Secrets, Time).SeedAsync(schools).GetAwaiter().GetResult();
        Options = options ?? new HealthOptions { CheckIntervalSeconds = 60, ProbeTimeoutSeconds = 5, ProbeSpreadSeconds = 0, NotifyAfterSeconds = 120, RetryIntervalSeconds = 0 };
        Devices = new DeviceRepository(Database.Db);
        Schools = new SchoolRepository(Database.Db);
        Installation = new InstallationService(Database.Db, new InstallationRepository(Database.Db), Schools, new DistrictRepository(Database.Db), Devices,
            new ProgrammeQueries(Database.Db, Time), new InstallationFiles(Path.GetTempPath()), Time);
        Repository = new HealthRepository(Database.Db);
        Queries = new HealthQueries(Database.Db, Schools);
        Notifications = new NotificationRepository(Database.Db);
        Center = new NotificationCenter(NullLogger<NotificationCenter>.Instance);
        var resolver = new GateCameraResolver(Microsoft.Extensions.Options.Options.Create(new PortalOptions()), Secrets, NullLoggerFactory.Instance, TimeProvider.System);
        CameraProbe = cameraProbe ?? new CameraHealthProbe(resolver, new DevicePasswordCache(Secrets, Devices), _http, TimeProvider.System);
        Sip = sipProbe ?? new NoSipOptionsProbe();
        Monitor = new HealthMonitor(Repository, Notifications, Center, Installation, CameraProbe, Sip,
            Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<HealthMonitor>.Instance, alarms: alarms);
    }

    public SqliteDb Database { get; }

    public FakeTimeProvider Time { get; }

    public DeviceSecrets Secrets { get; }

    public HealthOptions Options { get; }

    public DeviceRepository Devices { get; }

    public SchoolRepository Schools { get; }

    public InstallationService Installation { get; }

    public HealthRepository Repository { get; }

    public HealthQueries Queries { get; }

    public NotificationRepository Notifications { get; }

    public NotificationCenter Center { get; }

    public ICameraProbe CameraProbe { get; }

    public ISipOptionsProbe Sip { get; }

    public HealthMonitor Monitor { get; }

    public DateTime Now => Time.GetUtcNow().UtcDateTime;

    /// <summary>Demo school <paramref name="index"/> (code 33700000nn).</summary>
    public async Task<School> SchoolAsync(int index) =>
        (await Schools.GetByCodeAsync((3370000000L + index).ToString(System.Globalization.CultureInfo.InvariantCulture)))!;

    public async Task<Device> DeviceAsync(int schoolIndex, DeviceKind kind) =>
        (await Devices.GetManyBySchoolIdAsync((await SchoolAsync(schoolIndex)).Id)).Single(d => d.Kind == kind);

    /// <summary>Demo school indexes whose devices are connected or accepted (online in the demo programme).</summary>
    public async Task<IReadOnlyList<int>> ConnectedSchoolsAsync()
    {
        await using var connection = Database.Db.Open();
        var codes = await connection.QueryAsync<string>(
            "SELECT s.Code FROM School s WHERE NOT EXISTS (SELECT 1 FROM Device d WHERE d.SchoolId = s.Id AND d.InstallState < 2) ORDER BY s.Code");
        return [.. codes.Select(c => (int)(long.Parse(c, System.Globalization.CultureInfo.InvariantCulture) - 3370000000L))];
    }

    /// <summary>Points a demo camera at <paramref name="rtsp"/> and <paramref name="onvif"/> (the administrator's edit).</summary>
    public async Task PointCameraAsync(Device camera, Uri rtsp, Uri? onvif)
    {
        await Devices.UpdateAsync(camera with { RtspUrl = rtsp.ToString(), OnvifUrl = onvif?.ToString() });
    }

    /// <summary>Disables every device except <paramref name="keep"/>, so a cycle probes only the test's own.</summary>
    public async Task KeepOnlyAsync(params int[] keep)
    {
        await using var connection = Database.Db.Open();
        foreach (var id in await connection.QueryAsync<int>("SELECT Id FROM Device"))
        {
            if (!keep.Contains(id))
            {
                var device = (await Devices.GetByIdAsync(id))!;
                await Devices.UpdateAsync(device with { Enabled = false });
            }
        }
    }

    /// <summary>Moves the clock one interval and runs a cycle.</summary>
    public async Task<HealthCycleResult> NextCycleAsync(TimeSpan? advance = null)
    {
        Time.Advance(advance ?? Options.Interval);
        return await Monitor.RunCycleAsync(TestContext.Current.CancellationToken);
    }

    public async Task<DeviceHealthState> StateAsync(int deviceId) => (await Devices.GetByIdAsync(deviceId))!.HealthState;

    public async Task<IReadOnlyList<Notification>> NotificationsForAsync(UserScope scope) =>
        (await Notifications.GetPageAsync(scope, new global::Portal.Core.Data.PageRequest(0, 100), false, Now)).Items;

    public async Task<IReadOnlyList<DeviceHealthEvent>> HistoryAsync(int deviceId)
    {
        await using var connection = Database.Db.Open();
        return [.. await connection.QueryAsync<DeviceHealthEvent>("SELECT Id, DeviceId, FromState, ToState, AtUtc, Detail FROM DeviceHealthEvent WHERE DeviceId = @deviceId ORDER BY Id", new { deviceId })];
    }

    public static UserScope Principal(School school) => new(100 + school.Id, "principal", Roles.Principal, school.DistrictId, school.Id);

    public static UserScope Bureau(int? districtId) => new(7, "bureau", Roles.Bureau, districtId, null);

    public static UserScope Police(int? districtId) => new(8, "op110", districtId is null ? Roles.CityOperator : Roles.DistrictOperator, districtId, null);

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        Database.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The portal's ONVIF health client settings: a bounded buffer, so a camera answering megabytes is refused.</summary>
    private sealed class HttpClientFactory : IHttpClientFactory, IDisposable
    {
        private readonly HttpClientHandler _handler = new();

        public HttpClient CreateClient(string name) => new(_handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(15), MaxResponseContentBufferSize = 256 * 1024 };

        public void Dispose() => _handler.Dispose();
    }
}
