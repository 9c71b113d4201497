namespace Portal.Core.Schools;

public sealed record District(int Id, string Code, string Name, string NameEn);

/// <summary>A 110 command centre: the city centre has no district.</summary>
public sealed record PoliceCentre(int Id, string Name, string NameEn, int? DistrictId, int AnswerDeadlineSeconds);
