using Portal.Core.Devices;
using Portal.Media.Sip.Auth;

namespace Portal.Intercom;

/// <summary>
/// The registrar's question "who is this account and what is its password", answered from the device registry through
/// <see cref="DeviceIntake.GetSipCredentialAsync"/> (which caches each account until a credential changes). Only an
/// enabled-or-not alarm terminal with a SIP password is an account; anything else is unknown (the same 403 as a wrong password).
/// </summary>
public sealed class DeviceSipAccountDirectory(DeviceIntake intake) : ISipAccountDirectory
{
    public async ValueTask<SipAccount?> FindAsync(string username, CancellationToken cancellationToken)
    {
        var credential = await intake.GetSipCredentialAsync(username, cancellationToken).ConfigureAwait(false);
        return credential is { Kind: DeviceKind.AlarmTerminal, Password: { Length: > 0 } password }
            ? new SipAccount(credential.SipAccount, password, credential.Enabled, credential.DeviceId)
            : null;
    }
}
