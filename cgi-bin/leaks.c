/*
 * leaks — /v1/leaks, /v1/leaks/github: leaked-key reports from scanners,
 * people and GitHub's secret scanning (lib/api/leaks.c).
 */
#include "api/leaks.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_leaks_http);
}
