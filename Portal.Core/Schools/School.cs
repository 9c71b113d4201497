namespace Portal.Core.Schools;

public enum SchoolType
{
    Kindergarten = 0,
    Primary = 1,
    JuniorMiddle = 2,
    NineYear = 3,
    SeniorHigh = 4,
}

public sealed record School
{
    public int Id { get; init; }

    /// <summary>The national school identification code (学校标识码), unique.</summary>
    public required string Code { get; init; }

    public required string Name { get; init; }

    public SchoolType SchoolType { get; init; }

    public int DistrictId { get; init; }

    public required string Address { get; init; }

    public double? Longitude { get; init; }

    public double? Latitude { get; init; }

    public required string PrincipalName { get; init; }

    public required string Phone { get; init; }

    public DateTime CreatedUtc { get; init; }

    public DateTime UpdatedUtc { get; init; }
}

public static class SchoolTypeNames
{
    /// <summary>The Chinese names the bureau's spreadsheets use, in enum order.</summary>
    public static readonly IReadOnlyDictionary<SchoolType, string> Chinese = new Dictionary<SchoolType, string>
    {
        [SchoolType.Kindergarten] = "幼儿园",
        [SchoolType.Primary] = "小学",
        [SchoolType.JuniorMiddle] = "初中",
        [SchoolType.NineYear] = "九年一贯制学校",
        [SchoolType.SeniorHigh] = "高中",
    };

    public static bool TryParseChinese(string text, out SchoolType type)
    {
        foreach (var (key, value) in Chinese)
        {
            if (value == text)
            {
                type = key;
                return true;
            }
        }

        type = default;
        return false;
    }
}
