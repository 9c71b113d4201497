using System.Globalization;
using Dapper;
using Microsoft.Playwright;
using Portal.Tests.Core.Installation;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>The installation programme in Chromium: the principal's checklist and the bureau's dashboard and reports.</summary>
[Trait("Category", "Browser")]
[Collection(nameof(WholeCity))]
public sealed class InstallationTests(PortalFixture portal)
{
    [Fact]
    public async Task Checklist_Principal_SeesOnlyOwnSchoolAndRequestsAcceptanceTest()
    {
        // principal1's school (3370000001) has its devices online and awaits the acceptance test in the demo city.
        var (context, page) = await portal.SignInAsync("principal1");
        await using var _ = context;
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        var own = await connection.QuerySingleAsync<(long Id, string Name)>("SELECT Id, Name FROM School WHERE Code = '3370000001'");
        Assert.EndsWith("/principal/school", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("school-title")).ToHaveTextAsync(own.Name);
        await Assertions.Expect(page.GetByTestId("device-serial")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByTestId("checklist-step")).ToHaveCountAsync(6);
        await Assertions.Expect(page.GetByTestId("step-done")).ToHaveCountAsync(4);
        await Assertions.Expect(page.GetByTestId("checklist-missing")).ToContainTextAsync("联调验收通过");
        await Assertions.Expect(page.GetByTestId("whom-to-call")).ToContainTextAsync("教育局安全科");

        await page.GetByTestId("request-acceptance").ClickAsync();
        await Assertions.Expect(page.GetByTestId("acceptance-pending")).ToBeVisibleAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM AcceptanceTest WHERE SchoolId = @Id AND Outcome = 0", new { own.Id }));

        // Another school's page shows nothing of it, and no checklist at all.
        var otherId = await connection.QuerySingleAsync<long>("SELECT Id FROM School WHERE Code = '3370000005'");
        await page.GotoAsync($"/schools/{otherId}");
        await Assertions.Expect(page.GetByTestId("school-not-found")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("installation-checklist")).ToHaveCountAsync(0);

        // Bureau pages are refused outright.
        await page.GotoAsync("/bureau/reports");
        await Assertions.Expect(page.GetByText("无权访问").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Reports_Bureau_DistrictTableAndCityReportDownloadedInBothFormats()
    {
        var (districtContext, districtPage) = await portal.SignInAsync("bureau-shinan");
        await using var a = districtContext;
        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        await Assertions.Expect(districtPage.GetByTestId("progress-district")).ToHaveTextAsync(["市南区"]);

        var (context, page) = await portal.SignInAsync("bureau");
        await using var b = context;
        await Assertions.Expect(page.GetByTestId("progress-district")).ToHaveCountAsync(10);
        var schools = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM School");
        var done = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM InstallationStep WHERE Step = 5");
        await Assertions.Expect(page.GetByTestId("total-schools")).ToHaveTextAsync(schools.ToString(CultureInfo.InvariantCulture));
        await Assertions.Expect(page.GetByTestId("total-done")).ToHaveTextAsync(done.ToString(CultureInfo.InvariantCulture));

        // Drill down into a district: only its schools.
        await page.GetByTestId("progress-district").Filter(new() { HasText = "市北区" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("drill-school").First).ToBeVisibleAsync();

        await page.GotoAsync("/bureau/reports");
        var folder = Directory.CreateTempSubdirectory("portal-report-download-");
        try
        {
            foreach (var format in new[] { "xlsx", "pdf" })
            {
                await page.GetByTestId("generate-" + format).ClickAsync();
                var link = page.GetByTestId("report-download-" + format).First;
                await Assertions.Expect(link).ToBeVisibleAsync(new() { Timeout = 30_000 });
                var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
                var path = Path.Combine(folder.FullName, "city." + format);
                await download.SaveAsAsync(path);
                if (format == "xlsx")
                {
                    await ReportFiles.AssertXlsxMatchesDatabaseAsync(path, (await portal.GetPortalAsync()).Db);
                }
                else
                {
                    await ReportFiles.AssertPdfMatchesDatabaseAsync(path, (await portal.GetPortalAsync()).Db);
                }
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        // The district officer cannot fetch the city report by its address.
        var cityReport = await connection.ExecuteScalarAsync<long>("SELECT MAX(Id) FROM CompletionReport WHERE DistrictId IS NULL");
        Assert.Equal(404, (await districtContext.APIRequest.GetAsync($"/api/installation/reports/{cityReport}/file")).Status);
        Assert.Equal(200, (await context.APIRequest.GetAsync($"/api/installation/reports/{cityReport}/file")).Status);
    }
}
