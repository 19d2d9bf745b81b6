/*
 * Character classes of the SIP grammar (RFC 3261 25.1), private to sipd/msg.
 * One constant table, so classification is a load and a mask.
 */
#ifndef SIPD_MSG_CHARS_H
#define SIPD_MSG_CHARS_H

#include <stdint.h>

#define CH_TOKEN 0x01    /* token: alphanum and -.!%*_+`'~ */
#define CH_WS 0x02       /* SP HT CR LF: white space inside a value */
#define CH_DIGIT 0x04
#define CH_ALPHA 0x08
#define CH_HEX 0x10
#define CH_UNRESERVED 0x20 /* alphanum mark: -_.!~*'() */
#define CH_USER 0x40     /* user-unreserved: &=+$,;?/ */
#define CH_PARAM 0x80    /* param-unreserved: []/:&+$ */

extern const uint8_t msg_chars[256];

static inline int
ch_is(unsigned char c, uint8_t cls)
{
	return (msg_chars[c] & cls) != 0;
}

static inline unsigned char
ch_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static inline int
ch_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c = ch_lower(c);
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

#endif
