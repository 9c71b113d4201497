using Dapper;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Registry;
using Portal.Core.Schools;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;
using static Portal.Core.Registry.RegistryColumns;
using static Portal.Tests.Core.Registry.RegistryFiles;

namespace Portal.Tests.Core.Registry;

/// <summary>Imports into a fresh, migrated SQLite file per test, seeded with the demo city's districts.</summary>
public sealed class RegistryImporterTests : IAsyncLifetime
{
    private readonly SqliteDb _database = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, int> _districts = new(StringComparer.Ordinal);

    private RegistryImporter Importer => new(_database.Db, _time);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var repository = new DistrictRepository(_database.Db);
        foreach (var (code, name, nameEn) in DemoCity.Districts)
        {
            _districts[name] = await repository.CreateAsync(new District(0, code, name, nameEn), Ct);
        }
    }

    public ValueTask DisposeAsync()
    {
        _database.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<RegistryImportResult> ImportAsync(Stream file, string name = "registry.csv", UserScope? scope = null, bool dryRun = false) =>
        Importer.ImportAsync(file, name, scope ?? UserScope.System, dryRun, Ct);

    private static string[][] Rows(int count) => [.. Enumerable.Range(0, count).Select(i => Row(i))];

    private async Task<int> CountAsync(string table)
    {
        await using var connection = _database.Db.Open();
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM " + table);
    }

    [Fact]
    public async Task ImportAsync_ValidCsv_CreatesSchoolsAndPlannedDevices()
    {
        var result = await ImportAsync(Csv(Rows(20)));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(("csv", "utf-8", 20), (result.Format, result.Encoding, result.Rows));
        Assert.Equal(new RegistryImportCounts(20, 0, 0), result.Schools);
        Assert.Equal(new RegistryImportCounts(40, 0, 0), result.Devices);
        var school = await new SchoolRepository(_database.Db).GetByCodeAsync("3370000003", Ct);
        Assert.NotNull(school);
        Assert.Equal((SchoolType.Primary, _districts["市南区"], 120.195321, "校长3"), (school.SchoolType, school.DistrictId, school.Longitude!.Value, school.PrincipalName));
        var devices = await new DeviceRepository(_database.Db).GetManyBySchoolIdAsync(school.Id, Ct);
        Assert.Equal(2, devices.Count);
        Assert.All(devices, d => Assert.Equal((DeviceInstallState.Planned, (string?)null, true), (d.InstallState, d.SecretProtected, d.Enabled)));
        Assert.Equal("terminal-00003", devices.Single(d => d.Kind == DeviceKind.AlarmTerminal).SipAccount);
        Assert.Equal("rtsp://cam-00003.school.local:554/Streaming/Channels/101", devices.Single(d => d.Kind == DeviceKind.GateCamera).RtspUrl);
    }

    [Fact]
    public async Task ImportAsync_SameFileTwice_SecondRunChangesNothing()
    {
        await ImportAsync(Csv(Rows(10)));
        var before = await new SchoolRepository(_database.Db).GetByCodeAsync("3370000001", Ct);
        _time.Advance(TimeSpan.FromHours(1));

        var again = await ImportAsync(Csv(Rows(10)));

        Assert.Equal(new RegistryImportCounts(0, 0, 10), again.Schools);
        Assert.Equal(new RegistryImportCounts(0, 0, 20), again.Devices);
        var after = await new SchoolRepository(_database.Db).GetByCodeAsync("3370000001", Ct);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task ImportAsync_OneRowChanged_UpdatesOnlyThatRowAndKeepsDeviceState()
    {
        await ImportAsync(Csv(Rows(5)));
        await using (var connection = _database.Db.Open())
        {
            await connection.ExecuteAsync("UPDATE Device SET InstallState = 3, Username = 'admin' WHERE SerialNumber = 'CAM00000002'");
        }

        _time.Advance(TimeSpan.FromHours(1));
        var rows = Rows(5);
        rows[2] = rows[2].With(Principal, "新校长").With(CameraModel, "PTZ-8K");

        var result = await ImportAsync(Csv(rows));

        Assert.Equal(new RegistryImportCounts(0, 1, 4), result.Schools);
        Assert.Equal(new RegistryImportCounts(0, 1, 9), result.Devices);
        var camera = await new DeviceRepository(_database.Db).GetBySerialNumberAsync("CAM00000002", Ct);
        Assert.Equal(("PTZ-8K", DeviceInstallState.Accepted, "admin", _time.GetUtcNow().UtcDateTime), (camera!.Model, camera.InstallState, camera.Username, camera.UpdatedUtc));
    }

    [Fact]
    public async Task ImportAsync_DryRun_CountsButWritesNothing()
    {
        var result = await ImportAsync(Csv(Rows(3)), dryRun: true);

        Assert.True(result.DryRun);
        Assert.Equal(new RegistryImportCounts(3, 0, 0), result.Schools);
        Assert.Equal(0, await CountAsync("School"));
    }

    [Fact]
    public async Task ImportAsync_OneBadRowAmongGood_WritesNothingAndNamesLine()
    {
        var rows = Rows(6);
        rows[4] = rows[4].With(DistrictName, "火星区");

        var result = await ImportAsync(Csv(rows));

        var problem = Assert.Single(result.Problems);
        Assert.Equal((6, DistrictName, RegistryProblemCodes.UnknownDistrict, "火星区"), (problem.Line, problem.Column, problem.Code, problem.Value));
        Assert.Equal(("未知的区市", "Unknown district"), (problem.Zh, problem.En));
        Assert.Equal(0, await CountAsync("School"));
        Assert.Equal(0, await CountAsync("Device"));
    }

    [Theory]
    [InlineData(SchoolCode, "337000001", RegistryProblemCodes.InvalidSchoolCode)]
    [InlineData(SchoolCode, "33700000AB", RegistryProblemCodes.InvalidSchoolCode)]
    [InlineData(SchoolCode, "3.37E+09", RegistryProblemCodes.PrecisionLost)]
    [InlineData(SchoolName, "", RegistryProblemCodes.Required)]
    [InlineData(TypeName, "大学", RegistryProblemCodes.UnknownSchoolType)]
    [InlineData(DistrictName, "", RegistryProblemCodes.Required)]
    [InlineData(Longitude, "东经120", RegistryProblemCodes.InvalidCoordinate)]
    [InlineData(Longitude, "36.01", RegistryProblemCodes.CoordinateOutOfRange)]
    [InlineData(Latitude, "", RegistryProblemCodes.CoordinatePairIncomplete)]
    [InlineData(TerminalModel, "", RegistryProblemCodes.Required)]
    [InlineData(TerminalSerial, "", RegistryProblemCodes.Required)]
    [InlineData(TerminalSerial, "ATS 0001#", RegistryProblemCodes.InvalidSerial)]
    [InlineData(CameraSerial, "1.23457E+11", RegistryProblemCodes.PrecisionLost)]
    [InlineData(TerminalSip, "terminal@x", RegistryProblemCodes.InvalidSipAccount)]
    [InlineData(CameraRtsp, "http://cam/stream", RegistryProblemCodes.InvalidRtspUrl)]
    [InlineData(CameraOnvif, "cam-1/onvif", RegistryProblemCodes.InvalidOnvifUrl)]
    [InlineData(Phone, "053212345678901234567890123456789", RegistryProblemCodes.TooLong)]
    public async Task ImportAsync_BadValue_ReportsLineColumnAndCode(string column, string value, string code)
    {
        var rows = Rows(3);
        rows[1] = rows[1].With(column, value);

        var result = await ImportAsync(Csv(rows));

        var problem = Assert.Single(result.Problems);
        Assert.Equal((3, column, code), (problem.Line, problem.Column, problem.Code));
        Assert.False(string.IsNullOrEmpty(problem.Zh));
        Assert.False(string.IsNullOrEmpty(problem.En));
        Assert.Equal(0, await CountAsync("School"));
    }

    [Fact]
    public async Task ImportAsync_ManyBadRows_ListsEveryProblemInOrder()
    {
        var rows = Rows(4);
        rows[0] = rows[0].With(TypeName, "大学").With(CameraRtsp, "ftp://x");
        rows[3] = rows[3].With(SchoolCode, "1");

        var result = await ImportAsync(Csv(rows));

        Assert.Equal(
            [(2, TypeName), (2, CameraRtsp), (5, SchoolCode)],
            result.Problems.Select(p => (p.Line, p.Column!)).ToArray());
    }

    [Fact]
    public async Task ImportAsync_DuplicatesInFile_ReportsLaterRowsWithFirstLine()
    {
        var rows = Rows(4);
        rows[2] = rows[2].With(SchoolCode, rows[0][Index(SchoolCode)]);
        rows[3] = rows[3].With(CameraSerial, rows[1][Index(TerminalSerial)]).With(TerminalSip, rows[1][Index(TerminalSip)]);

        var result = await ImportAsync(Csv(rows));

        Assert.Equal(
            [(4, RegistryProblemCodes.DuplicateSchoolCode), (5, RegistryProblemCodes.DuplicateSerial), (5, RegistryProblemCodes.DuplicateSipAccount)],
            result.Problems.Select(p => (p.Line, p.Code)).Order().ToArray());
        Assert.Contains("第2行", result.Problems[0].Zh, StringComparison.Ordinal);
        Assert.Contains("line 2", result.Problems[0].En, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportAsync_SerialOfAnotherSchoolInDatabase_IsRefused()
    {
        await ImportAsync(Csv(Rows(2)));

        var result = await ImportAsync(Csv([Row(5).With(CameraSerial, "CAM00000000")]));

        var problem = Assert.Single(result.Problems);
        Assert.Equal((2, CameraSerial, RegistryProblemCodes.SerialUsedByOtherSchool), (problem.Line, problem.Column, problem.Code));
        Assert.Contains("3370000000", problem.Zh, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync("School"));
    }

    [Fact]
    public async Task ImportAsync_DeviceMovedThroughBothSchoolsRows_MovesIt()
    {
        await ImportAsync(Csv(Rows(2)));
        var rows = Rows(2);
        rows[0] = rows[0].With(CameraSerial, "CAM-NEW-0");
        rows[1] = rows[1].With(CameraSerial, "CAM00000000");

        var result = await ImportAsync(Csv(rows));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(new RegistryImportCounts(1, 1, 2), result.Devices);
        var moved = await new DeviceRepository(_database.Db).GetBySerialNumberAsync("CAM00000000", Ct);
        var school1 = await new SchoolRepository(_database.Db).GetByCodeAsync("3370000001", Ct);
        Assert.Equal(school1!.Id, moved!.SchoolId);
    }

    [Fact]
    public async Task ImportAsync_SipAccountsSwappedBetweenTerminals_Succeeds()
    {
        await ImportAsync(Csv(Rows(2)));
        var rows = Rows(2);
        rows[0] = rows[0].With(TerminalSip, "terminal-00001");
        rows[1] = rows[1].With(TerminalSip, "terminal-00000");

        var result = await ImportAsync(Csv(rows));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal("terminal-00001", (await new DeviceRepository(_database.Db).GetBySerialNumberAsync("ATS00000000", Ct))!.SipAccount);
    }

    [Fact]
    public async Task ImportAsync_SipAccountOfTerminalNotInFile_IsRefused()
    {
        await ImportAsync(Csv(Rows(2)));

        var result = await ImportAsync(Csv([Row(1).With(TerminalSip, "terminal-00000")]));

        Assert.Equal([RegistryProblemCodes.SipAccountInUse], result.Problems.Select(p => p.Code));
    }

    [Fact]
    public async Task ImportAsync_TerminalSerialUsedAsCamera_ReportsKindMismatch()
    {
        await ImportAsync(Csv(Rows(1)));
        var row = Row(0).With(TerminalSerial, "ATS-NEW").With(TerminalSip, "terminal-new").With(CameraSerial, "ATS00000000");

        var result = await ImportAsync(Csv([row]));

        Assert.Equal([(2, CameraSerial, RegistryProblemCodes.DeviceKindMismatch)], result.Problems.Select(p => (p.Line, p.Column, p.Code)));
    }

    /// <summary>Issue 13: new hardware in the same place keeps the registry entry and is listed for a new key.</summary>
    [Fact]
    public async Task ImportAsync_SchoolsTerminalAndCameraSerialsChange_SameDevicesTakeTheSerialsTerminalFlaggedForKey()
    {
        Assert.True((await ImportAsync(Csv(Rows(2)))).Succeeded);
        var devices = new DeviceRepository(_database.Db);
        var terminal = await devices.GetBySerialNumberAsync("ATS00000000", Ct);
        var camera = await devices.GetBySerialNumberAsync("CAM00000000", Ct);

        var replaced = Row(0).With(TerminalSerial, "ATS-NEW-0000").With(CameraSerial, "CAM-NEW-0000");
        var result = await ImportAsync(Csv([replaced, Row(1)]));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(new RegistryImportCounts(0, 2, 2), result.Devices);
        Assert.Equal(2, result.SerialChanges.Count);
        var terminalChange = result.SerialChanges.Single(c => c.Kind == DeviceKind.AlarmTerminal);
        Assert.Equal((2, "3370000000", "ATS00000000", "ATS-NEW-0000", true), (terminalChange.Line, terminalChange.SchoolCode, terminalChange.OldSerial, terminalChange.NewSerial, terminalChange.NeedsNewKey));
        Assert.False(result.SerialChanges.Single(c => c.Kind == DeviceKind.GateCamera).NeedsNewKey);

        // The same rows, now under the new serials; the terminal keeps its SIP account and is flagged for a key.
        var terminalAfter = await devices.GetByIdAsync(terminal!.Id, Ct);
        Assert.Equal(("ATS-NEW-0000", terminal.SipAccount), (terminalAfter!.SerialNumber, terminalAfter.SipAccount));
        Assert.Equal("CAM-NEW-0000", (await devices.GetByIdAsync(camera!.Id, Ct))!.SerialNumber);
        Assert.True((await devices.GetCredentialsAsync(terminal.Id, Ct))!.RekeyRequired);
        Assert.False((await devices.GetCredentialsAsync(camera.Id, Ct))!.RekeyRequired);
        Assert.Equal(4, await CountAsync("Device"));

        // Issuing the new key clears the flag.
        await devices.RotateApiKeyAsync(terminal.Id, "protected", _time.GetUtcNow().UtcDateTime, _time.GetUtcNow().UtcDateTime, Ct);
        Assert.False((await devices.GetCredentialsAsync(terminal.Id, Ct))!.RekeyRequired);
    }

    [Fact]
    public async Task ImportAsync_OldSerialNamedByAnotherRow_NotAReplacement()
    {
        Assert.True((await ImportAsync(Csv(Rows(2)))).Succeeded);

        // School 1 takes school 0's terminal, school 0 gets a new one: a move, not new hardware in place.
        var result = await ImportAsync(Csv([Row(0).With(TerminalSerial, "ATS-NEW-0000").With(TerminalSip, "terminal-new"), Row(1).With(TerminalSerial, "ATS00000000").With(TerminalSip, "terminal-00000")]), dryRun: true);
        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(new RegistryImportCounts(1, 1, 2), result.Devices);
        Assert.Empty(result.SerialChanges);
    }
}
