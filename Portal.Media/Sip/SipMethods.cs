namespace Portal.Media.Sip;

/// <summary>Request methods (RFC 3261 §7.1 and extensions) and the token grammar every method name follows.</summary>
public static class SipMethods
{
    public const string Invite = "INVITE";
    public const string Ack = "ACK";
    public const string Bye = "BYE";
    public const string Cancel = "CANCEL";
    public const string Options = "OPTIONS";
    public const string Register = "REGISTER";
    public const string Info = "INFO";
    public const string Update = "UPDATE";
    public const string Prack = "PRACK";
    public const string Subscribe = "SUBSCRIBE";
    public const string Notify = "NOTIFY";
    public const string Message = "MESSAGE";
    public const string Refer = "REFER";
    public const string Publish = "PUBLISH";

    /// <summary>Methods defined by RFC 3261 and its common extensions: a UAS answers 405 for these when it does not serve them, 501 for others (§8.2.1, §21.5.2).</summary>
    public static bool IsKnown(string method) => method is Invite or Ack or Bye or Cancel or Options or Register or Info or Update
        or Prack or Subscribe or Notify or Message or Refer or Publish;

    /// <summary>token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") (RFC 3261 §25.1).</summary>
    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '!' or '%' or '*' or '_' or '+' or '`' or '\'' or '~';
}
