using Microsoft.Extensions.Time.Testing;
using Portal.Core.Audit;
using Portal.Core.Data;
using Portal.Core.Security;
using Portal.Tests.Data;
using Xunit;

namespace Portal.Tests.Core.Audit;

/// <summary>The audit trail on a real database of each engine.</summary>
public abstract class AuditRepositoryTests(ITestDatabase database) : RepositoryTestsBase(database)
{
    [Fact]
    public async Task WriteAsync_ThenGetPage_NewestFirstWithWhoAndFromWhere()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero));
        var audit = new AuditRepository(Db, time);
        var target = Unique("district ");
        var actor = new Actor(new UserScope(7, "admin7", Roles.Admin, null, null), "192.0.2.9");
        await audit.WriteAsync(actor, AuditActions.DistrictCreated, target, "first", Ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await audit.WriteAsync(actor, AuditActions.DistrictUpdated, target, "second", Ct);

        var page = await audit.GetPageAsync(new AuditQuery(target), new PageRequest(0, 10), Ct);
        Assert.Equal(2, page.Total);
        Assert.Equal("second", page.Items[0].Detail);
        Assert.Equal("first", page.Items[1].Detail);
        Assert.All(page.Items, e => Assert.Equal((7, "admin7", "192.0.2.9"), (e.UserId!.Value, e.UserName, e.RemoteAddress!)));
        Assert.Equal(DateTimeKind.Utc, page.Items[0].AtUtc.Kind);

        var updatesOnly = await audit.GetPageAsync(new AuditQuery(target, AuditActions.DistrictUpdated), new PageRequest(0, 10), Ct);
        Assert.Equal("second", Assert.Single(updatesOnly.Items).Detail);
    }

    [Fact]
    public async Task WriteAsync_SystemAndLongText_NoUserIdAndClipped()
    {
        var audit = new AuditRepository(Db, TimeProvider.System);
        var target = Unique("long ");
        await audit.WriteAsync(Actor.System, AuditActions.SetupLinkIssued, target, new string('x', 5000), Ct);
        var entry = Assert.Single((await audit.GetPageAsync(new AuditQuery(target), new PageRequest(0, 10), Ct)).Items);
        Assert.Null(entry.UserId);
        Assert.Equal("system", entry.UserName);
        Assert.Equal(2000, entry.Detail!.Length);
    }

    [Fact]
    public async Task GetPageAsync_SearchWithLikeWildcards_MatchesTheText()
    {
        var audit = new AuditRepository(Db, TimeProvider.System);
        var tag = Unique("T");
        await audit.WriteAsync(Actor.System, AuditActions.UserCreated, tag + " 50%_off", null, Ct);
        await audit.WriteAsync(Actor.System, AuditActions.UserCreated, tag + " 50xyoff", null, Ct);
        Assert.Equal(1, (await audit.GetPageAsync(new AuditQuery(tag + " 50%_"), new PageRequest(0, 10), Ct)).Total);
    }
}

public sealed class SqliteAuditRepositoryTests(SqliteDb database) : AuditRepositoryTests(database), IClassFixture<SqliteDb>;

[Trait("Category", "SqlServer")]
public sealed class SqlServerAuditRepositoryTests(SqlServerDb database) : AuditRepositoryTests(database), IClassFixture<SqlServerDb>;
