using Portal.Core.Data;
using Portal.Core.Security;

namespace Portal.Core.Schools;

/// <summary>Schools as a user may see and change them: every call takes the caller's scope.</summary>
public sealed class SchoolService(SchoolRepository schools, DistrictRepository districts, TimeProvider time)
{
    public Task<Page<School>> GetPageAsync(UserScope scope, SchoolQuery query, PageRequest page, CancellationToken ct = default) =>
        schools.GetPageAsync(scope, query, page, ct);

    /// <summary>Null when the school does not exist or is outside the scope: the caller cannot tell which (404).</summary>
    public async Task<School?> GetAsync(UserScope scope, int id, CancellationToken ct = default)
    {
        var school = await schools.GetByIdAsync(id, ct).ConfigureAwait(false);
        return school is not null && scope.CanSee(school.DistrictId, school.Id) ? school : null;
    }

    /// <summary>The districts a user may pick from: all for city-wide users, their own otherwise.</summary>
    public async Task<IReadOnlyList<District>> GetDistrictsAsync(UserScope scope, CancellationToken ct = default)
    {
        var all = await districts.GetAllAsync(ct).ConfigureAwait(false);
        return scope.DistrictId is { } own ? [.. all.Where(d => d.Id == own)] : all;
    }

    /// <summary>Validates and saves a school; only administrators edit the registry by hand.</summary>
    public async Task<SaveResult> SaveAsync(UserScope scope, School school, CancellationToken ct = default)
    {
        scope.Require(Roles.Admin);
        var errors = Validate(school);
        var all = await districts.GetAllAsync(ct).ConfigureAwait(false);
        if (all.All(d => d.Id != school.DistrictId))
        {
            errors.Add(new FieldError(nameof(School.DistrictId), "UnknownDistrict"));
        }

        var sameCode = await schools.GetByCodeAsync(school.Code.Trim(), ct).ConfigureAwait(false);
        if (sameCode is not null && sameCode.Id != school.Id)
        {
            errors.Add(new FieldError(nameof(School.Code), "DuplicateCode"));
        }

        if (errors.Count > 0)
        {
            return new SaveResult(0, errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var clean = school with
        {
            Code = school.Code.Trim(),
            Name = school.Name.Trim(),
            Address = school.Address.Trim(),
            PrincipalName = school.PrincipalName.Trim(),
            Phone = school.Phone.Trim(),
            UpdatedUtc = now,
        };
        if (school.Id == 0)
        {
            var id = await schools.CreateAsync(clean with { CreatedUtc = now }, ct).ConfigureAwait(false);
            return new SaveResult(id, []);
        }

        if (await schools.GetByIdAsync(school.Id, ct).ConfigureAwait(false) is null)
        {
            return new SaveResult(0, [new FieldError(nameof(School.Id), "NotFound")]);
        }

        await schools.UpdateAsync(clean, ct).ConfigureAwait(false);
        return new SaveResult(school.Id, []);
    }

    private static List<FieldError> Validate(School school)
    {
        var errors = new List<FieldError>();
        if (school.Code is null || school.Code.Trim().Length != 10 || !school.Code.Trim().All(char.IsAsciiDigit))
        {
            errors.Add(new FieldError(nameof(School.Code), "CodeFormat"));
        }

        if (string.IsNullOrWhiteSpace(school.Name) || school.Name.Length > 128)
        {
            errors.Add(new FieldError(nameof(School.Name), "Required"));
        }

        if (!Enum.IsDefined(school.SchoolType))
        {
            errors.Add(new FieldError(nameof(School.SchoolType), "UnknownType"));
        }

        if (string.IsNullOrWhiteSpace(school.Address))
        {
            errors.Add(new FieldError(nameof(School.Address), "Required"));
        }

        if (string.IsNullOrWhiteSpace(school.PrincipalName))
        {
            errors.Add(new FieldError(nameof(School.PrincipalName), "Required"));
        }

        if (string.IsNullOrWhiteSpace(school.Phone))
        {
            errors.Add(new FieldError(nameof(School.Phone), "Required"));
        }

        if (school.Longitude is { } lon && (lon < -180 || lon > 180))
        {
            errors.Add(new FieldError(nameof(School.Longitude), "OutOfRange"));
        }

        if (school.Latitude is { } lat && (lat < -90 || lat > 90))
        {
            errors.Add(new FieldError(nameof(School.Latitude), "OutOfRange"));
        }

        if (school.Longitude is null != school.Latitude is null)
        {
            errors.Add(new FieldError(nameof(School.Longitude), "CoordinatesPair"));
        }

        return errors;
    }
}

/// <summary>A field and the stable code of what is wrong with it; the UI turns the code into words.</summary>
public sealed record FieldError(string Field, string Code);

public sealed record SaveResult(int Id, IReadOnlyList<FieldError> Errors)
{
    public bool Succeeded => Errors.Count == 0;
}
