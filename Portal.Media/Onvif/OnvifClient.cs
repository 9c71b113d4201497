using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;

namespace Portal.Media.Onvif;

/// <summary>A PTZ preset as the camera lists it.</summary>
public sealed record OnvifPreset(string Token, string Name);

/// <summary>A media profile: PTZ and streaming calls name one by token.</summary>
public sealed record OnvifProfile(string Token, string Name);

/// <summary>Service addresses; any left null are asked of the device with GetCapabilities.</summary>
public sealed record OnvifServices(Uri? Media = null, Uri? Ptz = null, Uri? DeviceIO = null);

/// <summary>
/// The ONVIF calls the portal needs from a gate camera: PTZ (continuous move, stop, presets) and the warning
/// light or siren (a relay output, or a PTZ auxiliary command). SOAP 1.2 over HTTP with a WS-Security
/// UsernameToken digest on every request.
/// </summary>
/// <remarks>
/// Before the first authenticated call the client reads the device clock (GetSystemDateAndTime, which needs
/// no credentials) and signs with the device's time: cameras reject tokens whose Created is off by more than a
/// few seconds, and a camera's clock is often wrong. Service addresses from GetCapabilities keep only their
/// path, with our scheme, host and port, because cameras behind NAT or port forwarding report their LAN address.
/// </remarks>
public sealed class OnvifClient
{
    private readonly HttpClient _http;
    private readonly Uri _deviceService;
    private readonly string _username;
    private readonly string _password;
    private readonly TimeProvider _time;
    private OnvifServices _services;
    private TimeSpan? _clockOffset;
    private bool _capabilitiesRead;

    public OnvifClient(HttpClient http, Uri deviceService, string username, string password, OnvifServices? services = null, TimeProvider? timeProvider = null)
    {
        _http = http;
        _deviceService = deviceService;
        _username = username;
        _password = password;
        _services = services ?? new OnvifServices();
        _time = timeProvider ?? TimeProvider.System;
    }

    public OnvifServices Services => _services;

    /// <summary>Device clock minus ours, once known.</summary>
    public TimeSpan? ClockOffset => _clockOffset;

    public async Task<IReadOnlyList<OnvifProfile>> GetProfilesAsync(CancellationToken cancellationToken)
    {
        var uri = (await EnsureServicesAsync(cancellationToken).ConfigureAwait(false)).Media ?? throw new OnvifException("Device has no media service.");
        var body = await CallAsync(uri, new XElement(OnvifSoap.Trt + "GetProfiles"), cancellationToken).ConfigureAwait(false);
        return body.Descendants(OnvifSoap.Trt + "Profiles")
            .Select(p => new OnvifProfile((string?)p.Attribute("token") ?? string.Empty, p.Element(OnvifSoap.Tt + "Name")?.Value ?? string.Empty))
            .ToList();
    }

    /// <summary>Starts moving at the given speeds (-1..1); the camera stops by itself after <paramref name="timeout"/> if given.</summary>
    public async Task ContinuousMoveAsync(string profileToken, double pan, double tilt, double zoom, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var request = new XElement(
            OnvifSoap.Tptz + "ContinuousMove",
            new XElement(OnvifSoap.Tptz + "ProfileToken", profileToken),
            new XElement(
                OnvifSoap.Tptz + "Velocity",
                new XElement(OnvifSoap.Tt + "PanTilt", new XAttribute("x", Clamp(pan)), new XAttribute("y", Clamp(tilt))),
                new XElement(OnvifSoap.Tt + "Zoom", new XAttribute("x", Clamp(zoom)))),
            timeout is { } t ? new XElement(OnvifSoap.Tptz + "Timeout", XmlDuration(t)) : null);
        await CallPtzAsync(request, cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(string profileToken, CancellationToken cancellationToken)
    {
        var request = new XElement(
            OnvifSoap.Tptz + "Stop",
            new XElement(OnvifSoap.Tptz + "ProfileToken", profileToken),
            new XElement(OnvifSoap.Tptz + "PanTilt", "true"),
            new XElement(OnvifSoap.Tptz + "Zoom", "true"));
        await CallPtzAsync(request, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<OnvifPreset>> GetPresetsAsync(string profileToken, CancellationToken cancellationToken)
    {
        var body = await CallPtzAsync(
            new XElement(OnvifSoap.Tptz + "GetPresets", new XElement(OnvifSoap.Tptz + "ProfileToken", profileToken)),
            cancellationToken).ConfigureAwait(false);
        return body.Descendants(OnvifSoap.Tptz + "Preset")
            .Select(p => new OnvifPreset((string?)p.Attribute("token") ?? string.Empty, p.Element(OnvifSoap.Tt + "Name")?.Value ?? string.Empty))
            .ToList();
    }

    public async Task GotoPresetAsync(string profileToken, string presetToken, CancellationToken cancellationToken)
    {
        var request = new XElement(
            OnvifSoap.Tptz + "GotoPreset",
            new XElement(OnvifSoap.Tptz + "ProfileToken", profileToken),
            new XElement(OnvifSoap.Tptz + "PresetToken", presetToken));
        await CallPtzAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a PTZ auxiliary command (ONVIF PTZ §5.5.4), e.g. <c>tt:Wiper|On</c>, <c>tt:IRLamp|On</c>; cameras with
    /// a built-in siren or strobe often expose it as a vendor value listed in the PTZ node's AuxiliaryCommands.
    /// </summary>
    public async Task<string> SendAuxiliaryCommandAsync(string profileToken, string auxiliaryData, CancellationToken cancellationToken)
    {
        var body = await CallPtzAsync(
            new XElement(
                OnvifSoap.Tptz + "SendAuxiliaryCommand",
                new XElement(OnvifSoap.Tptz + "ProfileToken", profileToken),
                new XElement(OnvifSoap.Tptz + "AuxiliaryData", auxiliaryData)),
            cancellationToken).ConfigureAwait(false);
        return body.Descendants(OnvifSoap.Tptz + "AuxiliaryResponse").FirstOrDefault()?.Value ?? string.Empty;
    }

    /// <summary>The relay outputs (alarm outputs) the device has, by token.</summary>
    public async Task<IReadOnlyList<string>> GetRelayOutputsAsync(CancellationToken cancellationToken)
    {
        var body = await CallAsync(_deviceService, new XElement(OnvifSoap.Tds + "GetRelayOutputs"), cancellationToken).ConfigureAwait(false);
        return body.Descendants(OnvifSoap.Tds + "RelayOutputs").Select(r => (string?)r.Attribute("token") ?? string.Empty).ToList();
    }

    /// <summary>Switches a relay output (a warning light or siren wired to the camera's alarm out), via the DeviceIO service if the device has one.</summary>
    public async Task SetRelayOutputStateAsync(string relayToken, bool active, CancellationToken cancellationToken)
    {
        var services = await EnsureServicesAsync(cancellationToken).ConfigureAwait(false);
        var ns = services.DeviceIO is null ? OnvifSoap.Tds : OnvifSoap.Tmd;
        var request = new XElement(
            ns + "SetRelayOutputState",
            new XElement(ns + "RelayOutputToken", relayToken),
            new XElement(ns + "LogicalState", active ? "active" : "inactive"));
        await CallAsync(services.DeviceIO ?? _deviceService, request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the device clock (unauthenticated) and returns it; also sets <see cref="ClockOffset"/>.</summary>
    public async Task<DateTimeOffset> GetSystemDateAndTimeAsync(CancellationToken cancellationToken)
    {
        var body = await CallAsync(_deviceService, new XElement(OnvifSoap.Tds + "GetSystemDateAndTime"), cancellationToken, authenticate: false).ConfigureAwait(false);
        var utc = body.Descendants(OnvifSoap.Tt + "UTCDateTime").FirstOrDefault()
            ?? throw new OnvifException("GetSystemDateAndTime answer has no UTCDateTime.");
        int Part(string parent, string name) =>
            int.TryParse(utc.Element(OnvifSoap.Tt + parent)?.Element(OnvifSoap.Tt + name)?.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;
        try
        {
            var deviceTime = new DateTimeOffset(Part("Date", "Year"), Part("Date", "Month"), Part("Date", "Day"), Part("Time", "Hour"), Part("Time", "Minute"), Part("Time", "Second"), TimeSpan.Zero);
            _clockOffset = deviceTime - _time.GetUtcNow();
            return deviceTime;
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new OnvifException("GetSystemDateAndTime answer has an invalid date.", ex);
        }
    }

    /// <summary>Asks the device where its services are (GetCapabilities, category All).</summary>
    public async Task<OnvifServices> GetCapabilitiesAsync(CancellationToken cancellationToken)
    {
        var body = await CallAsync(_deviceService, new XElement(OnvifSoap.Tds + "GetCapabilities", new XElement(OnvifSoap.Tds + "Category", "All")), cancellationToken).ConfigureAwait(false);
        Uri? Find(string name) =>
            body.Descendants(OnvifSoap.Tt + name).Elements(OnvifSoap.Tt + "XAddr").Select(x => Rebase(x.Value)).FirstOrDefault(u => u is not null);
        _services = new OnvifServices(_services.Media ?? Find("Media"), _services.Ptz ?? Find("PTZ"), _services.DeviceIO ?? Find("DeviceIO"));
        _capabilitiesRead = true;
        return _services;
    }

    private async Task<OnvifServices> EnsureServicesAsync(CancellationToken cancellationToken)
    {
        if (!_capabilitiesRead && (_services.Media is null || _services.Ptz is null))
        {
            await GetCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
        }

        return _services;
    }

    private async Task<XElement> CallPtzAsync(XElement request, CancellationToken cancellationToken)
    {
        var uri = (await EnsureServicesAsync(cancellationToken).ConfigureAwait(false)).Ptz ?? throw new OnvifException("Device has no PTZ service.");
        return await CallAsync(uri, request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<XElement> CallAsync(Uri service, XElement request, CancellationToken cancellationToken, bool authenticate = true)
    {
        if (authenticate && _clockOffset is null)
        {
            try
            {
                await GetSystemDateAndTimeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OnvifException)
            {
                _clockOffset = TimeSpan.Zero; // some devices want auth even for this; sign with our own clock then
            }
        }

        var security = authenticate ? WsUsernameToken.Create(_username, _password, _time.GetUtcNow() + (_clockOffset ?? TimeSpan.Zero)) : null;
        using var content = new StringContent(OnvifSoap.CreateEnvelope(request, security), Encoding.UTF8, "application/soap+xml");
        HttpResponseMessage response;
        try
        {
            // Headers only: the body is read below with a cap. PostAsync would buffer a body without Content-Length
            // (chunked, or until close) whole, up to HttpClient's 2 GB default, before we could refuse it (issue #14).
            using var post = new HttpRequestMessage(HttpMethod.Post, service) { Content = content };
            response = await _http.SendAsync(post, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new OnvifException($"{request.Name.LocalName}: device unreachable ({ex.Message}).", ex);
        }

        using (response)
        {
            var length = response.Content.Headers.ContentLength;
            if (length > OnvifSoap.MaxResponseBytes)
            {
                throw new OnvifException($"{request.Name.LocalName}: response too large.");
            }

            var text = await ReadCappedAsync(response.Content, request.Name.LocalName, cancellationToken).ConfigureAwait(false);
            var document = OnvifSoap.TryLoad(text);
            var status = (int)response.StatusCode;
            if (document is not null && OnvifSoap.ReadFault(document) is { } fault)
            {
                var message = $"{request.Name.LocalName}: device answered fault {fault.Subcode ?? fault.Code}: {fault.Reason}";
                throw OnvifSoap.IsAuthenticationFault(fault.Subcode) || response.StatusCode == HttpStatusCode.Unauthorized
                    ? new OnvifAuthenticationException(message, status, fault.Code, fault.Subcode)
                    : new OnvifException(message, status, fault.Code, fault.Subcode);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new OnvifAuthenticationException($"{request.Name.LocalName}: device refused the credentials for user '{_username}' (HTTP 401).", status, null, null);
            }

            if (!response.IsSuccessStatusCode || document is null || OnvifSoap.Body(document) is not { } body)
            {
                throw new OnvifException($"{request.Name.LocalName}: unexpected answer (HTTP {status}).", status, null, null);
            }

            return body;
        }
    }

    /// <summary>The body as text, refused past <see cref="OnvifSoap.MaxResponseBytes"/> however it is framed.</summary>
    private static async Task<string> ReadCappedAsync(HttpContent content, string operation, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var body = new MemoryStream();
            var chunk = new byte[16 * 1024];
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (body.Length + read > OnvifSoap.MaxResponseBytes)
                    {
                        throw new OnvifException($"{operation}: response too large.");
                    }

                    body.Write(chunk, 0, read);
                }
            }
            catch (IOException ex)
            {
                throw new OnvifException($"{operation}: the answer broke off ({ex.Message}).", ex);
            }

            return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        }
    }

    private Uri? Rebase(string xaddr)
    {
        if (!Uri.TryCreate(xaddr.Trim(), UriKind.Absolute, out var reported))
        {
            return null;
        }

        return new UriBuilder(_deviceService) { Path = reported.AbsolutePath, Query = reported.Query.TrimStart('?') }.Uri;
    }

    private static string Clamp(double value) => Math.Clamp(value, -1, 1).ToString("0.###", CultureInfo.InvariantCulture);

    private static string XmlDuration(TimeSpan value) => System.Xml.XmlConvert.ToString(value);
}
