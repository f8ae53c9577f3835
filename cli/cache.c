/* cache.c — latchkey cache status|sync|clear: the host's verify cache (model/cache.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/kcache.h"
#include "base/timefmt.h"
#include "cli.h"
#include "model/cache.h"

int
cmd_cache(int argc, char **argv)
{
	struct lk_kcache_state	 st;
	struct lk_kcache	*kc;
	struct timespec		 ts;
	char			 t[LK_TIME_MAX];
	int64_t			 now_ms;

	enum lk_err		 e;

	if (argc != 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "clear") != 0 &&
	    strcmp(argv[1], "sync") != 0))
		return cli_usage("the cache commands are status, sync and clear");
	if ((kc = lk_cache_open_existing(&cli_conf)) == NULL) {
		printf("verify_cache=%s\ncache_dir=%s\nentries=0 (no cache there)\n",
		    cli_conf.verify_cache ? "on" : "off", cli_conf.cache_dir);
		return 0;
	}
	if (strcmp(argv[1], "sync") == 0) {
		if ((e = lk_cache_sync(cli_db, &cli_conf)) != LK_OK)
			return cli_failed(e, "cache sync");
		printf("synced %s\n", cli_conf.cache_dir);
		return 0;
	}
	if (strcmp(argv[1], "clear") == 0) {
		lk_kcache_clear(kc);
		printf("cleared %s\n", cli_conf.cache_dir);
		return 0;
	}
	if (!lk_kcache_state(kc, &st)) {
		fprintf(stderr, "latchkey: the cache under %s cannot be read\n", cli_conf.cache_dir);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	printf("verify_cache=%s\ncache_dir=%s\nentries=%llu\nmax_entries=%u\nmap_size=%llu\n",
	    cli_conf.verify_cache ? "on" : "off", cli_conf.cache_dir,
	    (unsigned long long)st.entries, cli_conf.cache_max_entries,
	    (unsigned long long)st.map_size);
	printf("hits=%llu\nmisses=%llu\nhit_rate=%.3f\nstale_answers=%llu\n",
	    (unsigned long long)st.hits, (unsigned long long)st.misses,
	    st.hits + st.misses > 0 ? (double)st.hits / (double)(st.hits + st.misses) : 0.0,
	    (unsigned long long)st.stale);
	if (st.last_sync_ms == 0)
		printf("last_sync=never\n");
	else {
		lk_time_format(st.last_sync_ms / 1000, t);
		printf("last_sync=%s\nlag_ms=%lld\n", t, (long long)(now_ms - st.last_sync_ms));
	}
	return 0;
}
