namespace Portal.Core.Audit;

/// <summary>One administrative change: who, when, from where, what and to what. Never a secret.</summary>
public sealed record AuditEntry
{
    public int Id { get; init; }

    public DateTime AtUtc { get; init; }

    public int? UserId { get; init; }

    public required string UserName { get; init; }

    public string? RemoteAddress { get; init; }

    /// <summary>One of <see cref="AuditActions"/>.</summary>
    public required string Action { get; init; }

    public string? Target { get; init; }

    public string? Detail { get; init; }
}

/// <summary>The stable action codes of the audit trail; the UI words each as "Audit_{code}" with '.' as '_'.</summary>
public static class AuditActions
{
    public const string SetupLinkIssued = "Setup.LinkIssued";
    public const string SetupCompleted = "Setup.Completed";
    public const string DistrictCreated = "District.Created";
    public const string DistrictUpdated = "District.Updated";

    /// <summary>A district's or school's gate camera pre-warm setting changed (issue #15).</summary>
    public const string PrewarmChanged = "Prewarm.Changed";
    public const string CentreCreated = "Centre.Created";
    public const string CentreUpdated = "Centre.Updated";
    public const string DistrictsImported = "District.Imported";
    public const string UserCreated = "User.Created";
    public const string UserDisabled = "User.Disabled";
    public const string UserEnabled = "User.Enabled";
    public const string UserPasswordReset = "User.PasswordReset";
    public const string UserRoleChanged = "User.RoleChanged";
    public const string UserTwoFactorRequired = "User.TwoFactorRequired";
    public const string UserTwoFactorReset = "User.TwoFactorReset";
    public const string UserUnlocked = "User.Unlocked";
    public const string DeviceApiKeyIssued = "Device.ApiKeyIssued";
    public const string DeviceApiKeyRotated = "Device.ApiKeyRotated";
    public const string DeviceApiKeyRevoked = "Device.ApiKeyRevoked";
    public const string DeviceSipPasswordIssued = "Device.SipPasswordIssued";
    public const string DeviceSipPasswordRevoked = "Device.SipPasswordRevoked";
    public const string DeviceCameraLoginSet = "Device.CameraLoginSet";
    public const string DeviceSerialConfirmed = "Device.SerialConfirmed";
    public const string DeviceSerialRejected = "Device.SerialRejected";
    public const string ClientCreated = "Client.Created";
    public const string ClientSecretRotated = "Client.SecretRotated";
    public const string ClientDeleted = "Client.Deleted";
    public const string AlertClosed = "Alert.Closed";

    public static readonly IReadOnlyList<string> All =
    [
        SetupLinkIssued, SetupCompleted, DistrictCreated, DistrictUpdated, CentreCreated, CentreUpdated, DistrictsImported,
        UserCreated, UserDisabled, UserEnabled, UserPasswordReset, UserRoleChanged, UserTwoFactorRequired, UserTwoFactorReset, UserUnlocked,
        DeviceApiKeyIssued, DeviceApiKeyRotated, DeviceApiKeyRevoked, DeviceSipPasswordIssued, DeviceSipPasswordRevoked, DeviceCameraLoginSet,
        DeviceSerialConfirmed, DeviceSerialRejected, ClientCreated, ClientSecretRotated, ClientDeleted, AlertClosed,
    ];
}

/// <summary>Who made a change and from where: the audit trail's "who" for every administrative service call.</summary>
/// <param name="Scope">The signed-in user's scope (its role is checked by the service).</param>
/// <param name="RemoteAddress">The browser's address as the circuit saw it, or null.</param>
public sealed record Actor(Security.UserScope Scope, string? RemoteAddress)
{
    /// <summary>The platform itself, for changes made at start-up.</summary>
    public static readonly Actor System = new(Security.UserScope.System, null);
}
