namespace Portal.Media.Sip.Auth;

/// <summary>A terminal's SIP account as the application's directory knows it.</summary>
/// <param name="Username">The digest user name, also the address-of-record's user part.</param>
/// <param name="Password">The plain password, decrypted by the application for this check only; never logged.</param>
/// <param name="Enabled">A disabled device is refused (403) even with the right password.</param>
/// <param name="DeviceId">The application's id for the device, carried back in events.</param>
public sealed record SipAccount(string Username, string Password, bool Enabled, int DeviceId)
{
    /// <summary>Keeps the password out of logs and debugger displays (records print every property by default).</summary>
    public override string ToString() => $"SipAccount {{ Username = {Username}, Enabled = {Enabled}, DeviceId = {DeviceId} }}";
}

/// <summary>
/// "Who is this account and what is its password": the one thing the SIP layer asks of the application, so
/// Portal.Media needs no database. The portal answers from its device registry (passwords stored encrypted).
/// </summary>
public interface ISipAccountDirectory
{
    /// <summary>The account, or null when no device has this SIP user name.</summary>
    ValueTask<SipAccount?> FindAsync(string username, CancellationToken cancellationToken);
}
