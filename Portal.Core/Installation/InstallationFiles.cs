namespace Portal.Core.Installation;

/// <summary>
/// Where the programme's files live: photos and generated reports, under the data folder and never in the
/// database (the tables hold only their metadata). Names are generated, so an uploader cannot choose a path.
/// </summary>
public sealed class InstallationFiles(string root)
{
    public string Root => root;

    public string PhotoPath(int schoolId, string storedName) => Path.Combine(root, "photos", schoolId.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.GetFileName(storedName));

    public string ReportPath(string storedName) => Path.Combine(root, "reports", Path.GetFileName(storedName));

    public static string NewName(string extension) => Guid.NewGuid().ToString("N") + extension;
}
