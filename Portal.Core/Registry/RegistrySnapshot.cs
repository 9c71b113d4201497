using System.Data.Common;
using Dapper;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Core.Registry;

/// <summary>
/// The registry as the database holds it, read once per import inside the import's transaction so that
/// the checks and the writes see the same state. Whole rows rather than the repositories' code/serial maps:
/// telling "unchanged" from "updated" needs every imported field, and it costs the same two queries.
/// </summary>
internal sealed class RegistrySnapshot
{
    private const string SelectDistricts = "SELECT Id, Name FROM District";

    private const string SelectSchools =
        "SELECT Id, Code, Name, SchoolType, DistrictId, Address, Longitude, Latitude, PrincipalName, Phone, CreatedUtc, UpdatedUtc FROM School";

    private const string SelectDevices = """
        SELECT Id, SchoolId, Kind, Model, SerialNumber, SipAccount, RtspUrl, OnvifUrl, Username, SecretProtected,
            InstallState, Enabled, HealthState, LastSeenUtc, CreatedUtc, UpdatedUtc
        FROM Device
        """;

    public required Dictionary<string, int> DistrictIdsByName { get; init; }

    public required Dictionary<string, School> SchoolsByCode { get; init; }

    public required Dictionary<int, School> SchoolsById { get; init; }

    public required Dictionary<string, Device> DevicesBySerial { get; init; }

    public required Dictionary<string, Device> DevicesBySipAccount { get; init; }

    public required ILookup<int, Device> DevicesBySchoolId { get; init; }

    public static async Task<RegistrySnapshot> LoadAsync(DbConnection connection, DbTransaction transaction, CancellationToken ct)
    {
        var districts = await connection.QueryAsync<(int Id, string Name)>(new CommandDefinition(SelectDistricts, transaction: transaction, cancellationToken: ct)).ConfigureAwait(false);
        var schools = (await connection.QueryAsync<School>(new CommandDefinition(SelectSchools, transaction: transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        var devices = (await connection.QueryAsync<Device>(new CommandDefinition(SelectDevices, transaction: transaction, cancellationToken: ct)).ConfigureAwait(false)).ToList();
        return new RegistrySnapshot
        {
            DistrictIdsByName = districts.ToDictionary(d => d.Name, d => d.Id, StringComparer.Ordinal),
            SchoolsByCode = schools.ToDictionary(s => s.Code, StringComparer.Ordinal),
            SchoolsById = schools.ToDictionary(s => s.Id),
            DevicesBySerial = devices.ToDictionary(d => d.SerialNumber, StringComparer.Ordinal),
            DevicesBySipAccount = devices.Where(d => d.SipAccount is not null).ToDictionary(d => d.SipAccount!, StringComparer.Ordinal),
            DevicesBySchoolId = devices.ToLookup(d => d.SchoolId),
        };
    }
}
