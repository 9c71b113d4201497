using Portal.Core.Devices;
using Portal.Core.Security;

namespace Portal.Core.Notifications;

/// <summary>What a notification is about (its text is the portal's, in the reader's language).</summary>
public enum NotificationKind
{
    DeviceOffline = 0,
    DeviceBackOnline = 1,
    DeviceDegraded = 2,
    DeviceFlapping = 3,
}

/// <summary>Who a notification is for, a bit per role; within a role, the scope decides (school, district, city).</summary>
[Flags]
public enum NotificationAudience
{
    None = 0,
    Principal = 1,
    Bureau = 2,
    Police = 4,
    Admin = 8,
}

public sealed record Notification
{
    public long Id { get; init; }

    public NotificationKind Kind { get; init; }

    public NotificationAudience Audience { get; init; }

    public int DistrictId { get; init; }

    public int SchoolId { get; init; }

    public int? DeviceId { get; init; }

    public required string SchoolName { get; init; }

    public DeviceKind? DeviceKind { get; init; }

    public string? SerialNumber { get; init; }

    public DateTime CreatedUtc { get; init; }

    /// <summary>Whether the reading user has marked it read (lists only).</summary>
    public bool IsRead { get; init; }

    /// <summary>The page a click opens: the school's device health.</summary>
    public string Link => $"/health/schools/{SchoolId}";

    /// <summary>The role's bit in <see cref="NotificationAudience"/>.</summary>
    public static NotificationAudience AudienceOf(string role) => role switch
    {
        Roles.Principal => NotificationAudience.Principal,
        Roles.Bureau => NotificationAudience.Bureau,
        Roles.CityOperator or Roles.DistrictOperator => NotificationAudience.Police,
        Roles.Admin => NotificationAudience.Admin,
        _ => NotificationAudience.None,
    };

    /// <summary>The scope rule: the user's role is in the audience, and the school is in the user's scope.</summary>
    public bool IsFor(UserScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return (Audience & AudienceOf(scope.Role)) != 0 && scope.CanSee(DistrictId, SchoolId);
    }
}
