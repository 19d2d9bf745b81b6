#!/usr/bin/env python3
"""Write the conformance corpus: valid/ and invalid/ message files.

Each message is NAME.sip (raw bytes, CRLF line endings) with NAME.expect
beside it holding one line: "ok", "reject" or "check STATUS REASON".  The
files themselves are what the tests read; this script only saves quoting
CRLF by hand.  Run it from anywhere: it writes next to itself.

The messages follow the categories of RFC 4475 (tricky-valid and invalid)
but are written for sipd, not copied from the RFC.  Where "{CL}" appears in
a header it becomes the exact body length.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

VIA = "Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"
MAXF = "Max-Forwards: 70"
TO = "To: Bob <sip:bob@biloxi.example.com>"
FROM = "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl"
CALLID = "Call-ID: 3848276298220188511@atlanta.example.com"
CONTACT = "Contact: <sip:alice@client.atlanta.example.com;transport=udp>"
CL0 = "Content-Length: 0"

SDP = (
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.101\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
)


def b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


def build(start, headers, body=b""):
    """Join a start line and header lines with CRLF, then the body."""
    body = b(body)
    out = b(start) + b"\r\n"
    for h in headers:
        h = b(h).replace(b"{CL}", str(len(body)).encode())
        out += h + b"\r\n"
    return out + b"\r\n" + body


def std(start, method, extra=(), body=b"", cseq=None, cl=True):
    """A request with the usual headers plus extra ones."""
    hdrs = [VIA, MAXF, TO, FROM, CALLID,
            cseq if cseq is not None else "CSeq: 1 " + method]
    hdrs += list(extra)
    if cl:
        hdrs.append("Content-Length: {CL}")
    return build(start, hdrs, body)


VALID = {}
INVALID = {}


def valid(name, data, expect="ok"):
    VALID[name] = (data, expect)


def invalid(name, data, expect):
    INVALID[name] = (data, expect)


# ------------------------------------------------------------ tricky-valid

valid("escaped-uris", build(
    "INVITE sip:%62ob%3Ahome%40ex.example@biloxi.example.com;x%3Dy=a%2Cb "
    "SIP/2.0",
    [VIA, MAXF,
     "To: <sip:%62ob%3Ahome%40ex.example@biloxi.example.com>",
     "From: <sip:%61lice@atlanta.example.com;x=%20%2c>;tag=a1",
     CALLID, "CSeq: 1 INVITE",
     "Contact: <sip:al%69ce@client.atlanta.example.com;p%61ram=v%61l>",
     CL0]))

valid("escaped-display-names", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF,
     "To: \"Bob \\\"The Builder\\\" \\\\ Jr.\" <sip:bob@biloxi.example.com>",
     "From: \"Jos\u00e9 O'Connor, \\\"Jr\\\" \\\\\" "
     "<sip:jose@atlanta.example.com>;tag=eb12",
     CALLID, "CSeq: 2 OPTIONS",
     "Contact: Alice   Q.   Public <sip:alice@client.atlanta.example.com>",
     CL0]))

valid("escaped-null-in-uri", build(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
    [VIA, MAXF,
     "To: <sip:nul-%00-nul@biloxi.example.com>",
     "From: <sip:nul-%00-nul@biloxi.example.com>;tag=839923423",
     CALLID, "CSeq: 3 REGISTER",
     "Contact: <sip:nul-%00-nul@192.0.2.8>;expires=600",
     CL0]))

valid("whitespace-torture", build(
    "INVITE sip:bob@biloxi.example.com;unknownparam SIP/2.0",
    ["TO :\r\n sip:bob@biloxi.example.com ;   tag    = 19a81k3",
     "from   : \"Alice \\\\\\\"\"       <sip:alice@atlanta.example.com>\r\n"
     "  ;\r\n  tag = 11jw2",
     "MaX-fOrWaRdS: 0069",
     "Call-ID: ws.ab91kd@192.0.2.5",
     "Content-Length   : {CL}",
     "cseq: 0017\r\n  INVITE",
     "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.5;branch=z9hG4bK390fw",
     "s :",
     "NewFangledHeader:   a new value\r\n continued on the next line",
     "Content-Type: application/sdp",
     "Route:\r\n <sip:svc.biloxi.example.com;lr;unknown=value;flag>",
     "v:  SIP  / 2.0  / TCP     spindle.biloxi.example.com   ;\r\n"
     "  branch  =   z9hG4bK9ikj8  ,\r\n"
     " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
     " z9hG4bK30239",
     "m:\"Quoted \\\"\\\"\" <sip:alice@atlanta.example.com> ; newparam =\r\n"
     "      newvalue ;\r\n  secondparam ; q = 0.33"],
    SDP))

valid("folding-everywhere", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP\r\n\tclient.atlanta.example.com:5060\r\n\t"
     ";branch=z9hG4bK0fold",
     "Max-Forwards:\r\n 70",
     "To: Bob\r\n <sip:bob@biloxi.example.com>",
     "From: Alice <sip:alice@atlanta.example.com>\r\n ;tag=f01d",
     "Call-ID:\r\n\t fold.ab73@atlanta.example.com",
     "CSeq: 5\r\n INVITE",
     "Subject: a subject that goes on\r\n  and on\r\n\tand on",
     "Supported: timer,\r\n 100rel",
     CL0]))

valid("compact-everywhere", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    ["v: SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKcmp1",
     "v: SIP/2.0/UDP relay.example.com;branch=z9hG4bKcmp0",
     "t: <sip:bob@biloxi.example.com>",
     "f: <sip:alice@atlanta.example.com>;tag=cmp9",
     "i: compact.8811@atlanta.example.com",
     "CSeq: 8 INVITE",
     "m: <sip:alice@client.atlanta.example.com>",
     "k: timer, 100rel",
     "s: compact forms",
     "o: presence",
     "u: presence, dialog",
     "e: identity",
     "c: application/sdp",
     "l: {CL}"],
    SDP))

valid("ipv6-references", build(
    "INVITE sip:bob@[2001:db8::10]:5070;transport=udp SIP/2.0",
    ["Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKv6a;rport;"
     "received=2001:db8::9",
     "Via: SIP/2.0/UDP [2001:db8:0:0:0:0:0:1];branch=z9hG4bKv6b",
     MAXF,
     "To: <sip:bob@[2001:db8::10]:5070>",
     "From: <sip:alice@[2001:db8::9]>;tag=v6v6",
     "Call-ID: v6.1@[2001:db8::9]",
     "CSeq: 1 INVITE",
     "Contact: <sip:alice@[2001:db8::9]:5060>, <sip:alice@[::1]>",
     CL0]))

valid("ipv4-in-ipv6", build(
    "OPTIONS sip:[::ffff:192.0.2.128]:5060 SIP/2.0",
    ["Via: SIP/2.0/TCP [::ffff:192.0.2.200];branch=z9hG4bKmap",
     MAXF,
     "To: <sip:[::ffff:192.0.2.128]>",
     "From: <sip:alice@atlanta.example.com>;tag=mp4",
     CALLID, "CSeq: 4 OPTIONS", CL0]))

valid("unknown-headers", build(
    "MESSAGE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 MESSAGE",
     "UnknownHeaderWithUnusualValue: ;;,,;;,;",
     "X-Empty:",
     "X-Quoted: \"a, b; c\" , <d>",
     "X-Utf8: \u00e7a va \u2713",
     "P-Odd_Token.Name!~: value",
     "Content-Type: text/plain",
     "Content-Length: {CL}"],
    "Watson, come here."))

valid("extension-method", build(
    "FETCHNOTE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 77 FETCHNOTE",
     "Allow: INVITE, ACK, FETCHNOTE", CL0]))

valid("unusual-tokens", build(
    "Ext.Method-_~'*+%`!9 sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP client.atlanta.example.com;"
     "branch=z9hG4bK-._!~*'`%+;x-tok.en=-._!~*'`%+",
     MAXF,
     "To: <sip:bob@biloxi.example.com>;tag=-._!~*'`%+0",
     "From: <sip:alice@atlanta.example.com>;tag=T0k3N.!~*'+%`_-",
     "Call-ID: -._!~*'`%+0()<>:\\\"/[]?{}@atlanta.example.com",
     "CSeq: 1 Ext.Method-_~'*+%`!9",
     CL0]))

MULTIPART = (
    "--boundary-42\r\n"
    "Content-Type: application/sdp\r\n"
    "\r\n" + SDP +
    "\r\n--boundary-42\r\n"
    "Content-Type: text/plain;charset=utf-8\r\n"
    "Content-Disposition: render;handling=optional\r\n"
    "\r\n"
    "a note, with \u00fcml\u00e4uts\r\n"
    "\r\n--boundary-42--\r\n")

valid("multipart-mixed-body", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 10 INVITE", CONTACT,
     "MIME-Version: 1.0",
     "Content-Type: multipart/mixed;boundary=\"boundary-42\"",
     "Content-Length: {CL}"],
    MULTIPART))

valid("odd-case-names", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    ["vIa: SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKoc1",
     "mAX-fORWARDS: 70",
     "tO: <sip:bob@biloxi.example.com>",
     "FrOm: <sip:alice@atlanta.example.com>;TAG=oc4",
     "CALL-id: oddcase@atlanta.example.com",
     "cSEQ: 1 INVITE",
     "CONTACT: <sip:alice@client.atlanta.example.com>",
     "content-TYPE: application/sdp",
     "CONTENT-length: {CL}"],
    SDP))

valid("empty-reason-phrase", build(
    "SIP/2.0 200 ",
    [VIA, TO + ";tag=8321234356", FROM, CALLID, "CSeq: 1 INVITE",
     CONTACT.replace("alice@client.atlanta", "bob@host.biloxi"),
     CL0]))

valid("utf8-reason-phrase", build(
    "SIP/2.0 486 Occup\u00e9 \u2014 rappelez plus tard",
    [VIA, TO + ";tag=ut8", FROM, CALLID, "CSeq: 1 INVITE", CL0]))

valid("unknown-status-code", build(
    "SIP/2.0 499 Extension Status",
    [VIA, TO + ";tag=s499", FROM, CALLID, "CSeq: 1 INVITE",
     "l: 0"]))

valid("max-forwards-zero-options", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, "Max-Forwards: 0", TO, FROM, CALLID, "CSeq: 1 OPTIONS",
     "Accept: application/sdp", CL0]))

LONG_SUBJECT = "long " * 800
valid("long-values", build(
    "INVITE sip:bob@biloxi.example.com;" + "p" * 300 + "=" + "v" * 300 +
    " SIP/2.0",
    [VIA, MAXF,
     "To: \"" + "B" * 500 + "\" <sip:bob@biloxi.example.com>",
     "From: <sip:" + "a" * 400 + "@atlanta.example.com>;tag=" + "t" * 600,
     "Call-ID: " + "c" * 1000 + "@atlanta.example.com",
     "CSeq: 1 INVITE",
     "Subject: " + LONG_SUBJECT.strip(),
     "X-Long-Token: " + "x" * 3000,
     CL0]))

many = []
for i in range(20):
    many.append("Via: SIP/2.0/UDP hop%d.example.com;branch=z9hG4bKh%d, "
                "SIP/2.0/TCP hop%db.example.com:5070;branch=z9hG4bKg%d"
                % (i, i, i, i))
valid("many-vias", build(
    "BYE sip:bob@192.0.2.4 SIP/2.0",
    many + [MAXF, TO + ";tag=mv1", FROM, CALLID, "CSeq: 2 BYE", CL0]))

valid("param-torture", build(
    "INVITE sip:bob@biloxi.example.com;a;b=c;lr;transport=TCP;"
    "maddr=192.0.2.7;ttl=5;user=ip;x-y-z=%41%42;"
    "[]/:&+$=[]/:&+$ SIP/2.0",
    ["Via: SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKpt;"
     "a;b=c;d=\"quoted ; value, here\";e;received=192.0.2.1",
     MAXF,
     "To: <sip:bob@biloxi.example.com;a;b=c>;x;y=z;w=\"q;,v\"",
     "From: <sip:alice@atlanta.example.com>;tag=pt1;tag-like=no;t",
     CALLID, "CSeq: 1 INVITE",
     "Contact: <sip:alice@client.atlanta.example.com;a=b;c>"
     ";expires=30;q=0.5;+sip.instance=\"<urn:uuid:f81d4fae>\";flag",
     CL0]))

valid("unknown-scheme-in-to", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF,
     "To: <x-unheard-of:totally;opaque/content?at=all>",
     "From: <sip:alice@atlanta.example.com>;tag=us1",
     CALLID, "CSeq: 1 OPTIONS", CL0]))

valid("sips-request-uri", build(
    "INVITE sips:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bKtls1",
     MAXF, "To: <sips:bob@biloxi.example.com>",
     "From: <sips:alice@atlanta.example.com>;tag=s1",
     CALLID, "CSeq: 1 INVITE",
     "Contact: <sips:alice@client.atlanta.example.com:5061>", CL0]))

valid("register-star", build(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
    [VIA, MAXF, "To: <sip:bob@biloxi.example.com>",
     "From: <sip:bob@biloxi.example.com>;tag=st1",
     CALLID, "CSeq: 9 REGISTER", "Contact: *", "Expires: 0", CL0]))

valid("no-content-length", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS"]))

valid("version-lower-case", build(
    "OPTIONS sip:bob@biloxi.example.com sip/2.0",
    ["Via: sip/2.0/udp client.atlanta.example.com;branch=z9hG4bKlc",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]))

valid("digest-credentials", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 2 INVITE",
     "Proxy-Authorization: Digest username=\"al\\\"ice\", "
     "realm=\"atlanta.example.com\",\r\n"
     " nonce=\"wf84f1ceczx41ae6cbe5aea9c8e88d359\", opaque=\"\",\r\n"
     " uri=\"sip:bob@biloxi.example.com\", qop=auth, nc=00000001,"
     " cnonce=\"0a4f113b\",\r\n"
     " response=\"42ce3cef44b22f50c6a6071bc8\", algorithm=MD5",
     "Authorization: Digest username=\"bob\", realm=\"biloxi.example.com\","
     " nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", "
     "uri=\"sip:bob@biloxi.example.com\", "
     "response=\"dfe56131d1958046689d83306477ecc\"",
     CL0]))

valid("route-lists", build(
    "INVITE sip:bob@192.0.2.4 SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 3 INVITE",
     "Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>",
     "Route: \"proxy three\" <sip:p3.example.com;lr;transport=tcp>",
     "Record-Route: <sip:rr.example.com;lr>, <sip:[2001:db8::77];lr>",
     CL0]))

valid("via-without-branch", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP oldphone.atlanta.example.com",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]))

valid("tel-uris-in-headers", build(
    "INVITE sip:+12015550123@gw.biloxi.example.com;user=phone SIP/2.0",
    [VIA, MAXF,
     "To: <tel:+1-201-555-0123>",
     "From: \"Caller\" <tel:7042;phone-context=atlanta.example.com>;tag=t3l",
     CALLID, "CSeq: 1 INVITE", CL0]))

valid("cseq-max", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 4294967295 OPTIONS", CL0]))

valid("empty-header-values", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE",
     "Subject:", "Organization:   ", "Supported:", "X-Nothing:", CL0]))

valid("binary-body", build(
    "MESSAGE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 MESSAGE",
     "Content-Type: application/octet-stream",
     "Content-Length: {CL}"],
    b"\x00\x01\r\n\r\nINVITE sip:x SIP/2.0\r\n\x00\xff\xfe"))

valid("contact-params", build(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
    [VIA, MAXF, "To: <sip:bob@biloxi.example.com>",
     "From: <sip:bob@biloxi.example.com>;tag=cp1",
     CALLID, "CSeq: 2 REGISTER",
     "Contact: <sip:bob@192.0.2.4>;q=0.000;expires=0, "
     "\"Bob, Desk\" <sip:bob@192.0.2.5:5062>;q=1.000;expires=86400",
     "m: sip:bob@192.0.2.6;q=0.7;expires=3600",
     "Expires: 7200", CL0]))

valid("ipv4-request-uri", build(
    "OPTIONS sip:192.0.2.99:5080;transport=udp SIP/2.0",
    ["Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKip4;rport=5060;"
     "received=198.51.100.7;ttl=1;maddr=192.0.2.255",
     MAXF, "To: <sip:192.0.2.99:5080>", FROM, CALLID, "CSeq: 1 OPTIONS",
     CL0]))

valid("response-many-headers", build(
    "SIP/2.0 401 Unauthorized",
    [VIA, "Via: SIP/2.0/UDP relay.example.com;branch=z9hG4bKr2",
     TO + ";tag=1410948204", FROM, CALLID, "CSeq: 1 REGISTER",
     "WWW-Authenticate: Digest realm=\"atlanta.example.com\", "
     "qop=\"auth\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", "
     "opaque=\"\", stale=FALSE, algorithm=MD5",
     "Server: sipd-test/1.0 (conformance)",
     "Retry-After: 18000;duration=3600",
     "Warning: 399 biloxi.example.com \"Some \\\"warning\\\" text\"",
     CL0]))

# ------------------------------------------------------------------ invalid

invalid("content-length-too-large", std(
    "INVITE sip:bob@biloxi.example.com SIP/2.0", "INVITE",
    ["Content-Type: application/sdp", "Content-Length: 9999"], SDP,
    cl=False),
    "check 400 Bad Content-Length")

invalid("content-length-non-numeric", std(
    "INVITE sip:bob@biloxi.example.com SIP/2.0", "INVITE",
    ["Content-Length: one-fifty"], cl=False),
    "check 400 Bad Content-Length")

invalid("content-length-negative", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    ["Content-Length: -3"], cl=False) + b"abc",
    "check 400 Bad Content-Length")

invalid("content-length-overflow", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    ["l: 184467440737095516170"], cl=False),
    "check 400 Bad Content-Length")

invalid("missing-call-id", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "CSeq: 1 INVITE", CL0]),
    "check 400 Missing Call-ID")

invalid("missing-cseq", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, CL0]),
    "check 400 Missing CSeq")

invalid("missing-from", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, CALLID, "CSeq: 1 INVITE", CL0]),
    "check 400 Missing From")

invalid("missing-to", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "check 400 Missing To")

invalid("missing-via", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "check 400 Missing Via")

invalid("response-missing-via", build(
    "SIP/2.0 200 OK",
    [TO + ";tag=rmv", FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "check 0 Missing Via")

invalid("cseq-method-mismatch", std(
    "INVITE sip:bob@biloxi.example.com SIP/2.0", "INVITE",
    cseq="CSeq: 1 OPTIONS"),
    "check 400 CSeq Method Mismatch")

invalid("cseq-method-case-mismatch", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    cseq="CSeq: 1 options"),
    "check 400 CSeq Method Mismatch")

invalid("cseq-overflow", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    cseq="CSeq: 4294967296 OPTIONS"),
    "check 400 Bad CSeq")

invalid("cseq-huge", std(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0", "REGISTER",
    cseq="CSeq: 36893488147419103232 REGISTER"),
    "check 400 Bad CSeq")

invalid("cseq-no-method", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    cseq="CSeq: 12"),
    "check 400 Bad CSeq")

invalid("cseq-non-numeric", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0", "OPTIONS",
    cseq="CSeq: one OPTIONS"),
    "check 400 Bad CSeq")

invalid("unknown-uri-scheme", std(
    "OPTIONS nobodyknowsthis:bob.at.biloxi SIP/2.0", "OPTIONS"),
    "check 416 Unsupported URI Scheme")

invalid("unknown-uri-scheme-isbn", std(
    "INVITE isbn:0-306-40615-2 SIP/2.0", "INVITE"),
    "check 416 Unsupported URI Scheme")

invalid("version-7", std(
    "INVITE sip:bob@biloxi.example.com SIP/7.0", "INVITE"),
    "check 505 Version Not Supported")

invalid("version-1", std(
    "OPTIONS sip:bob@biloxi.example.com SIP/1.0", "OPTIONS"),
    "check 505 Version Not Supported")

invalid("nul-in-header", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE",
     b"Subject: before\x00after", CL0]),
    "reject")

invalid("nul-in-start-line", build(
    b"OPTIONS sip:bob@biloxi.example.com\x00 SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "reject")

invalid("overlong-line", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE",
     "X-Huge: " + "h" * 9000, CL0]),
    "reject")

invalid("too-many-headers", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS"] +
    ["X-Hdr-%d: %d" % (i, i) for i in range(300)] + [CL0]),
    "reject")

invalid("max-forwards-non-numeric", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, "Max-Forwards: seventy", TO, FROM, CALLID, "CSeq: 1 INVITE",
     CL0]),
    "check 400 Bad Max-Forwards")

invalid("max-forwards-negative", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, "Max-Forwards: -1", TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Max-Forwards")

invalid("max-forwards-too-large", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, "Max-Forwards: 300", TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Max-Forwards")

invalid("unterminated-quote-from", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO,
     "From: \"Alice the Unterminated <sip:alice@atlanta.example.com>;tag=uq",
     CALLID, "CSeq: 1 INVITE", CL0]),
    "check 400 Bad From")

invalid("unterminated-quote-to", build(
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, "To: \"Bob <sip:bob@biloxi.example.com>", FROM, CALLID,
     "CSeq: 1 INVITE", CL0]),
    "check 400 Bad To")

invalid("unclosed-angle-from", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, "From: <sip:alice@atlanta.example.com;tag=ua1",
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad From")

invalid("via-no-transport", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0 client.atlanta.example.com;branch=z9hG4bKnt",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Via")

invalid("via-no-host", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP ;branch=z9hG4bKnh",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Via")

invalid("via-bad-ipv6", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP [2001:db8::1;branch=z9hG4bKb6",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Via")

# a TLS ClientHello's first bytes on a SIP port: no method token
invalid("garbage-start-line", build(
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 garbage",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "reject")

invalid("empty-start-line-token", build(
    "<html> not sip </html>",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "reject")

# three words, but not a Request-Line: answerable with a 400
invalid("words-start-line", build(
    "THIS IS NOT SIP AT ALL",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 THIS", CL0]),
    "check 400 Bad Request Line")

invalid("start-line-no-version", build(
    "INVITE sip:bob@biloxi.example.com",
    [VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "check 400 Bad Request Line")

invalid("status-code-two-digits", build(
    "SIP/2.0 20 OK",
    [VIA, TO + ";tag=s2", FROM, CALLID, "CSeq: 1 INVITE", CL0]),
    "reject")

invalid("no-end-of-headers",
        b"OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n"
        + "\r\n".join([VIA, MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS",
                       CL0]).encode() + b"\r\n",
        "reject")

invalid("bad-request-uri", std(
    "OPTIONS sip:bob@[2001:db8::10 SIP/2.0", "OPTIONS"),
    "check 400 Bad Request-URI")

invalid("bad-contact", std(
    "INVITE sip:bob@biloxi.example.com SIP/2.0", "INVITE",
    ["Contact: <sip:alice@client.atlanta.example.com"]),
    "check 400 Bad Contact")

invalid("bad-expires", std(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0", "REGISTER",
    [CONTACT, "Expires: soon"]),
    "check 400 Bad Expires")

invalid("bad-content-type", std(
    "MESSAGE sip:bob@biloxi.example.com SIP/2.0", "MESSAGE",
    ["Content-Type: textplain"], "hi"),
    "check 400 Bad Content-Type")

invalid("contact-star-and-uri", std(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0", "REGISTER",
    ["Contact: *, <sip:alice@client.atlanta.example.com>", "Expires: 0"]),
    "check 400 Bad Contact")

invalid("contact-bad-q", std(
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0", "REGISTER",
    ["Contact: <sip:alice@client.atlanta.example.com>;q=1.5"]),
    "check 400 Bad Contact")

invalid("two-call-ids", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, CALLID, "i: second-call-id@atlanta.example.com",
     "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Call-ID")

invalid("two-from-headers", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "From: <sip:mallory@example.net>;tag=m1", CALLID,
     "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad From")

invalid("call-id-with-space", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "Call-ID: two words@atlanta.example.com",
     "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Call-ID")

invalid("content-length-disagree", std(
    "MESSAGE sip:bob@biloxi.example.com SIP/2.0", "MESSAGE",
    ["Content-Type: text/plain", "l: 3"], "hello"),
    "check 400 Bad Content-Length")


# ------------------------------------------------ folds, quoted-pairs, 400s

# RFC 3261 7.3.1: a fold is legal inside every header, the top Via too
valid("folded-top-via", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP\r\n client.atlanta.example.com:5060\r\n"
     "\t;branch=z9hG4bKf0ld\r\n ;rport,\r\n"
     " SIP/2.0/UDP\r\n\t192.0.2.4;branch=z9hG4bKf1ld",
     MAXF, TO, FROM, CALLID, "CSeq: 1 OPTIONS", CL0]))

valid("folded-value-start", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via:\r\n SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKv",
     "Max-Forwards:\r\n\t70", "To:\r\n <sip:bob@biloxi.example.com>",
     "From:\r\n <sip:alice@atlanta.example.com>\r\n ;tag=fv1",
     "Call-ID:\r\n fv.9@atlanta.example.com", "CSeq:\r\n 1\r\n OPTIONS",
     "Content-Length:\r\n 0"]))

# RFC 3261 25.1: a quoted-pair escapes any octet but CR and LF, NUL too
valid("escaped-nul-display-name", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, b"To: \"B\\\x00b\" <sip:bob@biloxi.example.com>",
     b"From: \"\\\x00\" <sip:alice@atlanta.example.com>;tag=n0",
     CALLID, "CSeq: 1 OPTIONS", b"Subject: \"\\\x00\\\x01\\\x7f\"", CL0]))

invalid("nul-in-quoted-string", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, b"From: \"A\x00\" <sip:alice@atlanta.example.com>;tag=1",
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "reject")

invalid("nul-escaped-outside-quotes", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, b"From: A\\\x00 <sip:alice@atlanta.example.com>;tag=1",
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "reject")

invalid("backslash-before-fold", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO,
     "From: \"A\\\r\n B\" <sip:alice@atlanta.example.com>;tag=1",
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad From")

# RFC 3261 8.2.6.1: these parse far enough for a 400 naming the fault
invalid("header-without-colon", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "This line has no colon", CALLID,
     "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Header Line")

invalid("header-name-with-space", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "Bad Name: value", CALLID, "CSeq: 1 OPTIONS",
     CL0]),
    "check 400 Bad Header Line")

# RFC 3261 7: CR only before LF; another parser may end a line at a bare
# CR, so the Route behind it would pass sipd unseen
invalid("bare-cr-in-header", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, TO, FROM, "Subject: hi\rRoute: <sip:evil.example.com;lr>",
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Header Line")

invalid("fold-before-first-header", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [" folded onto nothing", VIA, MAXF, TO, FROM, CALLID,
     "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad Header Line")

invalid("display-name-not-token", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    [VIA, MAXF, "To: Bob (home) <sip:bob@biloxi.example.com>", FROM,
     CALLID, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Bad To")

invalid("missing-call-id-folded-via", build(
    "OPTIONS sip:bob@biloxi.example.com SIP/2.0",
    ["Via: SIP/2.0/UDP\r\n client.atlanta.example.com;branch=z9hG4bKm",
     MAXF, TO, FROM, "CSeq: 1 OPTIONS", CL0]),
    "check 400 Missing Call-ID")

def write_set(folder, entries):
    path = os.path.join(HERE, folder)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".sip") or name.endswith(".expect"):
            os.unlink(os.path.join(path, name))
    for name, (data, expect) in sorted(entries.items()):
        with open(os.path.join(path, name + ".sip"), "wb") as f:
            f.write(data)
        with open(os.path.join(path, name + ".expect"), "w") as f:
            f.write(expect + "\n")


def main():
    write_set("valid", VALID)
    write_set("invalid", INVALID)
    print("valid: %d, invalid: %d" % (len(VALID), len(INVALID)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
