/*
 * out.h — JSON text written directly into a fixed buffer: the answers of hot
 * paths (verify), without a JSON library round trip. Below http so that the
 * model can write an answer the API sends and the CLI prints.
 */
#ifndef LK_OUT_H
#define LK_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_OUT_MAX	16384

/*
 * Strings always go through lk_out_str, which escapes; lk_out_raw is for
 * literals and for text that is already JSON (a stored compact meta object).
 * Meant to live for the process (static) and be reset per answer.
 */
struct lk_out {
	char	 buf[LK_OUT_MAX];
	size_t	 len;
	bool	 full;		/* something did not fit: never sent */
};

void	lk_out_reset(struct lk_out *o);
void	lk_out_raw(struct lk_out *o, const char *s, size_t n);
#define	lk_out_lit(o, s)	lk_out_raw((o), (s), sizeof(s) - 1)
/* s (n bytes of UTF-8) as a quoted JSON string. */
void	lk_out_str(struct lk_out *o, const char *s, size_t n);
void	lk_out_int(struct lk_out *o, int64_t v);

#endif
