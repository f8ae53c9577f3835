/* audit.c — latchkey audit verify|anchor|checkpoint|rotate-key: check the signed chain, record its start, publish its head, change its secret. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "model/audit.h"

/* The current key and the retired ones: every key verify may need. */
static struct lk_audit_key	keys[1 + LK_AUDIT_OLD_KEYS_MAX];

/* The anchor file: audit_key_file LK_AUDIT_ANCHOR_SUFFIX. */
static char			anchor_path[LK_AUDIT_ANCHOR_PATH_MAX];

static int
load_current(struct lk_audit_key *key)
{
	enum lk_err e;

	if (cli_conf.audit_key_file[0] == '\0') {
		fprintf(stderr, "latchkey: audit_key_file is not set in the config\n");
		return 1;
	}
	if ((e = lk_audit_key_load(cli_conf.audit_key_file, key)) != LK_OK) {
		fprintf(stderr, "latchkey: audit key file %s: %s\n", cli_conf.audit_key_file,
		    e == LK_ERR_NOT_FOUND ? "missing (latchkey init creates it)" :
		    "unreadable, or not 32 to 64 bytes written as hex");
		return 1;
	}
	return 0;
}

/* The last checkpoint line of path into cp. */
static int
last_checkpoint(const char *path, struct lk_audit_checkpoint *cp)
{
	struct lk_audit_checkpoint	 c;
	FILE				*f;
	char				*line = NULL;
	size_t				 cap = 0;
	bool				 found = false;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "latchkey: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, f) != -1)
		if (lk_audit_checkpoint_parse(line, &c)) {
			*cp = c;
			found = true;
		}
	free(line);
	fclose(f);
	if (!found) {
		fprintf(stderr, "latchkey: no \"audit checkpoint id=N mac=HEX\" line in %s\n", path);
		return 1;
	}
	return 0;
}

/*
 * Read the anchor file into a; *found tells whether it exists. Non-zero (after
 * printing why) if audit_key_file is not set or the anchor is unreadable.
 */
static int
load_anchor(struct lk_audit_anchor *a, bool *found)
{
	enum lk_err e;

	*found = false;
	if (cli_conf.audit_key_file[0] == '\0') {
		fprintf(stderr, "latchkey: audit_key_file is not set in the config\n");
		return 1;
	}
	lk_audit_anchor_path(cli_conf.audit_key_file, anchor_path);
	if ((e = lk_audit_anchor_load(anchor_path, a)) == LK_ERR_NOT_FOUND)
		return 0;
	if (e != LK_OK) {
		fprintf(stderr, "latchkey: audit anchor file %s: unreadable, or not one line "
		    "\"audit anchor id=N key_id=HEX mac=HEX\"\n", anchor_path);
		return 1;
	}
	*found = true;
	return 0;
}

/* Walk the chain with every key (v's checkpoint and anchor set by the caller). */
static int
walk(struct lk_audit_verify *v)
{
	size_t		 nold = 0;
	enum lk_err	 e;
	int		 rc;

	if ((rc = load_current(&keys[0])) != 0)
		return rc;
	if (cli_conf.audit_old_keys_file[0] != '\0' &&
	    lk_audit_keys_load_old(cli_conf.audit_old_keys_file, keys + 1,
	    LK_AUDIT_OLD_KEYS_MAX, &nold) != LK_OK) {
		OPENSSL_cleanse(keys, sizeof(keys));
		fprintf(stderr, "latchkey: cannot use audit_old_keys_file %s\n",
		    cli_conf.audit_old_keys_file);
		return 1;
	}
	v->keys = keys;
	v->nkeys = 1 + nold;
	e = lk_audit_verify(cli_db, v);
	OPENSSL_cleanse(keys, sizeof(keys));
	return e == LK_OK ? 0 : cli_failed(e, "audit verify");
}

/* "audit chain BROKEN ..." on f, for a walk that found a bad row. */
static void
print_broken(FILE *f, const struct lk_audit_verify *v)
{
	if (v->bad_public_id[0] != '\0')
		fprintf(f, "audit chain BROKEN at row %s (id %" PRIu64 "): %s\n",
		    v->bad_public_id, v->bad_id, v->why);
	else
		fprintf(f, "audit chain BROKEN: %s\n", v->why);
}

static int
verify(int argc, char **argv)
{
	struct lk_audit_checkpoint	 cp;
	struct lk_audit_anchor		 anchor;
	struct lk_audit_verify		 v;
	char				 hex[2 * LK_AUDIT_MAC_LEN + 1];
	bool				 anchored;
	int				 rc;

	memset(&v, 0, sizeof(v));
	if (argc == 4 && strcmp(argv[2], "--since-checkpoint") == 0) {
		if ((rc = last_checkpoint(argv[3], &cp)) != 0)
			return rc;
		v.checkpoint = &cp;
	} else if (argc != 2)
		return cli_usage("audit verify takes only --since-checkpoint FILE");
	if ((rc = load_anchor(&anchor, &anchored)) != 0)
		return rc;
	v.anchor = anchored ? &anchor : NULL;
	if ((rc = walk(&v)) != 0)
		return rc;
	if (!v.ok) {
		print_broken(stdout, &v);
		return 1;
	}
	if (!anchored && v.start.id == 0) {
		printf("audit chain NOT ANCHORED: the log has no signed row and %s does not exist: "
		    "`latchkey init` signs the chain and writes the anchor\n", anchor_path);
		return 1;
	}
	if (!anchored) {
		printf("audit chain NOT ANCHORED: %" PRIu64 " rows verify up to id %" PRIu64 ", but "
		    "%s does not exist, so nothing outside the database records where the signed "
		    "chain starts (a log emptied, or rewritten from its start, would verify too). "
		    "If these rows are the log you expect, run `latchkey audit anchor` to record "
		    "its start, row %s (id %" PRIu64 ")\n", v.rows, v.last_id, anchor_path,
		    v.start_public_id, v.start.id);
		return 1;
	}
	lk_audit_hex(v.head, hex);
	printf("audit chain ok: %" PRIu64 " rows, head id=%" PRIu64 " mac=%s\n",
	    v.rows, v.last_id, hex);
	printf("anchored start id=%" PRIu64 " key_id=%s is in the chain with its MAC\n",
	    anchor.id, anchor.key_id);
	if (v.checkpoint != NULL)
		printf("checkpoint id=%" PRIu64 " is in the chain with its MAC\n", cp.id);
	return 0;
}

/* Record where the signed chain starts, once, after it verifies. */
static int
anchor(int argc)
{
	struct lk_audit_anchor	 a;
	struct lk_audit_verify	 v;
	bool			 anchored;
	enum lk_err		 e;
	int			 rc;

	if (argc != 2)
		return cli_usage("audit anchor takes no arguments");
	if ((rc = load_anchor(&a, &anchored)) != 0)
		return rc;
	if (anchored) {
		fprintf(stderr, "latchkey: %s already anchors the audit chain at row id=%" PRIu64
		    " (key id %s); an anchor is never replaced\n", anchor_path, a.id, a.key_id);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	if ((rc = walk(&v)) != 0)
		return rc;
	if (!v.ok) {
		print_broken(stdout, &v);
		fprintf(stderr, "latchkey: audit anchor: refused, nothing written: the chain does "
		    "not verify\n");
		return 1;
	}
	if (v.start.id == 0) {
		fprintf(stderr, "latchkey: audit anchor: the log has no signed row: `latchkey init` "
		    "signs the chain and writes the anchor\n");
		return 1;
	}
	if ((e = lk_audit_anchor_create(anchor_path, &v.start)) != LK_OK) {
		fprintf(stderr, "latchkey: cannot create %s%s\n", anchor_path,
		    e == LK_ERR_CONFLICT ? ": it exists" : "");
		return 1;
	}
	fprintf(stderr, "anchored the audit chain at its first signed row %s (id %" PRIu64
	    ", key id %s) in %s (mode 0600): back it up with the audit key\n",
	    v.start_public_id, v.start.id, v.start.key_id, anchor_path);
	return 0;
}

static int
checkpoint(int argc)
{
	struct lk_audit_checkpoint	 cp;
	char				 hex[2 * LK_AUDIT_MAC_LEN + 1];
	enum lk_err			 e;

	if (argc != 2)
		return cli_usage("audit checkpoint takes no arguments");
	if ((e = lk_audit_checkpoint(cli_db, &cp)) != LK_OK)
		return cli_failed(e, "audit checkpoint");
	lk_audit_hex(cp.mac, hex);
	printf("audit checkpoint id=%" PRIu64 " mac=%s\n", cp.id, hex);
	return 0;
}

/* Append key, as a hex line, to the retired-keys file (created 0600). */
static int
retire(const struct lk_audit_key *key)
{
	char	 hex[2 * LK_AUDIT_KEY_MAX + 2];
	int	 fd;
	bool	 ok;

	fd = open(cli_conf.audit_old_keys_file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "latchkey: %s: %s\n", cli_conf.audit_old_keys_file, strerror(errno));
		return 1;
	}
	OPENSSL_buf2hexstr_ex(hex, sizeof(hex), NULL, key->k, key->len, '\0');
	strcat(hex, "\n");
	ok = fchmod(fd, 0600) == 0 && write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex) &&
	    fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	OPENSSL_cleanse(hex, sizeof(hex));
	if (!ok) {
		fprintf(stderr, "latchkey: cannot write %s\n", cli_conf.audit_old_keys_file);
		return 1;
	}
	return 0;
}

static int
rotate_key(int argc)
{
	struct lk_audit_key	 old, nk;
	struct lk_audit_anchor	 a;
	struct lk_audit_verify	 v;
	char			 newpath[sizeof(cli_conf.audit_key_file) + 8];
	char			 evt[LK_PUBLIC_ID_MAX];
	bool			 anchored;
	enum lk_err		 e;
	int			 rc;

	if (argc != 2)
		return cli_usage("audit rotate-key takes no arguments");
	if (cli_conf.audit_old_keys_file[0] == '\0') {
		fprintf(stderr, "latchkey: set audit_old_keys_file in the config first: the "
		    "retired key goes there, and verify needs it for the older rows\n");
		return 1;
	}
	/* A new epoch row signs over the chain as it is: only over one that verifies. */
	if ((rc = load_anchor(&a, &anchored)) != 0)
		return rc;
	if (!anchored) {
		fprintf(stderr, "latchkey: audit rotate-key: refused, nothing written: the audit "
		    "chain is not anchored (%s does not exist): run `latchkey audit verify`, then "
		    "`latchkey audit anchor`\n", anchor_path);
		return 1;
	}
	memset(&v, 0, sizeof(v));
	v.anchor = &a;
	if ((rc = walk(&v)) != 0)
		return rc;
	if (!v.ok) {
		print_broken(stderr, &v);
		fprintf(stderr, "latchkey: audit rotate-key: refused, nothing written: the audit "
		    "chain does not verify, and a new epoch would sign over it; restore audit_log "
		    "and audit_head from a backup (docs/operations.md)\n");
		return 1;
	}
	if ((rc = load_current(&old)) != 0)
		return rc;
	snprintf(newpath, sizeof(newpath), "%s.new", cli_conf.audit_key_file);
	if ((e = lk_audit_key_create(newpath, &nk)) != LK_OK) {
		fprintf(stderr, "latchkey: cannot create %s%s\n", newpath, e == LK_ERR_CONFLICT ?
		    ": it exists, so an earlier rotation was interrupted (see docs/operations.md)" : "");
		return 1;
	}
	if ((rc = retire(&old)) != 0) {
		unlink(newpath);
		return rc;
	}
	/* The new epoch's row is signed with the new key; then the new key takes the file's place. */
	if ((e = lk_audit_epoch(cli_db, &cli_actor, &nk, false, time(NULL), evt, NULL)) != LK_OK) {
		unlink(newpath);
		return cli_failed(e, "audit rotate-key");
	}
	if (rename(newpath, cli_conf.audit_key_file) != 0) {
		fprintf(stderr, "latchkey: the chain now continues under the key in %s, but it "
		    "could not replace %s (%s): move it there by hand\n", newpath,
		    cli_conf.audit_key_file, strerror(errno));
		return 1;
	}
	fprintf(stderr, "audit key rotated: epoch row %s starts key id %s; the old key id %s "
	    "was appended to %s\n", evt, nk.id, old.id, cli_conf.audit_old_keys_file);
	OPENSSL_cleanse(&old, sizeof(old));
	OPENSSL_cleanse(&nk, sizeof(nk));
	return 0;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("audit needs verify, anchor, checkpoint or rotate-key");
	if (strcmp(argv[1], "verify") == 0)
		return verify(argc, argv);
	if (strcmp(argv[1], "anchor") == 0)
		return anchor(argc);
	if (strcmp(argv[1], "checkpoint") == 0)
		return checkpoint(argc);
	if (strcmp(argv[1], "rotate-key") == 0)
		return rotate_key(argc);
	return cli_usage("unknown audit command");
}
