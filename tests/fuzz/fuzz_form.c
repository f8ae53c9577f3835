/* fuzz_form.c — libFuzzer: urlencoded decoding (query strings and form bodies). */
#include <stdint.h>
#include <stdlib.h>

#include "http/req.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 bad[128];
	json_t	*o = lk_req_decode_form((const char *)data, size, bad, sizeof(bad));

	if (o != NULL && !json_is_object(o))
		abort();
	json_decref(o);
	return 0;
}
