/*
 * leaks.c — latchkey leaks refresh-keys: fetch GitHub's secret scanning
 * public keys into github_secret_scanning_keys_file (or --out), atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/outbound.h"
#include "base/scanning.h"
#include "cli.h"

#define GITHUB_KEYS_URL	"https://api.github.com/meta/public_keys/secret_scanning"

/* Write len bytes of text to path through a new file beside it and rename(2): never half a file. */
static int
write_atomically(const char *path, const char *text, size_t len)
{
	char	 tmp[4096], dir[4096];
	int	 fd;
	bool	 ok;

	snprintf(dir, sizeof(dir), "%s", path);
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    (fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "leaks refresh-keys: %s: cannot create a file beside it: %s\n", path,
		    strerror(errno));
		return 1;
	}
	/* The keys are public; the web server's user reads them. */
	ok = fchmod(fd, 0644) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		fprintf(stderr, "leaks refresh-keys: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	/* The rename itself is durable once the directory is synced. */
	if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* leaks refresh-keys [--out FILE] [--url URL [--allow-http]] */
static int
refresh_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "url", required_argument, NULL, 'u' },
		{ "allow-http", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*out = cli_conf.github_secret_scanning_keys_file, *url = GITHUB_KEYS_URL;
	char		*body, why[256];
	size_t		 len;
	long		 code;
	bool		 allow_http = false;
	int		 c, rc;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'h':
			allow_http = true;
			break;
		default:
			return cli_usage(NULL);
		}
	if ((rc = cli_operands(argc, argv, 0, NULL)) != 0)
		return rc;
	if (out == NULL || out[0] == '\0')
		return cli_usage("leaks refresh-keys: give --out FILE or set "
		    "github_secret_scanning_keys_file");
	if (!lk_outbound_get(url, allow_http, LK_SCANNING_KEYS_MAX, 10, 30, &body, &len, &code,
	    why, sizeof(why))) {
		fprintf(stderr, "leaks refresh-keys: %s: %s\n", url, why);
		return 1;
	}
	/* A rate-limit page or an empty list never replaces keys that work. */
	if (code != 200 || body == NULL || !lk_scanning_keys_ok(body, len)) {
		fprintf(stderr, "leaks refresh-keys: %s answered %ld%s; %s kept as it was\n", url,
		    code, code == 200 ? " without a list of EC public keys" : "", out);
		free(body);
		return 1;
	}
	rc = write_atomically(out, body, len);
	free(body);
	if (rc == 0)
		fprintf(stderr, "leaks refresh-keys: %s written from %s\n", out, url);
	return rc;
}

int
cmd_leaks(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "refresh-keys") == 0)
		return refresh_keys(argc, argv);
	return cli_usage("leaks: expected refresh-keys");
}
