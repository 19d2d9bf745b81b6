/*
 * conf_media: the media relay's settings that need more than the
 * settings table gives: the port range of "set media-ports".
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "proto/err.h"
#include "sipd/conf.h"
#include "sipd/log.h"

/* A decimal of 1-5 digits at p[0..len), 1024 to 65535. */
static int
port_of(const char *p, size_t len, uint16_t *out)
{
	uint32_t v = 0;

	if (len == 0 || len > 5) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -EINVAL;
		}
		v = v * 10 + (uint32_t)(p[i] - '0');
	}
	if (v < 1024 || v > 65535) {
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

int
conf_media_ports(const char *v, uint16_t *min, uint16_t *max)
{
	const char *dash = strchr(v, '-');
	uint16_t lo, hi;

	if (dash == NULL || port_of(v, (size_t)(dash - v), &lo) < 0 ||
	    port_of(dash + 1, strlen(dash + 1), &hi) < 0) {
		return -EINVAL;
	}
	/* an even RTP port and the RTCP port after it (RFC 3550 11) */
	if (((lo + 1u) & ~1u) + 1u > hi) {
		return -EINVAL;
	}
	*min = lo;
	*max = hi;
	return 0;
}

int
conf_media_check_ports(const char *v, char *err, size_t cap)
{
	char clip[LOG_CLIP_SIZE];
	uint16_t lo, hi;

	if (conf_media_ports(v, &lo, &hi) < 0) {
		return err_fmt(err, cap, -EINVAL, "bad media ports '%s' "
		    "(MIN-MAX, 1024 to 65535, room for an even port and the "
		    "next)", log_clip(clip, sizeof(clip), v, strlen(v)));
	}
	return 0;
}
