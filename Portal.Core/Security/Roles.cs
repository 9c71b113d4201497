namespace Portal.Core.Security;

/// <summary>The portal's roles (DESIGN.md "Who uses it"). Names are stored in Identity and in claims.</summary>
public static class Roles
{
    public const string CityOperator = "CityOperator";
    public const string DistrictOperator = "DistrictOperator";
    public const string Bureau = "Bureau";
    public const string Principal = "Principal";
    public const string Admin = "Admin";

    public const string Police = CityOperator + "," + DistrictOperator;

    public static readonly IReadOnlyList<string> All = [CityOperator, DistrictOperator, Bureau, Principal, Admin];
}
