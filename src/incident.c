/* incident.c - generate and read back incident ids (see incident.h).
 * Owns nothing.  Fails only when the kernel gives no randomness. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "incident.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
incident_new(char out[INCIDENT_ID_SIZE])
{
	uint64_t r;
	ssize_t n;
	int i, o = 0;

	do
		n = getrandom(&r, sizeof r, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof r)
		return -1;
	for (i = 0; i < 12; i++) {
		if (i == 4 || i == 8)
			out[o++] = '-';
		out[o++] = crockford[r & 31];
		r >>= 5;
	}
	out[o] = '\0';
	return 0;
}

/* Maps one typed character to its base32 digit, or -1. */
static int
incident_digit(int c)
{
	const char *p;

	c = toupper(c);
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	if (c == '\0' || (p = strchr(crockford, c)) == NULL)
		return -1;
	return (int)(p - crockford);
}

int
incident_parse(const char *in, char out[INCIDENT_ID_SIZE])
{
	int n = 0, o = 0, d;

	for (; *in != '\0'; in++) {
		if (*in == '-' || *in == ' ')
			continue;
		if ((d = incident_digit((unsigned char)*in)) < 0 || n == 12)
			return -1;
		if (n == 4 || n == 8)
			out[o++] = '-';
		out[o++] = crockford[d];
		n++;
	}
	if (n != 12)
		return -1;
	out[o] = '\0';
	return 0;
}
