namespace Portal.Tests.Media.Sip;

/// <summary>
/// Hostile and odd SIP messages in the categories of RFC 4475 (SIP torture tests), written for this portal
/// (not copied from the RFC): each with the answer we owe it, or null when it must be dropped.
/// </summary>
/// <remarks>
/// <c>{PORT}</c> becomes the sending peer's port (its Via), <c>{ID}</c> a value unique to the run (branch and
/// Call-ID, so no message looks like a retransmission of another). Line ends are LF here and CRLF on the wire,
/// except in messages whose point is the line end.
/// </remarks>
internal static class SipTortureMessages
{
    private const string Head = """
        Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
        Max-Forwards: 70
        From: "Guard" <sip:terminal-00001@portal.test>;tag=f{ID}
        To: <sip:110@portal.test>
        Call-ID: {ID}@terminal
        """;

    /// <summary>RFC 4475 §3.1.1: valid messages, however odd. Name, text, expected status.</summary>
    public static readonly (string Name, string Text, int? Status)[] Valid =
    [
        ("3.1.1.1 tortuous INVITE: folding, compact names, blanks around ':' and '/', leading zeros", """
            INVITE sip:110@portal.test SIP/2.0
            TO :
             <sip:110@portal.test>
            from   : "Guard \"room\" 1" <sip:terminal-00001@portal.test>
              ;tag = f{ID}
            MaX-fOrWaRdS: 0068
            Call-ID: {ID}@terminal
            v:  SIP  /   2.0
             /UDP
                127.0.0.1:{PORT} ;  branch = z9hG4bK{ID}  ; rport
            cseq: 0009
              INVITE
            m: <sip:terminal-00001@127.0.0.1:{PORT}>
            NewFangledHeader:   newfangled value
             continued newfangled value
            l: 0


            """, 407),
        ("3.1.1.2 wide range of valid characters: UTF-8 display name, token punctuation", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: "门卫室 一号 ✓" <sip:terminal-00001@portal.test>;tag=f{ID}
            To: -.!%*_+`'~ <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            X-Odd: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
            Content-Length: 0


            """, 200),
        ("3.1.1.3 escaped characters in the Request-URI", """
            OPTIONS sip:%70ortal@portal.test;x=%41 SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 200),
        ("3.1.1.4 escaped NUL in a URI user part", """
            REGISTER sip:portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:null-%00-null@portal.test>;tag=f{ID}
            To: <sip:null-%00-null@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 REGISTER
            Contact: <sip:null@127.0.0.1:{PORT}>
            Content-Length: 0


            """, 401),
        ("3.1.1.5 '%' in a method token is not an escape (RE%47ISTER is an unknown method)", """
            RE%47IST%45R sip:portal.test SIP/2.0
            {HEAD}
            CSeq: 1 RE%47IST%45R
            Content-Length: 0


            """, 501),
        ("3.1.1.6 no blank between display name and '<'", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: "Guard"<sip:terminal-00001@portal.test>;tag=f{ID}
            To: "Portal"<sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 200),
        ("3.1.1.7 long header values and a long Via list", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}, {VIAS}
            {HEAD_NO_VIA}
            CSeq: 1 OPTIONS
            X-Long: {LONG}
            Content-Length: 0


            """, 200),
        ("3.1.1.9 semicolon-separated parameters in a URI user part", """
            REGISTER sip:portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:user;par=u%40example.net@portal.test>;tag=f{ID}
            To: <sip:user;par=u%40example.net@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 REGISTER
            Contact: <sip:user@127.0.0.1:{PORT}>
            Content-Length: 0


            """, 401),
        ("3.1.1.10 unknown transports further down the Via list", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Via: SIP/2.0/SCTP 192.0.2.7;branch=z9hG4bKx1, SIP/2.0/QUIC 192.0.2.8:9;branch=z9hG4bKx2
            {HEAD_NO_VIA}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 200),
        ("3.1.1.11 multipart body the UAS does not read", """
            INVITE sip:110@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Contact: <sip:terminal-00001@127.0.0.1:{PORT}>
            Content-Type: multipart/mixed;boundary=x
            Content-Length: 24

            --x
            Content-Type: a/b

            """, 415),
        ("3.2.1 RFC 2543 request without a branch cookie or Max-Forwards", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT}
            From: <sip:old@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@old
            CSeq: 8 OPTIONS


            """, 200),
        ("3.3.4 unknown URI scheme in To", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <urn:ietf:params:xml:ns:portal>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 200),
        ("3.3.11 Max-Forwards 0 at the endpoint", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 0
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 200),
        ("3.1.2.12 invalid Date is not ours to judge", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Date: Fri, 01 Jan 2010 16:00:00 EST
            Content-Length: 0


            """, 200),
    ];

    /// <summary>RFC 4475 §3.1.2 and §3.3: invalid messages and application-layer refusals. Null: dropped.</summary>
    public static readonly (string Name, string Text, int? Status)[] Invalid =
    [
        ("3.1.2.1 extraneous separator in a single-valued header", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70, 70
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.2 Content-Length larger than the datagram", """
            INVITE sip:110@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Content-Type: application/sdp
            Content-Length: 9999

            v=0

            """, 400),
        ("3.1.2.3 negative Content-Length", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: -999


            """, 400),
        ("3.1.2.4 overlarge CSeq", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 36893488147419103232 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.4 overlarge Max-Forwards", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 300
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.5 unterminated quoted display name", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: "Guard <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.6 Request-URI in angle brackets", """
            OPTIONS <sip:portal@portal.test> SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.7 blank inside the Request-URI", """
            OPTIONS sip:portal@portal.test; lr=on SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.8 two spaces between request-line elements", """
            OPTIONS  sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.9 space at the end of the request line", """
            OPTIONS sip:portal@portal.test SIP/2.0{SP}
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.10 escaped headers in the Request-URI", """
            OPTIONS sip:portal@portal.test?Route=%3Csip:evil.example%3E SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.12 addr-spec Contact with '?' outside angle brackets", """
            REGISTER sip:portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:terminal-00001@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 REGISTER
            Contact: sip:terminal-00001@127.0.0.1?Route=%3Csip:evil.example%3E
            Content-Length: 0


            """, 400),
        ("3.1.2.13 blanks inside an addr-spec", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:  terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.14 non-token characters in an unquoted display name", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: Guard; Room <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.16 unknown protocol version", """
            OPTIONS sip:portal@portal.test SIP/7.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 505),
        ("3.1.2.16 not SIP at all on the request line", """
            OPTIONS sip:portal@portal.test HTTP/1.1
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.1.2.17 CSeq names another method", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Content-Length: 0


            """, 400),
        ("3.1.2.18 unknown method and a CSeq that does not match it", """
            NEWMETHOD sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OTHERMETHOD
            Content-Length: 0


            """, 400),
        ("3.3.1 missing Call-ID, From and To", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.3.2 Request-URI with an unknown scheme", """
            OPTIONS nobodyknows:opaque-content SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 416),
        ("3.3.3 Request-URI with a known but unsupported scheme", """
            INVITE tel:+86-110 SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Content-Length: 0


            """, 416),
        ("3.3.5 Require with an extension we do not support", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Require: nobodyknowsthis, 100rel
            Proxy-Require: nobodyknowsthiseither
            Content-Length: 0


            """, 420),
        ("3.3.6 a body of a type we do not read", """
            INVITE sip:110@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Contact: <sip:terminal-00001@127.0.0.1:{PORT}>
            Content-Type: application/unknownformat
            Content-Length: 6

            xxxxx

            """, 415),
        ("3.3.8 two From headers", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            From: <sip:intruder@portal.test>;tag=x
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("3.3.9 two Content-Length headers", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0
            l: 0


            """, 400),
        ("3.3.15 INVITE that accepts no SDP", """
            INVITE sip:110@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 INVITE
            Contact: <sip:terminal-00001@127.0.0.1:{PORT}>
            Accept: text/nobodyknowsthis
            Content-Length: 0


            """, 406),
        ("deep Via stack beyond 70 elements", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}, {DEEPVIAS}
            {HEAD_NO_VIA}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("more header fields than allowed", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            {MANYHEADERS}
            Content-Length: 0


            """, 513),
        ("Content-Length that is not a number", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: twelve


            """, 400),
        ("a line that is not a header field (no colon) among the headers", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            this line is no header
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("a blank inside a header name", """
            OPTIONS sip:portal@portal.test SIP/2.0
            {HEAD}
            Max Forwards: 70
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("a continuation line right after the request line", """
            OPTIONS sip:portal@portal.test SIP/2.0
              folded onto nothing
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, 400),
        ("a non-header line where the Via should be: nowhere to answer", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Via SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS


            """, null),
        ("a response with a line that is not a header field is never answered", """
            SIP/2.0 200 OK
            {HEAD}
            no colon here
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, null),
        ("ACK that is malformed gets no answer", """
            ACK sip:portal@portal.test SIP/7.0
            {HEAD}
            CSeq: 1 ACK
            Content-Length: 0


            """, null),
        ("NUL byte inside a header", "OPTIONS sip:portal@portal.test SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:{PORT};branch=z9hG4bK{ID}\nX-Nul: a\0b\n{HEAD_NO_VIA}\nCSeq: 1 OPTIONS\n\n", null),
        ("no Via: nowhere to answer", """
            OPTIONS sip:portal@portal.test SIP/2.0
            Max-Forwards: 70
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>
            Call-ID: {ID}@terminal
            CSeq: 1 OPTIONS


            """, null),
        ("garbage", "\u0016\u0003\u0001 this is not SIP at all {ID}\n\n", null),
        ("header section larger than 16 KiB", "OPTIONS sip:portal@portal.test SIP/2.0\n{HEAD}\nCSeq: 1 OPTIONS\nX-Huge: {HUGE}\n\n", null),
        ("a response nobody asked for (broadcast Via)", """
            SIP/2.0 200 OK
            Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK{ID}
            From: <sip:terminal-00001@portal.test>;tag=f{ID}
            To: <sip:portal@portal.test>;tag=t
            Call-ID: {ID}@terminal
            CSeq: 1 INVITE
            Content-Length: 0


            """, null),
        ("overlarge response code", """
            SIP/2.0 4294967301 better not break the receiver
            {HEAD}
            CSeq: 1 OPTIONS
            Content-Length: 0


            """, null),
    ];

    public static string Render(string template, int port, string id)
    {
        var headNoVia = string.Join('\n', Head.Split('\n').Skip(1));
        var vias = string.Join(", ", Enumerable.Range(0, 30).Select(i => $"SIP/2.0/UDP 192.0.2.{i}:5060;branch=z9hG4bKhop{i}"));
        var deep = string.Join(", ", Enumerable.Range(0, 75).Select(i => $"SIP/2.0/UDP 192.0.2.{i}:5060;branch=z9hG4bKhop{i}"));
        var many = string.Join('\n', Enumerable.Range(0, 210).Select(i => $"X-H{i}: {i}"));
        return template
            .Replace("{HEAD_NO_VIA}", headNoVia, StringComparison.Ordinal)
            .Replace("{HEAD}", Head, StringComparison.Ordinal)
            .Replace("{VIAS}", vias, StringComparison.Ordinal)
            .Replace("{DEEPVIAS}", deep, StringComparison.Ordinal)
            .Replace("{MANYHEADERS}", many, StringComparison.Ordinal)
            .Replace("{LONG}", new string('x', 5000), StringComparison.Ordinal)
            .Replace("{HUGE}", new string('y', 20_000), StringComparison.Ordinal)
            .Replace("{PORT}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{SP}", " ", StringComparison.Ordinal)
            .Replace("{ID}", id, StringComparison.Ordinal);
    }
}
