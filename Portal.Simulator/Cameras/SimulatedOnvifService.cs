using System.Globalization;
using System.Net;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portal.Media.Onvif;

namespace Portal.Simulator.Cameras;

/// <summary>
/// The gate camera's ONVIF endpoint on Kestrel: device, media, PTZ and DeviceIO services, each request's
/// UsernameToken verified (a wrong one gets the ONVIF Core §5.11.2.1 <c>ter:NotAuthorized</c> fault, HTTP 400).
/// </summary>
public sealed class SimulatedOnvifService : IAsyncDisposable
{
    public const string ProfileToken = "profile_1";

    private static readonly XNamespace Env = OnvifSoap.Env;
    private static readonly XNamespace Tt = OnvifSoap.Tt;
    private static readonly XNamespace Tds = OnvifSoap.Tds;
    private static readonly XNamespace Trt = OnvifSoap.Trt;
    private static readonly XNamespace Tptz = OnvifSoap.Tptz;
    private static readonly XNamespace Tmd = OnvifSoap.Tmd;

    private readonly SimulatedCameraOptions _options;
    private readonly SimulatedCameraState _state;
    private readonly TimeProvider _time;
    private readonly Func<Uri> _rtspUri;
    private WebApplication? _app;

    public SimulatedOnvifService(SimulatedCameraOptions options, SimulatedCameraState state, Func<Uri> rtspUri, TimeProvider? timeProvider = null)
    {
        _options = options;
        _state = state;
        _rtspUri = rtspUri;
        _time = timeProvider ?? TimeProvider.System;
    }

    public int Port { get; private set; }

    public Uri DeviceServiceUri => new($"http://{_options.Host}:{Port}/onvif/device_service");

    /// <summary>The device service of one camera of the fleet.</summary>
    public Uri DeviceServiceUriOf(string camera) => new($"http://{_options.Host}:{Port}/{camera}/onvif/device_service");

    /// <summary>Requests refused for bad credentials.</summary>
    public int AuthenticationFailures { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();

        // The host process's appsettings.json and ASPNETCORE_* variables (the Portal's, in demo mode and tests)
        // must not reconfigure the camera's Kestrel: it listens exactly where the options say.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(_options.Host), _options.OnvifPort));
        _app = builder.Build();
        _app.MapPost("/onvif/{service}", (HttpContext context, string service) => HandleAsync(context, service, null));
        if (_options.Fleet is { } fleet)
        {
            _app.MapPost("/{camera}/onvif/{service}", async (HttpContext context, string camera, string service) =>
            {
                switch (fleet[camera])
                {
                    case CameraAvailability.Down or CameraAvailability.OnvifDown:
                        context.Abort();
                        return Results.Empty;
                    case CameraAvailability.Hang:
                        await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                        return Results.Empty;
                    default:
                        return await HandleAsync(context, service, camera).ConfigureAwait(false);
                }
            });
        }
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = _app.Urls.First();
        Port = new Uri(address).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<IResult> HandleAsync(HttpContext context, string service, string? camera)
    {
        using var reader = new StreamReader(context.Request.Body);
        var text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var request = OnvifSoap.TryLoad(text);
        var operation = request is null ? null : OnvifSoap.Body(request)?.Elements().FirstOrDefault();
        if (operation is null)
        {
            return Fault(400, "env:Sender", "ter:WellFormed", "Not a SOAP 1.2 envelope.");
        }

        var name = operation.Name.LocalName;
        if (name != "GetSystemDateAndTime" && _options.Username is not null)
        {
            var security = request!.Root?.Element(Env + "Header")?.Element(XName.Get("Security", WsUsernameToken.WsseNamespace));
            if (!WsUsernameToken.Verify(security, _options.Username, _options.Password ?? string.Empty, _time.GetUtcNow(), TimeSpan.FromMinutes(5)))
            {
                AuthenticationFailures++;
                return Fault(400, "env:Sender", "ter:NotAuthorized", "Sender not authorized.");
            }
        }

        var body = (service, name) switch
        {
            ("device_service", "GetSystemDateAndTime") => SystemDateAndTime(),
            ("device_service", "GetCapabilities") => Capabilities(camera),
            ("device_service", "GetRelayOutputs") => new XElement(Tds + "GetRelayOutputsResponse", _state.Relays.Keys.Select(k => new XElement(Tds + "RelayOutputs", new XAttribute("token", k)))),
            ("device_service" or "deviceio_service", "SetRelayOutputState") => SetRelay(operation),
            ("media_service", "GetProfiles") => new XElement(Trt + "GetProfilesResponse", new XElement(Trt + "Profiles", new XAttribute("token", ProfileToken), new XAttribute("fixed", "true"), new XElement(Tt + "Name", "MainStream"))),
            ("media_service", "GetStreamUri") => new XElement(Trt + "GetStreamUriResponse", new XElement(Trt + "MediaUri", new XElement(Tt + "Uri", _rtspUri().ToString()))),
            ("ptz_service", _) => Ptz(operation),
            _ => null,
        };
        if (body?.Name == Env + "Fault")
        {
            return Fault(400, "env:Sender", body.Value, $"{name}: invalid argument.");
        }

        return body is null
            ? Fault(400, "env:Receiver", "ter:ActionNotSupported", $"{name} is not supported by {service}.")
            : Results.Text(OnvifSoap.CreateEnvelope(body, null), "application/soap+xml; charset=utf-8");
    }

    private XElement? Ptz(XElement operation)
    {
        var profile = operation.Element(Tptz + "ProfileToken")?.Value;
        if (profile != ProfileToken)
        {
            return Invalid("ter:NoProfile");
        }

        switch (operation.Name.LocalName)
        {
            case "ContinuousMove":
                var velocity = operation.Element(Tptz + "Velocity");
                var timeoutText = operation.Element(Tptz + "Timeout")?.Value;
                TimeSpan? timeout = null;
                if (timeoutText is not null)
                {
                    try
                    {
                        timeout = XmlConvert.ToTimeSpan(timeoutText);
                    }
                    catch (FormatException)
                    {
                        return Invalid("ter:InvalidArgVal");
                    }
                }

                _state.ContinuousMove(
                    Number(velocity?.Element(Tt + "PanTilt")?.Attribute("x")),
                    Number(velocity?.Element(Tt + "PanTilt")?.Attribute("y")),
                    Number(velocity?.Element(Tt + "Zoom")?.Attribute("x")),
                    timeout);
                return new XElement(Tptz + "ContinuousMoveResponse");
            case "Stop":
                _state.Stop();
                return new XElement(Tptz + "StopResponse");
            case "GetPresets":
                return new XElement(
                    Tptz + "GetPresetsResponse",
                    SimulatedCameraState.Presets.Select(p => new XElement(Tptz + "Preset", new XAttribute("token", p.Token), new XElement(Tt + "Name", p.Name))));
            case "GotoPreset":
                return _state.GotoPreset(operation.Element(Tptz + "PresetToken")?.Value ?? string.Empty)
                    ? new XElement(Tptz + "GotoPresetResponse")
                    : Invalid("ter:NoToken");
            case "SendAuxiliaryCommand":
                var data = operation.Element(Tptz + "AuxiliaryData")?.Value ?? string.Empty;
                _state.AddAuxiliaryCommand(data);
                return new XElement(Tptz + "SendAuxiliaryCommandResponse", new XElement(Tptz + "AuxiliaryResponse", data));
            default:
                return null;
        }
    }

    private XElement SetRelay(XElement operation)
    {
        var ns = operation.Name.Namespace;
        var token = operation.Element(ns + "RelayOutputToken")?.Value ?? string.Empty;
        var state = operation.Element(ns + "LogicalState")?.Value;
        if (state is not ("active" or "inactive") || !_state.SetRelay(token, state == "active"))
        {
            return Invalid("ter:RelayToken");
        }

        return new XElement(ns + "SetRelayOutputStateResponse");
    }

    private XElement SystemDateAndTime()
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return new XElement(
            Tds + "GetSystemDateAndTimeResponse",
            new XElement(
                Tds + "SystemDateAndTime",
                new XElement(Tt + "DateTimeType", "Manual"),
                new XElement(
                    Tt + "UTCDateTime",
                    new XElement(Tt + "Time", new XElement(Tt + "Hour", now.Hour), new XElement(Tt + "Minute", now.Minute), new XElement(Tt + "Second", now.Second)),
                    new XElement(Tt + "Date", new XElement(Tt + "Year", now.Year), new XElement(Tt + "Month", now.Month), new XElement(Tt + "Day", now.Day)))));
    }

    private XElement Capabilities(string? camera)
    {
        // Report the LAN address a real camera would, so the client's rebasing onto its configured host is exercised.
        var root = $"http://192.168.1.64:{Port.ToString(CultureInfo.InvariantCulture)}/{(camera is null ? null : camera + "/")}onvif/";
        return new XElement(
            Tds + "GetCapabilitiesResponse",
            new XElement(
                Tds + "Capabilities",
                new XElement(Tt + "Device", new XElement(Tt + "XAddr", root + "device_service")),
                new XElement(Tt + "Media", new XElement(Tt + "XAddr", root + "media_service")),
                new XElement(Tt + "PTZ", new XElement(Tt + "XAddr", root + "ptz_service")),
                new XElement(Tt + "Extension", new XElement(Tt + "DeviceIO", new XElement(Tt + "XAddr", root + "deviceio_service")))));
    }

    /// <summary>Marker element turned into an InvalidArgVal fault by the caller.</summary>
    private static XElement Invalid(string subcode) => new(Env + "Fault", subcode);

    private static double Number(XAttribute? attribute) =>
        double.TryParse(attribute?.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? Math.Clamp(v, -1, 1) : 0;

    private static IResult Fault(int status, string code, string subcode, string reason) =>
        Results.Text(OnvifSoap.CreateFault(code, subcode, reason), "application/soap+xml; charset=utf-8", statusCode: status);
}
