using System.Collections.Concurrent;

namespace Portal.Core.Devices;

/// <summary>
/// A camera's decrypted password for the health probes (issue #12): decrypting it (Data Protection) on every probe of
/// every camera every minute was the third cost of a cycle. An entry is reused only while the device's stored
/// ciphertext is the same and no credential write has happened since it was read
/// (<see cref="DeviceRepository.CredentialGeneration"/>, as the registrar's SIP lookups in <see cref="DeviceIntake"/>); a
/// new password is always a new ciphertext, so a change written by another instance is seen at the next read of the row.
/// The plain values stay in this process's memory only, as they do while a probe runs; nothing here logs them.
/// </summary>
public sealed class DevicePasswordCache(DeviceSecrets secrets, DeviceRepository devices)
{
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<int, Entry> _entries = new();

    /// <summary>The plain password of <paramref name="protectedValue"/> (the device row's SecretProtected), or null when there is none or it cannot be decrypted.</summary>
    public string? Unprotect(int deviceId, string? protectedValue)
    {
        if (string.IsNullOrEmpty(protectedValue))
        {
            return null;
        }

        // The generation is read before decrypting: a change committed after this read makes the entry stale at once.
        var generation = devices.CredentialGeneration;
        if (_entries.TryGetValue(deviceId, out var cached) && cached.Generation == generation
            && string.Equals(cached.Protected, protectedValue, StringComparison.Ordinal))
        {
            return cached.Plain;
        }

        var plain = secrets.Unprotect(protectedValue);
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[deviceId] = new Entry(protectedValue, plain, generation);
        return plain;
    }

    /// <summary>One decrypted password. <see cref="ToString"/> is overridden so that no log or debugger display shows it.</summary>
    private sealed record Entry(string Protected, string? Plain, long Generation)
    {
        public override string ToString() => "DevicePasswordCache.Entry";
    }
}
