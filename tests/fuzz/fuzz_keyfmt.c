/* fuzz_keyfmt.c — libFuzzer: lk_keyfmt_parse and lk_keyfmt_looks_like_key on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/keyfmt.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lk_keyparts	 parts;
	char			*s;

	/* parse takes a length: no NUL needed, and must not read past it. */
	if (lk_keyfmt_parse((const char *)data, size, "lk", &parts) == LK_OK &&
	    (size != 46 || memcmp(parts.start, data, 16) != 0))
		abort();	/* an accepted key always has the documented shape */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)lk_keyfmt_looks_like_key(s);
	free(s);
	return 0;
}
