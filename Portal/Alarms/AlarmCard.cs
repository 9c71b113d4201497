using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.Extensions.Localization;
using Portal.Core.Alarms;

namespace Portal.Alarms;

/// <summary>
/// Everything a console's card shows for one alarm record, in the console's language, worked out once per record
/// (records are immutable snapshots: a change is a new record). <c>AlarmChunk</c> draws it two ways: as elements in
/// the board's last slice, which grows by one card per alarm, and as one piece of HTML (<see cref="Html"/>) in a
/// full slice, which no new alarm joins (see <c>AlarmChunk</c> for why). Both show the same element, attributes and texts.
/// Consoles share the cards: <see cref="For"/> gives every console the same card for the same record, language and
/// side (rings here or not).
/// </summary>
public sealed class AlarmCard
{
    /// <summary>
    /// The cards made for each alarm record, as long as the record lives (a board holds it). The notifier hands every
    /// console the same record, so ten consoles in one language make one or two cards per record, not ten. This is for
    /// the garbage collector: a console keeps each card until the alarm changes, so every card was a survivor that a
    /// young-generation collection found through the old boards and moved (about 1 KB of strings each; ten consoles at
    /// 50 alarms a second brought it half a megabyte between two collections, which each pause the whole portal).
    /// </summary>
    private static readonly ConditionalWeakTable<AlarmView, List<AlarmCard>> Made = new();

    /// <summary>
    /// HTML encoding for <see cref="Html"/>: every character that could end a text or an attribute value (<c>&lt; &gt; &amp; " '</c>
    /// and the like) is escaped; Chinese is left as it is (the default encoder would write each character as a
    /// numeric reference, three times the bytes for the browser to parse).
    /// </summary>
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private string? _html;

    public AlarmCard(AlarmView alarm, bool ringsHere, IStringLocalizer l)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        ArgumentNullException.ThrowIfNull(l);
        Alarm = alarm;
        RingsHere = ringsHere;
        UiCulture = CultureInfo.CurrentUICulture.Name;
        Culture = CultureInfo.CurrentCulture.Name;
        Id = alarm.Id.ToString(CultureInfo.InvariantCulture);
        State = alarm.State.ToString();
        Class = "alarm-card " + alarm.State switch
        {
            AlarmState.Escalated or AlarmState.Ringing when !ringsHere => "alarm-elsewhere",
            AlarmState.Escalated => "alarm-escalated",
            AlarmState.Ringing => "alarm-ringing",
            AlarmState.Answered => "alarm-answered",
            _ => "alarm-closed",
        };
        TestLabel = alarm.IsTest ? (alarm.IsAcceptance ? l["AcceptanceTest"] : l["TestAlarm"]).Value : null;

        // The state, district, time raised, presses, and the centre that holds it when that is not this console's: one text.
        var meta = AlarmText.District(alarm) + " · " + alarm.RaisedUtc.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        if (alarm.SignalCount > 1)
        {
            meta += " · " + l["Presses"] + ": " + alarm.SignalCount.ToString(CultureInfo.CurrentCulture);
        }

        if (!ringsHere && alarm.IsRinging)
        {
            meta += " · → " + AlarmText.Centre(alarm);
        }

        Line = l["AlarmState_" + alarm.State].Value + " · " + meta;
        AnsweredBy = alarm.AnsweredByName is null ? null : " · " + l["AnsweredBy"] + ": " + alarm.AnsweredByName;
    }

    public AlarmView Alarm { get; }

    public bool RingsHere { get; }

    /// <summary>The language of the texts (the localizer follows the current UI culture) and of the numbers.</summary>
    public string UiCulture { get; }

    /// <inheritdoc cref="UiCulture"/>
    public string Culture { get; }

    public string Id { get; }

    public string State { get; }

    public string Class { get; }

    public string School => Alarm.SchoolName;

    public string? TestLabel { get; }

    /// <summary>The card's second line: its state, then the details (one text node).</summary>
    public string Line { get; }

    public string? AnsweredBy { get; }

    /// <summary>
    /// The card as HTML, every text and attribute value encoded: the same element, attributes and texts as
    /// <c>AlarmChunk</c>'s markup for a card, with nothing between the elements (no whitespace text nodes).
    /// </summary>
    public string Html => _html ??= BuildHtml();

    /// <summary>
    /// The card for <paramref name="alarm"/> as a console on the <paramref name="ringsHere"/> side sees it in the current
    /// culture: made once, then shared by every console that asks for the same (from any thread).
    /// </summary>
    public static AlarmCard For(AlarmView alarm, bool ringsHere, IStringLocalizer l)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        var cards = Made.GetValue(alarm, static _ => new List<AlarmCard>(2));
        var ui = CultureInfo.CurrentUICulture.Name;
        var culture = CultureInfo.CurrentCulture.Name;
        lock (cards)
        {
            foreach (var card in cards)
            {
                if (card.RingsHere == ringsHere && card.UiCulture == ui && card.Culture == culture)
                {
                    return card;
                }
            }

            var made = new AlarmCard(alarm, ringsHere, l);
            cards.Add(made);
            return made;
        }
    }

    private string BuildHtml()
    {
        var html = new StringBuilder(256);
        html.Append("<div class=\"").Append(Encoder.Encode(Class))
            .Append("\" data-testid=\"alarm-card\" data-alarm-id=\"").Append(Id)
            .Append("\" data-state=\"").Append(Encoder.Encode(State))
            .Append("\"><b>").Append(Encoder.Encode(School)).Append("</b>");
        if (TestLabel is not null)
        {
            html.Append("<span class=\"alarm-tag alarm-tag-test\" data-testid=\"test-badge\">").Append(Encoder.Encode(TestLabel)).Append("</span>");
        }

        html.Append(Encoder.Encode(Line));
        if (AnsweredBy is not null)
        {
            html.Append("<span data-testid=\"answered-by\">").Append(Encoder.Encode(AnsweredBy)).Append("</span>");
        }

        return html.Append("</div>").ToString();
    }
}
