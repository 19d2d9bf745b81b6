/*
 * Names: the header table generated from hdrs.def (canonical names, compact
 * forms, lookup of a name as written), method tokens, default reason
 * phrases, and the small string-view helpers the whole layer uses.  Constant
 * data only.
 */
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "sipd/msg/msg_int.h"

#define HF_LIST 0x1

struct hdr_def {
	const char *name;
	uint8_t len;
	char compact;
	uint8_t flags;
};

/* Indexed by enum hdr_id. */
static const struct hdr_def hdr_defs[HDR__COUNT] = {
	[HDR_UNKNOWN] = { NULL, 0, 0, 0 },
#define HDR(id, name, compact, flags)                                   \
	[HDR_##id] = { name, sizeof(name) - 1, compact, flags },
#include "sipd/msg/hdrs.def"
#undef HDR
};

size_t
sv_utoa(uint64_t v, char *out)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++) {
		out[i] = tmp[n - 1 - i];
	}
	return n;
}

size_t
sv_hex32(uint32_t v, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 7; i >= 0; i--) {
		out[i] = hex[v & 0xf];
		v >>= 4;
	}
	return 8;
}

bool
sv_eq(struct sv a, struct sv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
sv_caseeq(struct sv a, struct sv b)
{
	return a.len == b.len && caseeq_n(a.p, b.p, a.len);
}

bool
sv_caseeq_str(struct sv a, const char *s)
{
	return ch_caseeq_cstr(a.p, a.len, s);
}

const char *
hdr_name(enum hdr_id id)
{
	if ((unsigned)id >= HDR__COUNT) {
		return NULL;
	}
	return hdr_defs[id].name;
}

/*
 * An open-addressing table over a hash of each name's first folded word
 * and its length, built once: a lookup is then one or two probes and one
 * compare of the name, folded to lower case a word at a time, against
 * the entry's folded words, the first of which the hash has read.  The compact
 * forms get a table of their own.  They are written only under
 * pthread_once(), before any reader sees them.
 */
static struct hdr_names hdr_tab;
static pthread_once_t hdr_slots_once = PTHREAD_ONCE_INIT;

/*
 * A name of 2 to HDR_NAME_MAX bytes as at most HDR_WORDS folded words:
 * whole words, then one overlapping the end; a short name as two
 * overlapping halves of one word.  Names equal but for case give equal
 * words, and names of the same length that differ give different ones.
 */
static void
name_words(const char *p, size_t len, uint64_t *w)
{
	uint32_t a, b;
	uint16_t c, d;
	size_t off;
	int n = 0;

	if (len < 4) {
		memcpy(&c, p, 2);
		memcpy(&d, p + len - 2, 2);
		w[0] = hdr_fold8((uint64_t)c | (uint64_t)d << 16);
		return;
	}
	if (len < 8) {
		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		w[0] = hdr_fold8((uint64_t)a | (uint64_t)b << 32);
		return;
	}
	for (off = 0; off + 8 <= len; off += 8) {
		memcpy(&w[n], p + off, 8);
		w[n] = hdr_fold8(w[n]);
		n++;
	}
	if (off < len) {
		memcpy(&w[n], p + len - 8, 8);
		w[n] = hdr_fold8(w[n]);
	}
}

static void
hdr_slots_init(void)
{
	for (int i = 1; i < HDR__COUNT; i++) {
		unsigned char cf = (unsigned char)hdr_defs[i].compact;
		unsigned k;

		assert(hdr_defs[i].len >= 2 && hdr_defs[i].len <= HDR_NAME_MAX);
		/* hdr_fold_word() of a token folds letters, digits and '-' only */
		for (size_t j = 0; j < hdr_defs[i].len; j++) {
			assert(ch_is((unsigned char)hdr_defs[i].name[j],
			    CH_ALPHA | CH_DIGIT) || hdr_defs[i].name[j] == '-');
		}
		name_words(hdr_defs[i].name, hdr_defs[i].len,
		    hdr_tab.words[i]);
		hdr_tab.lens[i] = hdr_defs[i].len;
		k = hdr_slot_of(hdr_tab.words[i][0], hdr_defs[i].len);
		/* the first entry of a compact form wins, as in a scan */
		if (cf != 0 && hdr_tab.compact[cf] == 0) {
			hdr_tab.compact[cf] = (uint8_t)i;
		}
		while (hdr_tab.slots[k] != 0) {
			k = (k + 1) & (HDR_SLOTS - 1);
		}
		hdr_tab.slots[k] = (uint8_t)i;
	}
}

const struct hdr_names *
hdr_names(void)
{
	pthread_once(&hdr_slots_once, hdr_slots_init);
	return &hdr_tab;
}

enum hdr_id
hdr_lookup(const char *name, size_t len)
{
	return hdr_lookup_in(hdr_names(), name, len, false);
}

bool
hdr_is_list(enum hdr_id id)
{
	return (unsigned)id < HDR__COUNT && (hdr_defs[id].flags & HF_LIST);
}

/* Each name with its length, so that a lookup compares few bytes. */
#define METHOD(id, s) [id] = { s, sizeof(s) - 1 }
static const struct {
	const char *name;
	uint8_t len;
} method_names[] = {
	[MSG_METHOD_OTHER] = { NULL, 0 },
	METHOD(MSG_INVITE, "INVITE"),
	METHOD(MSG_ACK, "ACK"),
	METHOD(MSG_BYE, "BYE"),
	METHOD(MSG_CANCEL, "CANCEL"),
	METHOD(MSG_REGISTER, "REGISTER"),
	METHOD(MSG_OPTIONS, "OPTIONS"),
	METHOD(MSG_INFO, "INFO"),
	METHOD(MSG_PRACK, "PRACK"),
	METHOD(MSG_UPDATE, "UPDATE"),
	METHOD(MSG_SUBSCRIBE, "SUBSCRIBE"),
	METHOD(MSG_NOTIFY, "NOTIFY"),
	METHOD(MSG_REFER, "REFER"),
	METHOD(MSG_MESSAGE, "MESSAGE"),
	METHOD(MSG_PUBLISH, "PUBLISH"),
};
#undef METHOD

/* p[0..len) is the method id's name: len is a constant where it is
 * inlined, so the compare is a few loads */
static inline bool
method_is(const char *p, size_t len, enum msg_method id)
{
	return method_names[id].len == len &&
	    memcmp(method_names[id].name, p, len) == 0;
}

enum msg_method
msg_method_lookup(const char *p, size_t len)
{
	/* RFC 3261 7.1: the method name is case-sensitive.  The length
	 * picks at most four candidates, each compared whole */
	switch (len) {
	case 3:
		return method_is(p, 3, MSG_ACK)   ? MSG_ACK
		    : method_is(p, 3, MSG_BYE)    ? MSG_BYE
						  : MSG_METHOD_OTHER;
	case 4:
		return method_is(p, 4, MSG_INFO) ? MSG_INFO : MSG_METHOD_OTHER;
	case 5:
		return method_is(p, 5, MSG_PRACK) ? MSG_PRACK
		    : method_is(p, 5, MSG_REFER)  ? MSG_REFER
						  : MSG_METHOD_OTHER;
	case 6:
		return method_is(p, 6, MSG_INVITE) ? MSG_INVITE
		    : method_is(p, 6, MSG_CANCEL)  ? MSG_CANCEL
		    : method_is(p, 6, MSG_UPDATE)  ? MSG_UPDATE
		    : method_is(p, 6, MSG_NOTIFY)  ? MSG_NOTIFY
						   : MSG_METHOD_OTHER;
	case 7:
		return method_is(p, 7, MSG_OPTIONS) ? MSG_OPTIONS
		    : method_is(p, 7, MSG_MESSAGE)  ? MSG_MESSAGE
		    : method_is(p, 7, MSG_PUBLISH)  ? MSG_PUBLISH
						    : MSG_METHOD_OTHER;
	case 8:
		return method_is(p, 8, MSG_REGISTER) ? MSG_REGISTER
						     : MSG_METHOD_OTHER;
	case 9:
		return method_is(p, 9, MSG_SUBSCRIBE) ? MSG_SUBSCRIBE
						      : MSG_METHOD_OTHER;
	default:
		return MSG_METHOD_OTHER;
	}
}

const char *
msg_method_str(enum msg_method m)
{
	if ((size_t)m >= sizeof(method_names) / sizeof(*method_names)) {
		return NULL;
	}
	return method_names[m].name;
}

struct reason {
	uint16_t code;
	const char *text;
};

/* RFC 3261 21 and the IANA response code registry */
static const struct reason reasons[] = {
	{ 100, "Trying" },
	{ 180, "Ringing" },
	{ 181, "Call Is Being Forwarded" },
	{ 182, "Queued" },
	{ 183, "Session Progress" },
	{ 199, "Early Dialog Terminated" },
	{ 200, "OK" },
	{ 202, "Accepted" },
	{ 204, "No Notification" },
	{ 300, "Multiple Choices" },
	{ 301, "Moved Permanently" },
	{ 302, "Moved Temporarily" },
	{ 305, "Use Proxy" },
	{ 380, "Alternative Service" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 410, "Gone" },
	{ 412, "Conditional Request Failed" },
	{ 413, "Request Entity Too Large" },
	{ 414, "Request-URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Unsupported URI Scheme" },
	{ 417, "Unknown Resource-Priority" },
	{ 420, "Bad Extension" },
	{ 421, "Extension Required" },
	{ 422, "Session Interval Too Small" },
	{ 423, "Interval Too Brief" },
	{ 428, "Use Identity Header" },
	{ 429, "Provide Referrer Identity" },
	{ 430, "Flow Failed" },
	{ 433, "Anonymity Disallowed" },
	{ 436, "Bad Identity-Info" },
	{ 437, "Unsupported Certificate" },
	{ 438, "Invalid Identity Header" },
	{ 439, "First Hop Lacks Outbound Support" },
	{ 440, "Max-Breadth Exceeded" },
	{ 469, "Bad Info Package" },
	{ 470, "Consent Needed" },
	{ 480, "Temporarily Unavailable" },
	{ 481, "Call/Transaction Does Not Exist" },
	{ 482, "Loop Detected" },
	{ 483, "Too Many Hops" },
	{ 484, "Address Incomplete" },
	{ 485, "Ambiguous" },
	{ 486, "Busy Here" },
	{ 487, "Request Terminated" },
	{ 488, "Not Acceptable Here" },
	{ 489, "Bad Event" },
	{ 491, "Request Pending" },
	{ 493, "Undecipherable" },
	{ 494, "Security Agreement Required" },
	{ 500, "Server Internal Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Server Time-out" },
	{ 505, "Version Not Supported" },
	{ 513, "Message Too Large" },
	{ 555, "Push Notification Service Not Supported" },
	{ 580, "Precondition Failure" },
	{ 600, "Busy Everywhere" },
	{ 603, "Decline" },
	{ 604, "Does Not Exist Anywhere" },
	{ 606, "Not Acceptable" },
	{ 607, "Unwanted" },
	{ 608, "Rejected" },
};

const char *
msg_reason_phrase(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(*reasons); i++) {
		if (reasons[i].code == status) {
			return reasons[i].text;
		}
	}
	/* RFC 3261 21: an unknown code is treated as x00 of its class */
	switch (status / 100) {
	case 1:
		return "Trying";
	case 2:
		return "OK";
	case 3:
		return "Multiple Choices";
	case 4:
		return "Bad Request";
	case 5:
		return "Server Internal Error";
	case 6:
		return "Busy Everywhere";
	default:
		return "Unknown";
	}
}
