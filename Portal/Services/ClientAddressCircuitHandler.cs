using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Portal.Services;

/// <summary>
/// Remembers the browser's address when its circuit opens, so every action the user takes is audited
/// with "from where" (the HTTP request is gone by the time a button is clicked).
/// </summary>
public sealed class ClientAddressCircuitHandler(IHttpContextAccessor accessor, CurrentUser currentUser) : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        currentUser.RemoteAddress ??= accessor.HttpContext?.Connection.RemoteIpAddress?.ToString();
        return Task.CompletedTask;
    }
}
