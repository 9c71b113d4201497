namespace Portal;

/// <summary>The "Portal" configuration section (appsettings.json, PORTAL__ environment variables, command line).</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>Where the embedded default keeps its SQLite file, Data Protection keys and uploads.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>"Sqlite" (embedded default) or "SqlServer".</summary>
    public string DatabaseEngine { get; set; } = "Sqlite";

    /// <summary>Required for SQL Server; for SQLite defaults to DataFolder/portal.db.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Seeds the demo city and demo users into an empty database and starts simulated devices.</summary>
    public bool DemoMode { get; set; }

    /// <summary>The address browsers use to reach the portal; the OpenID Connect issuer. Defaults to the first --urls entry.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>A PFX file with the certificate that signs and encrypts tokens. Without it, keys are ephemeral
    /// (fine for one instance; several instances behind a load balancer must share a certificate).</summary>
    public string? TokenCertificatePath { get; set; }

    public string? TokenCertificatePassword { get; set; }

    /// <summary>
    /// Map tiles for the alarm pop-up, as a URL template with {z}, {x} and {y} (for example the police GIS's
    /// tile server). Without one the pop-up shows a plain schematic with the coordinates.
    /// </summary>
    public string? MapTileUrl { get; set; }

    /// <summary>How many demo schools to create in demo mode.</summary>
    public int DemoSchoolCount { get; set; } = 420;
}
