using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Alarms;
using Portal.Components.Shared;
using Portal.Core.Alarms;
using Portal.Core.Security;
using Xunit;

namespace Portal.Tests.Portal.Alarms;

/// <summary>
/// A console's card drawn as one piece of HTML (a full slice of the board, see AlarmChunk) shows exactly what the
/// same card drawn as elements shows, and no text of an alarm can become markup.
/// </summary>
public sealed class AlarmCardTests
{
    private const string Hostile = "<img src=x onerror=\"alert(1)\">市南&amp;'实验' </b><script>x</script>";

    private static readonly UserScope City = new(1, "city110", Roles.CityOperator, null, null);

    private static IStringLocalizer Localizer() =>
        new ResourceManagerStringLocalizerFactory(Options.Create(new LocalizationOptions { ResourcesPath = "Resources" }), NullLoggerFactory.Instance)
            .Create(typeof(SharedResource));

    private static AlarmView Alarm(int id, AlarmState state = AlarmState.Ringing, string? school = null, string? answeredBy = null, bool test = false) => new()
    {
        Id = id,
        SchoolId = 1000 + id,
        DistrictId = 2,
        DistrictName = "市南区",
        CentreId = 2,
        CentreDistrictId = 2,
        State = state,
        RaisedUtc = new DateTime(2026, 12, 4, 1, 0, 0, DateTimeKind.Utc).AddSeconds(id),
        SchoolName = school ?? "青岛第" + id.ToString(CultureInfo.InvariantCulture) + "中学",
        AnsweredByName = answeredBy,
        IsTest = test,
        SignalCount = id % 3 == 0 ? 2 : 1,
    };

    [Fact]
    public void Html_HostileTexts_AreEncoded_AndReadBackAsTheSameTexts()
    {
        var card = new AlarmCard(Alarm(7, AlarmState.Answered, Hostile, answeredBy: "\"><script>y</script>", test: true), ringsHere: true, Localizer());

        var html = card.Html;
        Assert.DoesNotContain("<img", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
        Assert.DoesNotContain("onerror=\"", html, StringComparison.Ordinal);
        Assert.Contains("市南", html, StringComparison.Ordinal); // Chinese is left as it is, not written as numeric references
        Assert.StartsWith("<div class=\"alarm-card alarm-answered\" data-testid=\"alarm-card\" data-alarm-id=\"7\" data-state=\"Answered\"><b>", html, StringComparison.Ordinal);

        // The school's name is the bold element's whole text, once decoded; the answerer's name ends the last span.
        var school = html[(html.IndexOf("<b>", StringComparison.Ordinal) + 3)..html.IndexOf("</b>", StringComparison.Ordinal)];
        Assert.Equal(Hostile, WebUtility.HtmlDecode(school));
        const string span = "<span data-testid=\"answered-by\">";
        Assert.EndsWith("</span></div>", html, StringComparison.Ordinal);
        var answered = html[(html.LastIndexOf(span, StringComparison.Ordinal) + span.Length)..^"</span></div>".Length];
        Assert.EndsWith(": \"><script>y</script>", WebUtility.HtmlDecode(answered), StringComparison.Ordinal);
        Assert.Contains("data-testid=\"test-badge\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void For_SameRecordSideAndLanguage_IsOneCard_AnythingElseIsAnother()
    {
        var ui = CultureInfo.CurrentUICulture;
        var culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("zh-CN");
            var alarm = Alarm(11, AlarmState.Ringing);
            var card = AlarmCard.For(alarm, ringsHere: true, Localizer());

            // Another console (another localizer) asking for the same: the same card, its HTML made once.
            Assert.Same(card, AlarmCard.For(alarm, ringsHere: true, Localizer()));
            Assert.Same(card.Html, AlarmCard.For(alarm, ringsHere: true, Localizer()).Html);

            // The other side of the alarm, a new record of it (even an equal one), or another language: not that card.
            var elsewhere = AlarmCard.For(alarm, ringsHere: false, Localizer());
            Assert.NotSame(card, elsewhere);
            Assert.Contains("alarm-elsewhere", elsewhere.Class, StringComparison.Ordinal);
            Assert.NotSame(card, AlarmCard.For(alarm with { }, ringsHere: true, Localizer()));
            var answered = AlarmCard.For(alarm with { State = AlarmState.Answered }, ringsHere: true, Localizer());
            Assert.Contains("alarm-answered", answered.Class, StringComparison.Ordinal);

            CultureInfo.CurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("en-US");
            var english = AlarmCard.For(alarm, ringsHere: true, Localizer());
            Assert.NotSame(card, english);
            Assert.Equal("en-US", english.UiCulture);
            Assert.NotEqual(card.Line, english.Line); // the state's name is in English now
            Assert.Same(english, AlarmCard.For(alarm, ringsHere: true, Localizer()));

            // Back in Chinese: the first card again, the English one kept beside it.
            CultureInfo.CurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("zh-CN");
            Assert.Same(card, AlarmCard.For(alarm, ringsHere: true, Localizer()));
        }
        finally
        {
            CultureInfo.CurrentUICulture = ui;
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public async Task FullSlice_DrawnAsHtml_ShowsWhatTheSameCardsShowAsElements()
    {
        // A board whose first slice lacks one card (drawn as elements), then is full (drawn as one piece of HTML).
        using var board = new AlarmBoard(City, TimeProvider.System, () => { }, action =>
        {
            action();
            return Task.CompletedTask;
        });
        var alarms = Enumerable.Range(1, AlarmBoard.ChunkSize).Select(id => id switch
        {
            3 => Alarm(id, school: Hostile),
            4 => Alarm(id, AlarmState.Answered, answeredBy: "city110"),
            5 => Alarm(id, test: true),
            6 => Alarm(id, AlarmState.Escalated),
            7 => Alarm(id, AlarmState.Closed),
            _ => Alarm(id),
        }).ToList();
        board.Load(alarms.Take(AlarmBoard.ChunkSize - 1));
        Assert.False(board.SliceIsFull(0));
        var asElements = await RenderAsync(board);
        Assert.Equal(AlarmBoard.ChunkSize - 1, Count(asElements, "data-testid=\"alarm-card\""));

        board.Apply(new AlarmChange(alarms[^1], AlarmEventKind.Raised));
        Assert.True(board.SliceIsFull(0));
        var asHtml = await RenderAsync(board);
        Assert.Equal(AlarmBoard.ChunkSize, Count(asHtml, "data-testid=\"alarm-card\""));
        Assert.DoesNotContain("<img", asHtml, StringComparison.Ordinal);

        // Element by element, attribute by attribute, text by text: the same, once each side's encoding is undone.
        const string end = "</div>";
        var elements = WebUtility.HtmlDecode(asElements);
        var html = WebUtility.HtmlDecode(asHtml);
        Assert.EndsWith(end, elements, StringComparison.Ordinal);
        Assert.StartsWith(elements[..^end.Length], html, StringComparison.Ordinal);
        Assert.Contains(Hostile, html, StringComparison.Ordinal);
    }

    private static int Count(string text, string what) => (text.Length - text.Replace(what, string.Empty, StringComparison.Ordinal).Length) / what.Length;

    /// <summary>The board's first slice through Blazor's own HTML renderer, as the console draws it.</summary>
    private static async Task<string> RenderAsync(AlarmBoard board)
    {
        await using var services = new ServiceCollection().AddLogging().AddLocalization(o => o.ResourcesPath = "Resources").BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<AlarmChunk>(ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(AlarmChunk.Board)] = board,
                [nameof(AlarmChunk.Index)] = 0,
                [nameof(AlarmChunk.Version)] = board.SliceVersion(0),
            }));
            return output.ToHtmlString();
        });
    }
}
