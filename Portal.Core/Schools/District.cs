using System.Diagnostics.CodeAnalysis;

namespace Portal.Core.Schools;

// Property records, not positional ones: SQLite hands integers back as Int64, and Dapper converts them
// for settable properties but needs an exact signature match for constructors.
public sealed record District
{
    public District()
    {
    }

    [SetsRequiredMembers]
    public District(int id, string code, string name, string nameEn) => (Id, Code, Name, NameEn) = (id, code, name, nameEn);

    public int Id { get; init; }

    public required string Code { get; init; }

    public required string Name { get; init; }

    public required string NameEn { get; init; }
}

/// <summary>A 110 command centre: the city centre has no district.</summary>
public sealed record PoliceCentre
{
    public int Id { get; init; }

    public required string Name { get; init; }

    public required string NameEn { get; init; }

    public int? DistrictId { get; init; }

    public int AnswerDeadlineSeconds { get; init; }

    /// <summary>Where an unanswered alarm goes when the deadline passes; null means the city 110 centre.</summary>
    public int? EscalatesToCentreId { get; init; }

    public bool IsCityCentre => DistrictId is null;
}

/// <summary>A district with its 110 centre (if it has one yet), for the administration list.</summary>
public sealed record DistrictWithCentre
{
    public int Id { get; init; }

    public required string Code { get; init; }

    public required string Name { get; init; }

    public required string NameEn { get; init; }

    public int? CentreId { get; init; }

    public string? CentreName { get; init; }

    public int? AnswerDeadlineSeconds { get; init; }

    public int? EscalatesToCentreId { get; init; }

    public int SchoolCount { get; init; }
}
