using System.Globalization;
using Portal.Core.Data;
using Portal.Core.Devices;
using Portal.Core.Installation;
using Portal.Core.Schools;

namespace Portal.Core.Demo;

/// <summary>
/// Builds a believable city (Qingdao's ten districts, 110 centres, several hundred schools with their
/// devices in every installation state) into an empty database. Deterministic: the same seed gives the
/// same city, so the README's demo accounts and the browser tests can name schools.
/// </summary>
public sealed class DemoCity(Db db, DeviceSecrets secrets, TimeProvider time)
{
    // The repositories own the SQL; they are stateless wrappers over the same Db.
    private readonly DistrictRepository _districts = new(db);
    private readonly SchoolRepository _schools = new(db);
    private readonly DeviceRepository _devices = new(db);

    public static readonly IReadOnlyList<(string Code, string Name, string NameEn)> Districts =
    [
        ("370202", "市南区", "Shinan"),
        ("370203", "市北区", "Shibei"),
        ("370211", "黄岛区", "Huangdao"),
        ("370212", "崂山区", "Laoshan"),
        ("370213", "李沧区", "Licang"),
        ("370214", "城阳区", "Chengyang"),
        ("370215", "即墨区", "Jimo"),
        ("370281", "胶州市", "Jiaozhou"),
        ("370283", "平度市", "Pingdu"),
        ("370285", "莱西市", "Laixi"),
    ];

    /// <summary>The password every demo camera uses (RTSP digest auth, ONVIF); stored encrypted like any other.</summary>
    public const string DemoDevicePassword = "demo-device-pass";

    /// <summary>The demo terminals' HMAC key for the signed device API is this prefix plus their serial.</summary>
    public const string DemoApiKeyPrefix = "demo-api-key-";

    /// <summary>The serial of the demo alarm terminal of the school with this number (<c>ATS00000042</c>).</summary>
    public static string TerminalSerial(int school) => "ATS" + school.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The demo terminals' SIP digest password is this prefix plus their SIP account (see <see cref="DemoSipPassword"/>).</summary>
    public const string DemoSipPasswordPrefix = "demo-sip-";

    private static readonly string[] NameParts = ["海", "山", "春", "明", "华", "新", "光", "育", "沧", "湾", "城", "实", "启", "晓", "翠", "蓝", "阳", "北", "岛", "竹"];

    /// <summary>A demo terminal's SIP password, e.g. "demo-sip-terminal-00000"; stored encrypted in its SecretProtected.</summary>
    public static string DemoSipPassword(string sipAccount) => DemoSipPasswordPrefix + sipAccount;

    public async Task<bool> IsEmptyAsync(CancellationToken ct = default)
    {
        return (await _districts.GetAllAsync(ct).ConfigureAwait(false)).Count == 0;
    }

    /// <summary>Seeds districts, centres, <paramref name="schoolCount"/> schools and their two devices each.</summary>
    public async Task SeedAsync(int schoolCount = 420, int seed = 20261125, CancellationToken ct = default)
    {
        var random = new Random(seed);
        var now = time.GetUtcNow().UtcDateTime;
        var protectedPassword = secrets.Protect(DemoDevicePassword);
        await using var connection = await db.OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);

        var districtIds = new List<int>();
        foreach (var (code, name, nameEn) in Districts)
        {
            var id = await _districts.CreateAsync(tx, new District(0, code, name, nameEn), ct).ConfigureAwait(false);
            districtIds.Add(id);
            await _districts.CreateCentreAsync(tx, new PoliceCentre
            {
                Name = $"{name.TrimEnd('区', '市')}分局110指挥中心",
                NameEn = $"{nameEn} 110 Centre",
                DistrictId = id,
                AnswerDeadlineSeconds = 15,
            }, ct).ConfigureAwait(false);
        }

        await _districts.CreateCentreAsync(tx, new PoliceCentre { Name = "青岛市110指挥中心", NameEn = "Qingdao City 110 Centre", AnswerDeadlineSeconds = 30 }, ct).ConfigureAwait(false);

        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < schoolCount; i++)
        {
            var d = i % Districts.Count;
            var type = (SchoolType)(i * 7 % 5);
            string name;
            do
            {
                name = DemoSchoolName(random, Districts[d].Name, type);
            }
            while (!usedNames.Add(name));

            var school = new School
            {
                Code = (3370000000L + i).ToString(CultureInfo.InvariantCulture),
                Name = name,
                SchoolType = type,
                DistrictId = districtIds[d],
                Address = $"{Districts[d].Name}{NameParts[random.Next(NameParts.Length)]}{NameParts[random.Next(NameParts.Length)]}路{random.Next(1, 300)}号",
                Longitude = Math.Round(120.0 + random.NextDouble() * 0.9, 6),
                Latitude = Math.Round(35.8 + random.NextDouble() * 0.85, 6),
                PrincipalName = "校长" + i.ToString(CultureInfo.InvariantCulture),
                Phone = "0532-" + random.Next(10000000, 99999999).ToString(CultureInfo.InvariantCulture),
                CreatedUtc = now,
                UpdatedUtc = now,
            };
            var schoolId = await _schools.CreateAsync(tx, school, ct).ConfigureAwait(false);

            // Spread the programme: most schools done, some in progress, a few not started. The decade term keeps
            // the state from following the district (i % 10), so every district has schools at every stage.
            var state = (((i * 9) + 6 + (i / 10)) % 10) switch
            {
                < 5 => DeviceInstallState.Accepted,
                < 7 => DeviceInstallState.Connected,
                < 9 => DeviceInstallState.Installed,
                _ => DeviceInstallState.Planned,
            };
            var serial = i.ToString("D8", CultureInfo.InvariantCulture);
            var terminal = new Device
            {
                SchoolId = schoolId,
                Kind = DeviceKind.AlarmTerminal,
                Model = "AT-200",
                SerialNumber = TerminalSerial(i),
                SipAccount = "terminal-" + i.ToString("D5", CultureInfo.InvariantCulture),
                Username = "terminal-" + i.ToString("D5", CultureInfo.InvariantCulture),
                SecretProtected = secrets.Protect(DemoSipPassword("terminal-" + i.ToString("D5", CultureInfo.InvariantCulture))),
                ApiKeyProtected = secrets.Protect(DemoApiKeyPrefix + TerminalSerial(i)),
                InstallState = state,
                Enabled = true,
                HealthState = state >= DeviceInstallState.Connected ? DeviceHealthState.Online : DeviceHealthState.Unknown,
                CreatedUtc = now,
                UpdatedUtc = now,
            };
            var camera = terminal with
            {
                Kind = DeviceKind.GateCamera,
                Model = "PTZ-4K",
                SerialNumber = "CAM" + serial,
                SipAccount = null,
                ApiKeyProtected = null,
                SecretProtected = protectedPassword,
                Username = "admin",
                RtspUrl = $"rtsp://cam-{i:D5}.school.local:554/Streaming/Channels/101",
                OnvifUrl = $"http://cam-{i:D5}.school.local/onvif/device_service",

                // A few cameras lag one step behind their terminal, as on real sites.
                InstallState = i % 13 == 0 && state > DeviceInstallState.Planned ? state - 1 : state,
            };
            await _devices.CreateAsync(tx, terminal, ct).ConfigureAwait(false);
            await _devices.CreateAsync(tx, camera, ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        await new InstallationDemo(db, time).SeedAsync(seed, ct).ConfigureAwait(false);
    }

    private static string DemoSchoolName(Random random, string district, SchoolType type)
    {
        var core = NameParts[random.Next(NameParts.Length)] + NameParts[random.Next(NameParts.Length)];
        var number = random.Next(4) == 0 ? $"第{random.Next(1, 60)}" : string.Empty;
        var suffix = type switch
        {
            SchoolType.Kindergarten => "幼儿园",
            SchoolType.Primary => "小学",
            SchoolType.JuniorMiddle => "初中",
            SchoolType.NineYear => "九年一贯制学校",
            _ => "高中",
        };
        return $"青岛市{district}{core}{number}{suffix}";
    }
}
