using System.Globalization;
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
/// </summary>
public sealed class AlarmCard
{
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
