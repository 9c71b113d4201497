using System.Net;
using System.Net.Sockets;
using System.Text;
using Dapper;
using Portal.Core.Demo;
using Portal.Core.Devices;
using Portal.Core.Health;
using Portal.Core.Notifications;
using Portal.Simulator.Cameras;
using Xunit;

namespace Portal.Tests.Core.Health;

/// <summary>
/// Health check cycles against real sockets: simulated cameras (RTSP and ONVIF) going down, hanging, answering
/// garbage and coming back; terminals whose signals stop; on a fake clock for the intervals and the flap suppression.
/// </summary>
[Trait("Category", "Integration")]
public sealed class DeviceHealthCheckTests
{
    private static SimulatedCameraOptions FleetOptions(SimulatedCameraFleet fleet) =>
        new() { Username = "admin", Password = DemoCity.DemoDevicePassword, Fleet = fleet };

    /// <summary>A connected demo school whose camera (only) is checked, pointed at fleet camera <paramref name="name"/>.</summary>
    private static async Task<(Device Camera, global::Portal.Core.Schools.School School)> OwnCameraAsync(HealthCity city, SimulatedCamera cameras, string name, int nth = 0)
    {
        var index = (await city.ConnectedSchoolsAsync())[nth];
        var camera = await city.DeviceAsync(index, DeviceKind.GateCamera);
        await city.PointCameraAsync(camera, cameras.Rtsp.UriOf(name), cameras.Onvif.DeviceServiceUriOf(name));
        return ((await city.Devices.GetByIdAsync(camera.Id))!, await city.SchoolAsync(index));
    }

    [Fact]
    public async Task Cycle_CameraGoesDownAndComesBack_OfflineAfterThreeMissedIntervalsThenOnline()
    {
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (camera, school) = await OwnCameraAsync(city, cameras, "gate");
        await city.KeepOnlyAsync(camera.Id);

        var first = await city.NextCycleAsync();
        Assert.Equal((1, 1, 0), (first.Devices, first.Probed, first.Failed));
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));

        cameras.Fleet!.Set("gate", CameraAvailability.Down);
        await city.NextCycleAsync();
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id)); // two missed intervals: not yet
        var third = await city.NextCycleAsync();
        Assert.Equal(1, third.Failed);
        Assert.Equal(1, third.Changes);
        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(camera.Id));

        cameras.Fleet.Set("gate", CameraAvailability.Up);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));

        var history = await city.HistoryAsync(camera.Id);
        Assert.Equal([(DeviceHealthState.Online, DeviceHealthState.Offline), (DeviceHealthState.Offline, DeviceHealthState.Online)],
            history.Select(e => (e.FromState, e.ToState)));
        Assert.Equal(HealthCity.Start.UtcDateTime.AddMinutes(4), history[0].AtUtc);
        Assert.Contains("RTSP", history[0].Detail, StringComparison.Ordinal);

        // Offline for one interval only, shorter than the hold: nobody was told anything.
        await city.NextCycleAsync();
        await city.NextCycleAsync();
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Principal(school)));
    }

    [Fact]
    public async Task Cycle_OfflineHeld_PrincipalAndBureauToldOnceInScope_ThenBackOnline()
    {
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (camera, school) = await OwnCameraAsync(city, cameras, "gate");
        var (_, other) = await OwnCameraAsync(city, cameras, "other", nth: 1);
        await city.KeepOnlyAsync(camera.Id);
        var delivered = new List<Notification>();
        using var live = city.Center.Subscribe(HealthCity.Principal(school), n =>
        {
            lock (delivered)
            {
                delivered.Add(n);
            }

            return Task.CompletedTask;
        });

        await city.NextCycleAsync();
        cameras.Fleet!.Set("gate", CameraAvailability.Down);
        for (var i = 0; i < 3; i++)
        {
            await city.NextCycleAsync();
        }

        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(camera.Id));
        await city.NextCycleAsync(); // held 60 s: not yet
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Principal(school)));
        var told = await city.NextCycleAsync(); // held 120 s
        Assert.Equal(1, told.Notices);
        await city.NextCycleAsync();

        var principal = await city.NotificationsForAsync(HealthCity.Principal(school));
        var offline = Assert.Single(principal);
        Assert.Equal((NotificationKind.DeviceOffline, DeviceKind.GateCamera, camera.SerialNumber, school.Name), (offline.Kind, offline.DeviceKind, offline.SerialNumber, offline.SchoolName));
        Assert.Single(await city.NotificationsForAsync(HealthCity.Bureau(null)));
        Assert.Single(await city.NotificationsForAsync(HealthCity.Bureau(school.DistrictId)));
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Principal(other)));
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Bureau(other.DistrictId == school.DistrictId ? -1 : other.DistrictId)));
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Police(school.DistrictId))); // a camera is not the police's business
        Assert.Equal(1, await city.Notifications.CountUnreadAsync(HealthCity.Principal(school), city.Now));
        await WaitUntilAsync(() => Count(delivered) == 1);

        cameras.Fleet.Set("gate", CameraAvailability.Up);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));
        await city.NextCycleAsync();
        await city.NextCycleAsync();
        var all = await city.NotificationsForAsync(HealthCity.Principal(school));
        Assert.Equal([NotificationKind.DeviceBackOnline, NotificationKind.DeviceOffline], all.Select(n => n.Kind));
        await WaitUntilAsync(() => Count(delivered) == 2);
    }

    [Fact]
    public async Task Cycle_CameraProcessStopsAndStartsAgain_RefusedConnectionsMissThenOnline()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new HealthCity();
        var options = new SimulatedCameraOptions { Username = "admin", Password = DemoCity.DemoDevicePassword };
        var camera = await SimulatedCamera.StartAsync(options, cancellationToken: ct);
        var index = (await city.ConnectedSchoolsAsync())[0];
        var device = await city.DeviceAsync(index, DeviceKind.GateCamera);
        await city.PointCameraAsync(device, camera.RtspUri, camera.OnvifDeviceUri);
        await city.KeepOnlyAsync(device.Id);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(device.Id));

        var ports = options with { RtspPort = camera.RtspPort, OnvifPort = camera.OnvifPort };
        await camera.DisposeAsync();
        for (var i = 0; i < 3; i++)
        {
            await city.NextCycleAsync();
        }

        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(device.Id));
        Assert.Contains("Unreachable", (await city.HistoryAsync(device.Id))[^1].Detail, StringComparison.Ordinal);

        await using var again = await SimulatedCamera.StartAsync(ports, cancellationToken: ct);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(device.Id));
    }

    [Fact]
    public async Task Cycle_OnvifDownOrCredentialsRefused_Degraded()
    {
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (onvifless, _) = await OwnCameraAsync(city, cameras, "no-onvif");
        var (refused, _) = await OwnCameraAsync(city, cameras, "refused", nth: 1);
        await city.Devices.UpdateAsync(refused with { SecretProtected = city.Secrets.Protect("not-the-password") });
        await city.KeepOnlyAsync(onvifless.Id, refused.Id);
        cameras.Fleet!.Set("no-onvif", CameraAvailability.OnvifDown);

        var result = await city.NextCycleAsync();

        Assert.True(result.Changes == 2, $"{await city.StateAsync(onvifless.Id)} {await city.StateAsync(refused.Id)} {result} "
            + string.Join(" | ", (await city.HistoryAsync(onvifless.Id)).Concat(await city.HistoryAsync(refused.Id)).Select(e => e.Detail)));
        Assert.Equal(DeviceHealthState.Degraded, await city.StateAsync(onvifless.Id));
        Assert.Equal(DeviceHealthState.Degraded, await city.StateAsync(refused.Id));
        Assert.StartsWith("ONVIF", (await city.HistoryAsync(onvifless.Id))[0].Detail, StringComparison.Ordinal);
        Assert.Contains("credentials", (await city.HistoryAsync(refused.Id))[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cycle_CameraLoginChangedByAdministrator_NextProbeUsesTheNewPassword()
    {
        // The probe keeps each camera's decrypted password (DevicePasswordCache); a login changed through the portal must
        // reach the very next probe, both ways: a wrong one is refused, the right one again accepted.
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (camera, _) = await OwnCameraAsync(city, cameras, "gate");
        await city.KeepOnlyAsync(camera.Id);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id)); // the right password is now cached

        Assert.True(await city.Devices.SetLoginAsync(camera.Id, "admin", city.Secrets.Protect("not-the-password"), city.Now));
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Degraded, await city.StateAsync(camera.Id));
        Assert.Contains("credentials", (await city.HistoryAsync(camera.Id))[^1].Detail, StringComparison.Ordinal);

        Assert.True(await city.Devices.SetLoginAsync(camera.Id, "admin", city.Secrets.Protect(DemoCity.DemoDevicePassword), city.Now));
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));
    }

    [Fact]
    public async Task Cycle_HealthyCamera_NextCycleIsOneDescribe_StaleNonceOneMore()
    {
        // The camera probe remembers each camera's Digest challenge: from the second cycle on a healthy camera costs one
        // request; a nonce the camera has retired costs one more, and the camera stays online.
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (camera, _) = await OwnCameraAsync(city, cameras, "gate");
        await city.KeepOnlyAsync(camera.Id);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));
        var describes = cameras.Rtsp.Describes;

        await city.NextCycleAsync();
        Assert.Equal(describes + 1, cameras.Rtsp.Describes);

        cameras.Rtsp.ExpireNonce();
        await city.NextCycleAsync();
        Assert.Equal(describes + 3, cameras.Rtsp.Describes);
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(camera.Id));
    }

    [Fact]
    public async Task Cycle_HostileCameras_EachMarkedWithinItsTimeOut_HealthyOneUnaffected()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var city = new HealthCity();
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: ct);
        await using var hang = HostileRtspServer.Start(HostileRtspServer.Mode.Hang);
        await using var huge = HostileRtspServer.Start(HostileRtspServer.Mode.TenMegabyteHeader);
        await using var cut = HostileRtspServer.Start(HostileRtspServer.Mode.CloseMidMessage);
        await using var garbage = HostileRtspServer.Start(HostileRtspServer.Mode.Garbage);
        var (healthy, _) = await OwnCameraAsync(city, cameras, "healthy");
        var hostile = new List<(HostileRtspServer Server, Device Camera)>();
        var nth = 1;
        foreach (var server in new[] { hang, huge, cut, garbage })
        {
            var index = (await city.ConnectedSchoolsAsync())[nth++];
            var camera = await city.DeviceAsync(index, DeviceKind.GateCamera);
            await city.PointCameraAsync(camera, server.Uri, onvif: null);
            hostile.Add((server, camera));
        }

        await city.KeepOnlyAsync([healthy.Id, .. hostile.Select(h => h.Camera.Id)]);

        var result = await city.NextCycleAsync();

        // Each hostile camera costs at most its own time-out (5 s, plus the hard bound's second), side by side: never more.
        Assert.InRange(result.ProbePhase, TimeSpan.Zero, TimeSpan.FromSeconds(15));
        Assert.Equal(5, result.Probed);
        Assert.All(hostile, h => Assert.True(h.Server.Connections > 0, h.Server.Name + " was not probed"));
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(healthy.Id));
        Assert.Equal(DeviceHealthState.Degraded, await city.StateAsync(hostile[1].Camera.Id)); // answered, with a header no reader accepts
        Assert.Equal(DeviceHealthState.Degraded, await city.StateAsync(hostile[3].Camera.Id)); // answered nonsense
        Assert.Equal(2, result.Failed); // the hung one and the one that broke off: a missed interval each
        for (var i = 0; i < 2; i++)
        {
            await city.NextCycleAsync();
        }

        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(hostile[0].Camera.Id));
        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(hostile[2].Camera.Id));
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(healthy.Id));
    }

    [Fact]
    public async Task Cycle_FlappingCamera_ReportedOnceAsFlapping()
    {
        var options = new HealthOptions { ProbeTimeoutSeconds = 5, ProbeSpreadSeconds = 0, NotifyAfterSeconds = 120, FlapTransitions = 4, FlapWindowMinutes = 30, RetryIntervalSeconds = 0 };
        await using var city = new HealthCity(options: options);
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        var (camera, school) = await OwnCameraAsync(city, cameras, "flappy");
        await city.KeepOnlyAsync(camera.Id);
        await city.NextCycleAsync();

        // Down for three intervals, up for one, five times over: ten transitions in 20 minutes.
        for (var round = 0; round < 5; round++)
        {
            cameras.Fleet!.Set("flappy", CameraAvailability.Down);
            for (var i = 0; i < 3; i++)
            {
                await city.NextCycleAsync();
            }

            cameras.Fleet.Set("flappy", CameraAvailability.Up);
            await city.NextCycleAsync();
        }

        var told = await city.NotificationsForAsync(HealthCity.Principal(school));
        Assert.Equal(10, (await city.HistoryAsync(camera.Id)).Count);
        Assert.Equal(NotificationKind.DeviceFlapping, Assert.Single(told).Kind);
        var flapping = await city.Queries.GetFlappingAsync(global::Portal.Core.Security.UserScope.System, new global::Portal.Core.Data.PageRequest(0, 10));
        Assert.Equal(camera.Id, Assert.Single(flapping.Items).DeviceId);
    }

    [Fact]
    public async Task Cycle_TerminalSignalsStop_OfflineWithinThreeIntervalsOfTheLastSignal_ThenBackWithTheNextSignal()
    {
        await using var city = new HealthCity();
        var index = (await city.ConnectedSchoolsAsync())[0];
        var terminal = await city.DeviceAsync(index, DeviceKind.AlarmTerminal);
        await city.KeepOnlyAsync(terminal.Id);
        await city.Installation.MarkDeviceSeenAsync(terminal.Id); // the last heartbeat, at T
        var last = city.Now;

        await city.NextCycleAsync(); // T+60: fresh
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(terminal.Id));

        // T+120: one interval missed. The offline deadline (T + 3 intervals - grace = T+170) is the silence watch's
        // (HealthSilenceWatch's tick, apart from the cycles): the cycle hands it the terminal.
        await city.NextCycleAsync();
        var ct = TestContext.Current.CancellationToken;
        city.Time.Advance(city.Options.SilenceForOffline - (city.Now - last) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await city.Monitor.CheckSilenceAsync(ct)); // a second before the deadline: not yet
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(terminal.Id));
        city.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await city.Monitor.CheckSilenceAsync(ct));
        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(terminal.Id));
        var at = (await city.HistoryAsync(terminal.Id))[0].AtUtc;
        Assert.Equal(last + city.Options.SilenceForOffline, at);
        Assert.True(at - last <= TimeSpan.FromMinutes(3), $"offline {(at - last).TotalSeconds} s after the last heartbeat");
        Assert.Equal(0, await city.Monitor.CheckSilenceAsync(ct)); // marked once

        var result = await city.NextCycleAsync(TimeSpan.FromSeconds(10)); // T+180: the cycle counts the watch's transition
        Assert.Equal(1, result.Changes);
        await city.Installation.MarkDeviceSeenAsync(terminal.Id);
        await city.NextCycleAsync();
        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(terminal.Id));
    }

    [Fact]
    public async Task Cycle_TerminalOffline_PoliceOfItsDistrictTold()
    {
        await using var city = new HealthCity();
        var index = (await city.ConnectedSchoolsAsync())[0];
        var school = await city.SchoolAsync(index);
        var terminal = await city.DeviceAsync(index, DeviceKind.AlarmTerminal);
        await city.KeepOnlyAsync(terminal.Id);
        await city.Installation.MarkDeviceSeenAsync(terminal.Id);

        // Cycles four minutes apart: the offline deadline has passed at a cycle's start, so it is found there.
        for (var i = 0; i < 4; i++)
        {
            await city.NextCycleAsync(TimeSpan.FromMinutes(4));
        }

        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(terminal.Id));
        Assert.Equal(NotificationKind.DeviceOffline, Assert.Single(await city.NotificationsForAsync(HealthCity.Police(school.DistrictId))).Kind);
        Assert.Single(await city.NotificationsForAsync(HealthCity.Police(null)));
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Police(school.DistrictId + 1)));
        var offline = await city.Queries.GetByStateAsync(HealthCity.Police(school.DistrictId), new global::Portal.Core.Data.PageRequest(0, 10), kind: DeviceKind.AlarmTerminal);
        Assert.Equal(terminal.SerialNumber, Assert.Single(offline.Items).SerialNumber);
    }

    [Fact]
    public async Task Cycle_SilentTerminalAnswersSipOptions_StaysOnline_UntilItStopsAnswering()
    {
        var sip = new ScriptedSipProbe();
        await using var city = new HealthCity(sipProbe: sip);
        var index = (await city.ConnectedSchoolsAsync())[0];
        var terminal = await city.DeviceAsync(index, DeviceKind.AlarmTerminal);
        await city.KeepOnlyAsync(terminal.Id);
        await city.Installation.MarkDeviceSeenAsync(terminal.Id);

        for (var i = 0; i < 5; i++)
        {
            await city.NextCycleAsync(TimeSpan.FromSeconds(61));
        }

        Assert.Equal(DeviceHealthState.Online, await city.StateAsync(terminal.Id));
        Assert.True(sip.Probes >= 4);

        sip.Answer = new ProbeResult(ProbeVerdict.Failed, "SIP OPTIONS: no answer");
        await city.NextCycleAsync(TimeSpan.FromSeconds(61));
        Assert.Equal(DeviceHealthState.Offline, await city.StateAsync(terminal.Id)); // silent for minutes and no answer: offline at once
    }

    [Fact]
    public async Task Cycle_InstalledSchoolFirstChecks_WriteDevicesOnlineStep()
    {
        var sip = new ScriptedSipProbe();
        await using var city = new HealthCity(sipProbe: sip);
        await using var cameras = await SimulatedCamera.StartAsync(FleetOptions(new SimulatedCameraFleet()), cancellationToken: TestContext.Current.CancellationToken);
        await using var connection = city.Database.Db.Open();
        var schoolId = await connection.ExecuteScalarAsync<int>("""
            SELECT s.Id FROM School s WHERE NOT EXISTS (SELECT 1 FROM Device d WHERE d.SchoolId = s.Id AND d.InstallState <> 1)
              AND (SELECT COUNT(*) FROM InstallationStep i WHERE i.SchoolId = s.Id AND i.Step IN (1, 2)) = 2
            ORDER BY s.Id LIMIT 1
            """);
        var devices = await city.Devices.GetManyBySchoolIdAsync(schoolId);
        var camera = devices.Single(d => d.Kind == DeviceKind.GateCamera);
        var terminal = devices.Single(d => d.Kind == DeviceKind.AlarmTerminal);
        await city.PointCameraAsync(camera, cameras.Rtsp.UriOf("new"), cameras.Onvif.DeviceServiceUriOf("new"));
        await city.KeepOnlyAsync(camera.Id, terminal.Id);

        await city.NextCycleAsync();

        Assert.All(await city.Devices.GetManyBySchoolIdAsync(schoolId), d => Assert.Equal((DeviceInstallState.Connected, DeviceHealthState.Online), (d.InstallState, d.HealthState)));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM InstallationStep WHERE SchoolId = @schoolId AND Step = 3", new { schoolId }));
        Assert.Empty(await city.NotificationsForAsync(HealthCity.Bureau(null))); // first contact is no news
    }

    private static int Count(List<Notification> list)
    {
        lock (list)
        {
            return list.Count;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }

    /// <summary>The SIP OPTIONS seam's second implementation: answers as the test says.</summary>
    private sealed class ScriptedSipProbe : ISipOptionsProbe
    {
        private int _probes;

        public ProbeResult Answer { get; set; } = new(ProbeVerdict.Ok, "SIP/2.0 200 OK");

        public int Probes => Volatile.Read(ref _probes);

        public bool IsAvailable => true;

        public Task<ProbeResult> ProbeAsync(HealthTarget terminal, TimeSpan timeout, CancellationToken ct)
        {
            Interlocked.Increment(ref _probes);
            return Task.FromResult(Answer);
        }
    }
}

/// <summary>An RTSP port that misbehaves on purpose: hangs, answers a 10 MB header, breaks off mid-message, or answers garbage.</summary>
internal sealed class HostileRtspServer : IAsyncDisposable
{
    public enum Mode
    {
        Hang,
        TenMegabyteHeader,
        CloseMidMessage,
        Garbage,
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Mode _mode;
    private readonly List<Task> _served = [];
    private Task _accepting = Task.CompletedTask;
    private int _connections;

    private HostileRtspServer(Mode mode) => _mode = mode;

    public string Name => _mode.ToString();

    public Uri Uri => new($"rtsp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/Streaming/Channels/101");

    public int Connections => Volatile.Read(ref _connections);

    public static HostileRtspServer Start(Mode mode)
    {
        var server = new HostileRtspServer(mode);
        server._listener.Start();
        server._accepting = server.AcceptAsync();
        return server;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
                lock (_served)
                {
                    _served.Add(ServeAsync(client));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            // Stopped here, after the last accept, never under it: a TcpListener stopped between two accepts
            // throws InvalidOperationException ("Not listening") from the next one.
            _listener.Stop();
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var connection = client;
        var stream = client.GetStream();
        var buffer = new byte[4096];
        try
        {
            _ = await stream.ReadAsync(buffer, _stop.Token); // the request; what comes back is the point
            switch (_mode)
            {
                case Mode.TenMegabyteHeader:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Padding: "), _stop.Token);
                    var chunk = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
                    for (var sent = 0; sent < 10 * 1024 * 1024; sent += chunk.Length)
                    {
                        await stream.WriteAsync(chunk, _stop.Token);
                    }

                    break;
                case Mode.CloseMidMessage:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Len"), _stop.Token);
                    return;
                case Mode.Garbage:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("\u0001\u0002GARBAGE \u00ff\r\n\r\nMORE\r\n\r\n"), _stop.Token);
                    break;
            }

            // Hang (and after the others): read until the client gives up.
            while (await stream.ReadAsync(buffer, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _accepting;
        Task[] served;
        lock (_served)
        {
            served = [.. _served];
        }

        await Task.WhenAll(served);
        _stop.Dispose();
    }
}
