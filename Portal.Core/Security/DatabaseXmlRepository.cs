using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Portal.Core.Data;

namespace Portal.Core.Security;

/// <summary>
/// ASP.NET Core Data Protection's key ring in the DataProtectionKey table, so several portal instances share one
/// ring (a device secret protected on one instance must open on another) and a backup of the database is a backup
/// of the keys. Data Protection encrypts each key's XML before it gets here when a certificate is configured
/// (<c>ProtectKeysWithCertificate</c>); this class stores what it is given.
/// </summary>
public sealed class DatabaseXmlRepository(Db db, TimeProvider time) : IXmlRepository
{
    private const string SelectAll = "SELECT Xml FROM DataProtectionKey ORDER BY Id";

    private const string Insert = "INSERT INTO DataProtectionKey (FriendlyName, Xml, CreatedUtc) VALUES (@FriendlyName, @Xml, @CreatedUtc)";

    private const string Count = "SELECT COUNT(*) FROM DataProtectionKey";

    /// <inheritdoc />
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        // Data Protection's interface is synchronous; it calls this rarely (start-up, key ring refresh once a day).
        using var connection = db.Open();
        return [.. connection.Query<string>(SelectAll).Select(x => XElement.Parse(x))];
    }

    /// <inheritdoc />
    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        using var connection = db.Open();
        connection.Execute(Insert, new { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting), CreatedUtc = time.GetUtcNow().UtcDateTime });
    }

    /// <summary>
    /// Moves the keys of an install that kept them in a folder (DataFolder/keys before issue 13) into the database,
    /// once, while the table is still empty: every secret they protect stays readable. Returns how many were copied.
    /// </summary>
    public int ImportFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        using var connection = db.Open();
        if (connection.ExecuteScalar<int>(Count) > 0)
        {
            return 0;
        }

        var files = Directory.GetFiles(folder, "*.xml").Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            var element = XElement.Load(file);
            connection.Execute(Insert, new { FriendlyName = Path.GetFileNameWithoutExtension(file), Xml = element.ToString(SaveOptions.DisableFormatting), CreatedUtc = time.GetUtcNow().UtcDateTime });
        }

        return files.Count;
    }
}
