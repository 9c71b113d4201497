using System.Globalization;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Schools;

/// <summary>
/// Districts and their 110 centres as administrators keep them: every change is checked first (nothing is
/// written when anything is wrong) and recorded in the audit trail.
/// </summary>
public sealed class DistrictService(DistrictRepository districts, AuditRepository audit)
{
    /// <summary>Answer deadlines an administrator may set, in seconds.</summary>
    public const int MinDeadlineSeconds = 5, MaxDeadlineSeconds = 600;

    public Task<Page<DistrictWithCentre>> GetPageAsync(UserScope scope, string? search, PageRequest page, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        return districts.GetPageAsync(search, page, ct);
    }

    public Task<IReadOnlyList<PoliceCentre>> GetCentresAsync(UserScope scope, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        return districts.GetCentresAsync(ct);
    }

    /// <summary>Creates (Id 0) or renames a district. Codes and names are unique: the registry import finds districts by name.</summary>
    public async Task<SaveResult> SaveDistrictAsync(Actor actor, District district, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var clean = Clean(district);
        var all = await districts.GetAllAsync(ct).ConfigureAwait(false);
        var errors = ValidateDistrict(clean, all);
        var existing = clean.Id == 0 ? null : all.FirstOrDefault(d => d.Id == clean.Id);
        if (clean.Id != 0 && existing is null)
        {
            errors.Add(new FieldError(nameof(District.Id), "NotFound"));
        }

        if (errors.Count > 0)
        {
            return new SaveResult(0, errors);
        }

        if (existing is null)
        {
            var id = await districts.CreateAsync(clean, ct).ConfigureAwait(false);
            await audit.WriteAsync(actor, AuditActions.DistrictCreated, Describe(clean), null, ct).ConfigureAwait(false);
            return new SaveResult(id, []);
        }

        if (existing != clean)
        {
            await districts.UpdateAsync(clean, ct).ConfigureAwait(false);
            await audit.WriteAsync(actor, AuditActions.DistrictUpdated, Describe(clean), "was " + Describe(existing), ct).ConfigureAwait(false);
        }

        return new SaveResult(clean.Id, []);
    }

    /// <summary>Creates (Id 0) or changes a 110 centre: one per district, one for the city (no district).</summary>
    public async Task<SaveResult> SaveCentreAsync(Actor actor, PoliceCentre centre, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.Scope.Require(Roles.Admin);
        var clean = Clean(centre);
        var allDistricts = await districts.GetAllAsync(ct).ConfigureAwait(false);
        var centres = await districts.GetCentresAsync(ct).ConfigureAwait(false);
        var errors = ValidateCentre(clean, allDistricts, centres);
        var existing = clean.Id == 0 ? null : centres.FirstOrDefault(c => c.Id == clean.Id);
        if (clean.Id != 0 && existing is null)
        {
            errors.Add(new FieldError(nameof(PoliceCentre.Id), "NotFound"));
        }

        if (errors.Count > 0)
        {
            return new SaveResult(0, errors);
        }

        var target = Describe(clean, allDistricts);
        if (existing is null)
        {
            var id = await districts.CreateCentreAsync(clean, ct).ConfigureAwait(false);
            await audit.WriteAsync(actor, AuditActions.CentreCreated, target, Settings(clean, centres), ct).ConfigureAwait(false);
            return new SaveResult(id, []);
        }

        if (existing != clean)
        {
            await districts.UpdateCentreAsync(clean, ct).ConfigureAwait(false);
            await audit.WriteAsync(actor, AuditActions.CentreUpdated, target, Settings(clean, centres) + "; was " + Settings(existing, centres), ct).ConfigureAwait(false);
        }

        return new SaveResult(clean.Id, []);
    }

    internal static District Clean(District d) => d with
    {
        Code = d.Code?.Trim() ?? string.Empty,
        Name = d.Name?.Trim() ?? string.Empty,
        NameEn = d.NameEn?.Trim() ?? string.Empty,
    };

    internal static PoliceCentre Clean(PoliceCentre c) => c with
    {
        Name = c.Name?.Trim() ?? string.Empty,
        NameEn = c.NameEn?.Trim() ?? string.Empty,
    };

    /// <summary>The checks on one district against the others (shared with the district import).</summary>
    internal static List<FieldError> ValidateDistrict(District d, IEnumerable<District> others)
    {
        var errors = new List<FieldError>();
        if (d.Code.Length is < 2 or > 16 || !d.Code.All(char.IsAsciiLetterOrDigit))
        {
            errors.Add(new FieldError(nameof(District.Code), "DistrictCodeFormat"));
        }
        else if (others.Any(o => o.Id != d.Id && string.Equals(o.Code, d.Code, StringComparison.OrdinalIgnoreCase)))
        {
            errors.Add(new FieldError(nameof(District.Code), "DuplicateDistrictCode"));
        }

        if (d.Name.Length == 0)
        {
            errors.Add(new FieldError(nameof(District.Name), "Required"));
        }
        else if (d.Name.Length > 64)
        {
            errors.Add(new FieldError(nameof(District.Name), "TooLong"));
        }
        else if (others.Any(o => o.Id != d.Id && o.Name == d.Name))
        {
            errors.Add(new FieldError(nameof(District.Name), "DuplicateDistrictName"));
        }

        if (d.NameEn.Length > 64)
        {
            errors.Add(new FieldError(nameof(District.NameEn), "TooLong"));
        }

        return errors;
    }

    /// <summary>The checks on one centre against the districts and the other centres (shared with the import).</summary>
    internal static List<FieldError> ValidateCentre(PoliceCentre c, IReadOnlyList<District> allDistricts, IReadOnlyList<PoliceCentre> centres)
    {
        var errors = new List<FieldError>();
        if (c.Name.Length == 0)
        {
            errors.Add(new FieldError(nameof(PoliceCentre.Name), "Required"));
        }
        else if (c.Name.Length > 128)
        {
            errors.Add(new FieldError(nameof(PoliceCentre.Name), "TooLong"));
        }

        if (c.NameEn.Length > 128)
        {
            errors.Add(new FieldError(nameof(PoliceCentre.NameEn), "TooLong"));
        }

        if (c.DistrictId is { } districtId)
        {
            if (allDistricts.All(d => d.Id != districtId))
            {
                errors.Add(new FieldError(nameof(PoliceCentre.DistrictId), "UnknownDistrict"));
            }
            else if (centres.Any(o => o.Id != c.Id && o.DistrictId == districtId))
            {
                errors.Add(new FieldError(nameof(PoliceCentre.DistrictId), "DistrictHasCentre"));
            }
        }
        else if (centres.Any(o => o.Id != c.Id && o.DistrictId is null))
        {
            errors.Add(new FieldError(nameof(PoliceCentre.DistrictId), "CityCentreExists"));
        }

        if (c.AnswerDeadlineSeconds is < MinDeadlineSeconds or > MaxDeadlineSeconds)
        {
            errors.Add(new FieldError(nameof(PoliceCentre.AnswerDeadlineSeconds), "DeadlineRange"));
        }

        if (c.EscalatesToCentreId is { } to)
        {
            if (c.DistrictId is null)
            {
                // The city centre is where escalation ends: an escalated alarm never escalates again.
                errors.Add(new FieldError(nameof(PoliceCentre.EscalatesToCentreId), "CityCentreNoEscalation"));
            }
            else if (to == c.Id)
            {
                errors.Add(new FieldError(nameof(PoliceCentre.EscalatesToCentreId), "EscalatesToSelf"));
            }
            else if (centres.All(o => o.Id != to))
            {
                errors.Add(new FieldError(nameof(PoliceCentre.EscalatesToCentreId), "UnknownCentre"));
            }
        }

        return errors;
    }

    private static string Describe(District d) => d.Code + " " + d.Name;

    private static string Describe(PoliceCentre c, IReadOnlyList<District> allDistricts) =>
        c.Name + " (" + (c.DistrictId is { } id ? allDistricts.FirstOrDefault(d => d.Id == id)?.Code ?? "?" : "city") + ")";

    private static string Settings(PoliceCentre c, IReadOnlyList<PoliceCentre> centres) =>
        string.Create(CultureInfo.InvariantCulture, $"deadline {c.AnswerDeadlineSeconds}s, escalates to ")
        + (c.EscalatesToCentreId is { } to ? centres.FirstOrDefault(o => o.Id == to)?.Name ?? "?" : "city centre");
}
