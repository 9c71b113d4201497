using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Schools;

namespace Portal.Tests.Data;

/// <summary>A district, a school and its terminal and camera of their own, through the repositories, on either engine.</summary>
public static class RegistrySeed
{
    public sealed record Seeded(District District, School School, Device Terminal, Device Camera);

    public static async Task<Seeded> SchoolWithDevicesAsync(Db db, DateTime now, CancellationToken ct = default)
    {
        var tag = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var districts = new DistrictRepository(db);
        var district = new District { Code = "D" + tag, Name = "区" + tag, NameEn = "D" + tag };
        district = district with { Id = await districts.CreateAsync(district, ct) };
        var school = new School
        {
            Code = "S" + tag,
            Name = "学校" + tag,
            DistrictId = district.Id,
            Address = "路" + tag,
            PrincipalName = "校长",
            Phone = "0532",
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        school = school with { Id = await new SchoolRepository(db).CreateAsync(school, ct) };
        var devices = new DeviceRepository(db);
        var terminal = new Device
        {
            SchoolId = school.Id,
            Kind = DeviceKind.AlarmTerminal,
            Model = "T1",
            SerialNumber = "ATS" + tag,
            SipAccount = "sip" + tag,
            InstallState = DeviceInstallState.Planned,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        terminal = terminal with { Id = await devices.CreateAsync(terminal, ct) };
        var camera = new Device
        {
            SchoolId = school.Id,
            Kind = DeviceKind.GateCamera,
            Model = "C1",
            SerialNumber = "CAM" + tag,
            RtspUrl = "rtsp://192.0.2.1/" + tag,
            InstallState = DeviceInstallState.Planned,
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        camera = camera with { Id = await devices.CreateAsync(camera, ct) };
        return new Seeded(district, school, terminal, camera);
    }
}
