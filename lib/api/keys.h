/*
 * keys.h — the HTTP side of the key routes. cgi-bin/keys and cgi-bin/key
 * serve /v1/keys…, cgi-bin/accounts serves /v1/accounts/{id}/keys… with the
 * same functions, so both routes behave identically.
 */
#ifndef LK_API_KEYS_H
#define LK_API_KEYS_H

#include "http/req.h"

/*
 * The routes /keys and /keys/import (cgi-bin/keys) and /keys/{id}[/action]
 * (cgi-bin/key; it serves /keys/import too, for a server routing it there).
 */
enum lk_err	lk_keys_http_keys(struct lk_req *req);
enum lk_err	lk_keys_http_key(struct lk_req *req);

/* POST /keys/import: keys made elsewhere, by their SHA-256 (scope keys:import). */
enum lk_err	lk_keys_http_import(struct lk_req *req);

/* GET (list) and POST (create) on a key collection; account_id NULL: the request's context. */
enum lk_err	lk_keys_http_collection(struct lk_req *req, const char *account_id);

/*
 * One key: GET, PATCH, DELETE (action NULL), POST revoke|reactivate|rotate,
 * or GET usage.
 * account_id, when not NULL, must be the key's account.
 */
enum lk_err	lk_keys_http_item(struct lk_req *req, const char *account_id,
		    const char *key_id, const char *action);

#endif
