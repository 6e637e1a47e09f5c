/* server_store: the store named by spysession-server's --store URL. */
#ifndef SPYSESSION_SERVER_STORE_H
#define SPYSESSION_SERVER_STORE_H

#include <spysession.h>

/* Opens the store `url` names (NUL-terminated): see server_store.c for the
 * forms accepted. On failure, *out_error is the reason (static or this
 * thread's sps_last_error(); do not free it). */
sps_status server_store_open(const char *url, sps_store **out_store, const char **out_error);

#endif
