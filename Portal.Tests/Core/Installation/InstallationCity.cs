using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Alarms;
using Portal.Core.Audit;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Tests.Data;

namespace Portal.Tests.Core.Installation;

/// <summary>
/// A fresh demo city with its programme (one per test: these tests write), at a fixed clock, with the alarm
/// intake running so the acceptance test goes through the real alarm path.
/// </summary>
public sealed class InstallationCity : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly AlarmNotifier _notifier;
    private readonly AlarmIntake _intake;

    public static readonly DateTimeOffset Now = new(2026, 11, 25, 2, 0, 0, TimeSpan.Zero);

    public InstallationCity(int schools = 40)
    {
        Database = new SqliteDb();
        Time = new FakeTimeProvider(Now);
        FilesRoot = Directory.CreateTempSubdirectory("portal-installation-").FullName;
        Files = new InstallationFiles(FilesRoot);
        new DemoCity(Database.Db, new DeviceSecrets(new EphemeralDataProtectionProvider()), Time).SeedAsync(schools).GetAwaiter().GetResult();
        Schools = new SchoolRepository(Database.Db);
        Queries = new ProgrammeQueries(Database.Db, Time);
        Repository = new InstallationRepository(Database.Db);
        Devices = new DeviceRepository(Database.Db);
        Installation = new InstallationService(Database.Db, Repository, Schools, new DistrictRepository(Database.Db), Devices, Queries, Files, Time);
        var alarms = new AlarmRepository(Database.Db);
        _notifier = new AlarmNotifier(alarms, NullLogger<AlarmNotifier>.Instance);
        _intake = new AlarmIntake(Database.Db, _notifier, Time, NullLogger<AlarmIntake>.Instance);
        _intake.StartAsync(_stop.Token).GetAwaiter().GetResult();
        _notifier.StartAsync(_stop.Token).GetAwaiter().GetResult();
        Alarms = new AlarmService(alarms, _intake, _notifier, Schools, new DistrictRepository(Database.Db), Time);
        Acceptance = new AcceptanceTestService(Database.Db, Repository, Schools, Alarms, Time);
        Reports = new CompletionReportService(Database.Db, Queries, Files, Time);
        Audit = new AuditRepository(Database.Db, Time);
        Serials = new SerialConfirmationService(Database.Db, Repository, Audit, Time);
    }

    public SqliteDb Database { get; }

    public FakeTimeProvider Time { get; }

    public string FilesRoot { get; }

    public InstallationFiles Files { get; }

    public SchoolRepository Schools { get; }

    public InstallationRepository Repository { get; }

    public DeviceRepository Devices { get; }

    public ProgrammeQueries Queries { get; }

    public InstallationService Installation { get; }

    public AlarmService Alarms { get; }

    public AcceptanceTestService Acceptance { get; }

    public CompletionReportService Reports { get; }

    public AuditRepository Audit { get; }

    public SerialConfirmationService Serials { get; }

    public static UserScope CityBureau => new(1, "bureau", Roles.Bureau, null, null);

    public static UserScope DistrictOperator(int districtId) => new(3, "op110", Roles.DistrictOperator, districtId, null);

    public static UserScope Principal(School school) => new(2, "principal", Roles.Principal, school.DistrictId, school.Id);

    public static UserScope DistrictBureau(int districtId) => new(4, "bureau-d", Roles.Bureau, districtId, null);

    /// <summary>The first school (by id) that has done exactly <paramref name="stepsDone"/> steps.</summary>
    public async Task<School> SchoolAtAsync(int stepsDone)
    {
        var snapshot = await Queries.GetSnapshotAsync(UserScope.System);
        var id = snapshot.Schools.Where(s => s.StepsDone == stepsDone).Min(s => s.SchoolId);
        return (await Schools.GetByIdAsync(id))!;
    }

    public async Task<int> CountAsync(string sql, object? args = null)
    {
        await using var connection = Database.Db.Open();
        return await connection.ExecuteScalarAsync<int>(sql, args);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _intake.StopAsync(CancellationToken.None);
        await _notifier.StopAsync(CancellationToken.None);
        _intake.Dispose();
        _notifier.Dispose();
        _stop.Dispose();
        Database.Dispose();
        try
        {
            Directory.Delete(FilesRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
