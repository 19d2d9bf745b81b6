/*
 * mwi: message waiting (RFC 3842), the whole public face of sipd/mwi.
 * sipd is the notifier of the message-summary event package for its
 * local accounts.  This folder keeps what that needs beyond one
 * message: the counts of each account (set by the voicemail system
 * through the control plane, kept in a table of the registration store's
 * SQLite file so that they survive a restart) and the subscriptions
 * (RFC 6665 dialogs, explicit or implicit; in memory: a subscriber
 * refreshes them).  The core sends the NOTIFYs.
 *
 * Threads: one struct mwi is shared by every worker and the control
 * plane; a mutex inside guards it, and nothing returned points into it.
 */
#ifndef SIPD_MWI_H
#define SIPD_MWI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define MWI_AOR_MAX 256
#define MWI_URI_MAX 512
#define MWI_TAG_MAX 128
#define MWI_CALLID_MAX 256
#define MWI_ROUTE_MAX 1024
#define MWI_MAX_SUBS 4096 /* subscriptions at most, in all */
#define MWI_MAX_ACCOUNTS 100000
#define MWI_BODY_MAX 512

/* The counts of one account: voice messages (RFC 3842 5.2). */
struct mwi_counts {
	uint32_t new_msgs, old_msgs;
	uint32_t urgent_new, urgent_old;
};

/*
 * A subscription: a dialog in which sipd sends NOTIFYs.  From sipd's
 * side: its From (local, with its tag), the subscriber's To (remote,
 * as the subscriber wrote its From, tag and all), the remote target
 * (Request-URI), the route set, and where its requests go (the source
 * of the SUBSCRIBE, or of the REGISTER for an implicit one).
 */
struct mwi_sub {
	uint64_t id;
	char aor[MWI_AOR_MAX];        /* the account, "user@domain" */
	char callid[MWI_CALLID_MAX];
	char local[MWI_URI_MAX];      /* sipd's From value, tag included */
	char local_tag[MWI_TAG_MAX];
	char remote[MWI_URI_MAX];     /* the To value of sipd's NOTIFYs */
	char remote_tag[MWI_TAG_MAX]; /* "" for an implicit one */
	char target[MWI_URI_MAX];     /* Request-URI of the NOTIFYs */
	char route[MWI_ROUTE_MAX];    /* Route values, "" for none */
	char contact[MWI_URI_MAX];    /* implicit: the binding's contact */
	char event[MWI_TAG_MAX];      /* the SUBSCRIBE's Event, id and all;
	                               * "" for message-summary alone */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int proto;                    /* enum tp_proto */
	uint64_t conn_id;
	uint32_t cseq;                /* of sipd's last NOTIFY */
	time_t expires;               /* implicit: the binding's */
	bool implicit;                /* NoSubMWI: for a binding's lifetime */
};

struct mwi;

/*
 * The state, with the counts kept in the SQLite file at db (NULL: in
 * memory only), loaded from it.  NULL with *err (may be NULL) set on
 * failure.
 */
struct mwi *mwi_new(const char *db, int *err);
/* Accepts NULL. */
void mwi_free(struct mwi *m);

/*
 * Set the counts of aor ("user@domain", the caller checked it is an
 * account), written to the file before returning.  0, -ENOSPC (too
 * many accounts) or -EIO (the file refused it: the counts in memory are
 * changed anyway).
 */
int mwi_set(struct mwi *m, const char *aor, const struct mwi_counts *c);
/* The counts of aor into *c (zeros when never set); true if set. */
bool mwi_get(struct mwi *m, const char *aor, struct mwi_counts *c);

/* One row of mwi_list(): an account with counts or subscriptions. */
struct mwi_row {
	char aor[MWI_AOR_MAX];
	struct mwi_counts counts;
	unsigned subs, implicit;
};
/*
 * Every account with counts set or subscriptions at now (aor NULL), or
 * aor alone, sorted by name, into *out (the caller frees it).  Returns
 * the count or -ENOMEM.
 */
int mwi_list(struct mwi *m, const char *aor, time_t now,
    struct mwi_row **out);

/*
 * Add s (its id is set), or for an implicit one replace the one of the
 * same aor and contact, keeping its Call-ID and tag, its CSeq one up
 * for the NOTIFY the caller sends (copied back into s).  0, or -EBUSY
 * when MWI_MAX_SUBS are in force.
 */
int mwi_sub_add(struct mwi *m, struct mwi_sub *s);
/* End the subscription id (a NOTIFY got 481).  0 or -ENOENT. */
int mwi_sub_end(struct mwi *m, uint64_t id);
/*
 * The subscription of a dialog (Call-ID, sipd's tag, the subscriber's
 * tag) into *out; with expires given, its expiry is set to it (a
 * refresh) or, 0, it is removed (*out still filled).  Its CSeq goes up
 * by one for the NOTIFY the caller sends.  0 or -ENOENT.
 */
int mwi_sub_dialog(struct mwi *m, const char *callid, const char *local_tag,
    const char *remote_tag, const time_t *expires, struct mwi_sub *out);
/* Remove the implicit subscription of aor and contact (contact NULL:
 * every implicit one of aor).  Returns how many went. */
int mwi_sub_drop_implicit(struct mwi *m, const char *aor,
    const char *contact);
/*
 * The subscriptions of aor live at now into *out (the caller frees it),
 * each with its CSeq gone up by one for the NOTIFY the caller sends;
 * the expired ones are removed.  Returns the count or -ENOMEM.
 */
int mwi_sub_take(struct mwi *m, const char *aor, time_t now,
    struct mwi_sub **out);

/*
 * Remove every subscription expired at now; the explicit ones go into
 * *out (the caller frees it), each with its CSeq one up for the last
 * NOTIFY the caller sends.  Returns their count or -ENOMEM.
 */
int mwi_sub_expired(struct mwi *m, time_t now, struct mwi_sub **out);

/*
 * The application/simple-message-summary body (RFC 3842 5.2) for aor's
 * counts c into buf: Messages-Waiting, Message-Account and
 * Voice-Message "new/old (urgent-new/urgent-old)".  Returns its length.
 */
size_t mwi_body(const char *aor, const struct mwi_counts *c, char *buf,
    size_t cap);

#endif
