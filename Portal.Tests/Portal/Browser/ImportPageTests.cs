using System.Text;
using Dapper;
using Microsoft.Playwright;
using Xunit;

namespace Portal.Tests.Portal.Browser;

/// <summary>The admin imports the bureau's register through the page: bad files are refused whole, good ones land once.</summary>
[Trait("Category", "Browser")]
[Collection(nameof(WholeCity))]
public sealed class ImportPageTests(PortalFixture portal)
{
    private const string Header = "学校标识码,学校名称,学校类型,所属区市,地址,经度,纬度,校长,联系电话,报警终端型号,报警终端序列号,报警终端SIP账号,球机型号,球机序列号,球机RTSP地址,球机ONVIF地址";

    [Fact]
    public async Task Import_BadFileThenGoodFile_RefusesThenImportsOnce()
    {
        var (context, page) = await portal.SignInAsync("admin");
        await using var _ = context;
        await page.GotoAsync("/admin/import");
        await PortalFixture.WaitInteractiveAsync(page);
        var input = page.Locator("input[type=file]").First;

        var bad = Encoding.UTF8.GetBytes(Header + "\n3379990001,青岛市市南区导入测试小学,小学,不存在区,地址1,120.3,36.1,校长A,0532-1,AT-200,IMP00000001,imp-0001,PTZ-4K,IMPCAM00001,http://wrong,http://cam/onvif\n");
        await input.SetInputFilesAsync(new FilePayload { Name = "register.csv", MimeType = "text/csv", Buffer = bad });
        await Assertions.Expect(page.GetByTestId("import-result")).ToHaveAttributeAsync("data-succeeded", "false");
        await Assertions.Expect(page.GetByTestId("import-problems")).ToContainTextAsync("未知的区市");
        await Assertions.Expect(page.GetByTestId("import-apply")).ToBeDisabledAsync();

        var good = Encoding.UTF8.GetBytes(Header + "\n3379990002,青岛市市南区导入测试幼儿园,幼儿园,市南区,\"市南区某路1号,东门\",120.3,36.1,校长B,0532-2,AT-200,IMP00000002,imp-0002,PTZ-4K,IMPCAM00002,rtsp://imp-2.school.local/1,http://imp-2.school.local/onvif\n");
        await input.SetInputFilesAsync(new FilePayload { Name = "register.csv", MimeType = "text/csv", Buffer = good });
        await Assertions.Expect(page.GetByTestId("import-result")).ToHaveAttributeAsync("data-succeeded", "true");
        await page.GetByTestId("import-apply").ClickAsync();
        await Assertions.Expect(page.GetByTestId("import-result")).ToContainTextAsync("导入完成");
        await Assertions.Expect(page.GetByTestId("import-counts")).ToContainTextAsync("+1");

        await using var connection = (await portal.GetPortalAsync()).Db.Open();
        Assert.Equal("市南区某路1号,东门", await connection.QuerySingleAsync<string>("SELECT Address FROM School WHERE Code = '3379990002'"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM School WHERE Code = '3379990001'"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM Device WHERE SerialNumber IN ('IMP00000002', 'IMPCAM00002')"));
    }
}
