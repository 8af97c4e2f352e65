/* ooxml.c - not written yet: every file of this format stays opaque. */
#include "config.h"

#include "extract/extract.h"

int
extract_ooxml(struct extract *ex, const struct extract_file *f)
{
	(void)ex;
	(void)f;
	return 0;
}
