/* errbuf.h - the error text a callee leaves for the caller that decides
 * (STYLE.md: the callee fills a buffer, the caller logs once).
 * Thread-safe; never fails. */
#ifndef CUSTOS_ERRBUF_H
#define CUSTOS_ERRBUF_H

#include <stddef.h>

/* Formats into err (errlen bytes, always NUL-terminated); does nothing
 * when err is NULL or errlen 0. */
void	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
