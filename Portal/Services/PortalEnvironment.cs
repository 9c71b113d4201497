namespace Portal.Services;

/// <summary>Facts resolved once at start-up: where the data folder is and the public address.</summary>
public sealed record PortalEnvironment(string DataFolder, string PublicUrl);
