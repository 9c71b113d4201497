using System.Data.Common;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Core.Registry;

/// <summary>
/// The registry as the database holds it, read once per import inside the import's transaction so that
/// the checks and the writes see the same state. Whole rows rather than the repositories' code/serial maps:
/// telling "unchanged" from "updated" needs every imported field, and it costs the same three queries.
/// </summary>
internal sealed class RegistrySnapshot
{
    public required Dictionary<string, int> DistrictIdsByName { get; init; }

    public required Dictionary<string, School> SchoolsByCode { get; init; }

    public required Dictionary<int, School> SchoolsById { get; init; }

    public required Dictionary<string, Device> DevicesBySerial { get; init; }

    public required Dictionary<string, Device> DevicesBySipAccount { get; init; }

    public required ILookup<int, Device> DevicesBySchoolId { get; init; }

    public static async Task<RegistrySnapshot> LoadAsync(DbTransaction transaction, CancellationToken ct)
    {
        var districts = await DistrictRepository.GetAllAsync(transaction, ct).ConfigureAwait(false);
        var schools = await SchoolRepository.GetAllAsync(transaction, ct).ConfigureAwait(false);
        var devices = await DeviceRepository.GetAllAsync(transaction, ct).ConfigureAwait(false);
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
