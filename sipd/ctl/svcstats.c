/*
 * The figures of the services shared by the workers, for "show stats"
 * and the Prometheus endpoint alike: the call records (the calls in
 * the call table, records written, calls not taken, write errors),
 * message waiting (the subscriptions in force, explicit and implicit)
 * and the media relay (relays open and their counters).  Each service
 * locks inside its own call; a service sipd does not run reads as
 * zeros.  Owns nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "sipd/cdr/cdr.h"
#include "sipd/ctl/ctl_int.h"
#include "sipd/media/media.h"
#include "sipd/mwi/mwi.h"
#include "sipd/worker.h"

void
ctl_svc_stats(struct ctl *ctl, struct ctl_svc_stats *s)
{
	struct cdr *d = workers_cdr(ctl->ws);
	struct mwi *m = workers_mwi(ctl->ws);
	struct media *md = workers_media(ctl->ws);
	struct mwi_row *rows = NULL;
	int n;

	memset(s, 0, sizeof(*s));
	if (d != NULL) {
		cdr_get_stats(d, &s->cdr);
	}
	if (md != NULL) {
		media_stats(md, &s->media);
	}
	if (m != NULL) {
		n = mwi_list(m, NULL, time(NULL), &rows);
		for (int i = 0; i < n; i++) {
			s->mwi_subs += rows[i].subs;
			s->mwi_implicit += rows[i].implicit;
		}
		free(rows);
	}
}

void
ctl_svc_pack(msgpack_packer *pk, const struct ctl_svc_stats *s)
{
	proto_kv_uint(pk, "cdr-calls", s->cdr.calls);
	proto_kv_uint(pk, "cdr-records", s->cdr.records);
	proto_kv_uint(pk, "cdr-calls-not-taken", s->cdr.untracked);
	proto_kv_uint(pk, "cdr-write-errors", s->cdr.errors);
	proto_kv_uint(pk, "mwi-subscriptions", s->mwi_subs);
	proto_kv_uint(pk, "mwi-implicit-subscriptions", s->mwi_implicit);
	proto_kv_uint(pk, "media-relays", s->media.relays);
	proto_kv_uint(pk, "media-port-pairs-free", s->media.ports_free);
	proto_kv_uint(pk, "media-relays-created", s->media.created);
	proto_kv_uint(pk, "media-relays-freed", s->media.freed);
	proto_kv_uint(pk, "media-relays-expired", s->media.expired);
	proto_kv_uint(pk, "media-ports-exhausted", s->media.exhausted);
	proto_kv_uint(pk, "media-packets", s->media.packets);
	proto_kv_uint(pk, "media-bytes", s->media.bytes);
}

/* One family of one sample. */
static void
svc_metric(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long long v)
{
	(void)evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
	    name, help, name, type, name, v);
}

void
ctl_svc_metrics(struct evbuffer *b, const struct ctl_svc_stats *s)
{
	svc_metric(b, "sipd_cdr_calls", "gauge",
	    "Calls in the call table (in progress)", s->cdr.calls);
	svc_metric(b, "sipd_cdr_records_total", "counter",
	    "Call records written", s->cdr.records);
	svc_metric(b, "sipd_cdr_calls_not_taken_total", "counter",
	    "Calls without a record: the call table was full",
	    s->cdr.untracked);
	svc_metric(b, "sipd_cdr_write_errors_total", "counter",
	    "Call records that could not be written", s->cdr.errors);
	(void)evbuffer_add_printf(b, "# HELP sipd_mwi_subscriptions "
	    "Message-waiting subscriptions in force\n"
	    "# TYPE sipd_mwi_subscriptions gauge\n"
	    "sipd_mwi_subscriptions{kind=\"explicit\"} %u\n"
	    "sipd_mwi_subscriptions{kind=\"implicit\"} %u\n", s->mwi_subs,
	    s->mwi_implicit);
	svc_metric(b, "sipd_media_relays", "gauge", "Media relays open",
	    s->media.relays);
	svc_metric(b, "sipd_media_port_pairs_free", "gauge",
	    "Port pairs left in the media port range", s->media.ports_free);
	svc_metric(b, "sipd_media_relays_created_total", "counter",
	    "Media relays opened", s->media.created);
	svc_metric(b, "sipd_media_relays_freed_total", "counter",
	    "Media relays closed", s->media.freed);
	svc_metric(b, "sipd_media_relays_expired_total", "counter",
	    "Media relays closed for silence", s->media.expired);
	svc_metric(b, "sipd_media_relays_refused_total", "counter",
	    "Media relays refused: no port pair free", s->media.exhausted);
	svc_metric(b, "sipd_media_relayed_packets_total", "counter",
	    "RTP and RTCP packets relayed", s->media.packets);
	svc_metric(b, "sipd_media_relayed_bytes_total", "counter",
	    "RTP and RTCP bytes relayed", s->media.bytes);
}
