/* test_b64.c - unit tests for the base64 decoder (b64.c).
 *
 * Random bytes are encoded by GLib, wrapped as mail wraps them, and
 * decoded in random pieces: the bytes must come back, and GMime's own
 * decoder (which custos used before) must give the same, also with
 * characters outside the alphabet strewn in.  Then what b64.h promises
 * for padding, open groups and lone characters. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "b64.h"

/* Decodes in[0..len) in pieces of at most piece bytes (0: whole). */
static GByteArray *
decode(const char *in, size_t len, GRand *rnd, size_t piece)
{
	GByteArray *out = g_byte_array_new();
	struct b64 st;
	size_t off = 0, n, w;
	uint8_t *buf;

	b64_init(&st);
	while (off < len) {
		n = piece == 0 ? len - off : (size_t)g_rand_int_range(rnd, 1,
		    (gint32)piece + 1);
		if (n > len - off)
			n = len - off;
		/* one byte past the promised room, to see it untouched */
		buf = g_malloc(B64_OUT(n) + 1);
		buf[B64_OUT(n)] = 0xa5;
		w = b64_decode(&st, in + off, n, buf);
		assert_true(w <= B64_OUT(n));
		assert_int_equal(buf[B64_OUT(n)], 0xa5);
		g_byte_array_append(out, buf, (guint)w);
		g_free(buf);
		off += n;
	}
	buf = g_malloc(2);
	w = b64_finish(&st, buf);
	g_byte_array_append(out, buf, (guint)w);
	g_free(buf);
	return out;
}

/* GMime's decoder over the same input. */
static GByteArray *
gmime_decode(const char *in, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)(len / 4 * 3 + 3));
	int state = 0;
	guint32 save = 0;

	g_byte_array_set_size(out, (guint)(len / 4 * 3 + 3));
	g_byte_array_set_size(out, (guint)g_mime_encoding_base64_decode_step(
	    (const unsigned char *)in, len, out->data, &state, &save));
	return out;
}

/* data encoded, in lines of 76 with CRLF, as mail carries it. */
static GString *
wrapped(const guint8 *data, size_t len)
{
	gchar *b = g_base64_encode(data, len);
	size_t n = strlen(b), i;
	GString *s = g_string_new(NULL);

	for (i = 0; i < n; i += 76)
		g_string_append_printf(s, "%.76s\r\n", b + i);
	g_free(b);
	return s;
}

static void
assert_bytes(const GByteArray *got, const guint8 *want, size_t len)
{
	assert_int_equal(got->len, len);
	if (len > 0)
		assert_memory_equal(got->data, want, len);
}

static void
test_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 56, 57, 58, 100,
	    1000, 4096, 100000 };
	GRand *rnd = g_rand_new_with_seed(11);
	size_t i, k, j;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		guint8 *data = g_malloc(sizes[i] + 1);
		GString *enc, *noisy;
		GByteArray *a, *g;

		for (k = 0; k < sizes[i]; k++)
			data[k] = (guint8)g_rand_int(rnd);
		enc = wrapped(data, sizes[i]);
		g = gmime_decode(enc->str, enc->len);
		assert_bytes(g, data, sizes[i]);
		for (k = 0; k < 4; k++) {
			a = decode(enc->str, enc->len, rnd,
			    (size_t[]){ 0, 1, 7, 1000 }[k]);
			assert_bytes(a, data, sizes[i]);
			g_byte_array_unref(a);
		}
		/* what is not in the alphabet is skipped, by both */
		noisy = g_string_new(NULL);
		for (j = 0; j < enc->len; j++) {
			if (g_rand_int_range(rnd, 0, 5) == 0)
				g_string_append_c(noisy, "\t *\x01\xff-!\n"[
				    g_rand_int_range(rnd, 0, 9)]);
			g_string_append_c(noisy, enc->str[j]);
		}
		a = decode(noisy->str, noisy->len, rnd, 13);
		assert_bytes(a, data, sizes[i]);
		g_byte_array_unref(g);
		g = gmime_decode(noisy->str, noisy->len);
		assert_bytes(g, data, sizes[i]);
		g_byte_array_unref(a);
		g_byte_array_unref(g);
		g_string_free(noisy, TRUE);
		g_string_free(enc, TRUE);
		g_free(data);
	}
	g_rand_free(rnd);
}

static void
test_edges(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
		size_t		 len;
	} cases[] = {
		{ "", "", 0 },
		{ "QQ==", "A", 1 },
		{ "QUI=", "AB", 2 },
		{ "QUJD", "ABC", 3 },
		{ "QQ==QUI=", "AAB", 3 },	/* two encodings, one after */
		{ "QUI", "AB", 2 },		/* left open at the end */
		{ "QQ", "A", 1 },
		{ "Q", "", 0 },			/* a lone character */
		{ "Q===QUJD", "ABC", 3 },
		{ "=QUJD", "ABC", 3 },
		{ "QU\r\nJD\r\n", "ABC", 3 },
		{ "AAAA", "\0\0\0", 3 },
		{ "////", "\xff\xff\xff", 3 },
	};
	size_t i, p;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (p = 0; p < 3; p++) {
			GRand *rnd = g_rand_new_with_seed((guint32)p);
			GByteArray *a = decode(cases[i].in,
			    strlen(cases[i].in), rnd, p);

			if (a->len != cases[i].len || (a->len > 0 &&
			    memcmp(a->data, cases[i].out, a->len) != 0))
				fail_msg("\"%s\" in pieces of %zu: %u bytes",
				    cases[i].in, p, a->len);
			g_byte_array_unref(a);
			g_rand_free(rnd);
		}
}

/* The sixteen-character blocks decode as the lookups one by one do:
 * random texts mostly of the alphabet, with '=' and bytes outside it
 * here and there, in random pieces, each decoded both ways. */
static void
test_vector_same(void **state)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	GRand *rnd = g_rand_new_with_seed(29);
	char buf[400];
	size_t k, i, len;
	int was = b64_vector(1);

	(void)state;
	for (k = 0; k < 5000; k++) {
		len = (size_t)g_rand_int_range(rnd, 0, (gint32)sizeof buf);
		for (i = 0; i < len; i++) {
			gint32 r = g_rand_int_range(rnd, 0, 200);

			buf[i] = r < 2 ? '=' : r < 4 ?
			    "\r\n \t.-\x80\xff"[(size_t)(r - 2) + k % 7] :
			    r < 6 ? (char)g_rand_int(rnd) : alphabet[r % 64];
		}
		{
			GRand *r1 = g_rand_new_with_seed((guint32)k);
			GRand *r2 = g_rand_new_with_seed((guint32)k);
			GByteArray *a, *b;

			(void)b64_vector(0);
			a = decode(buf, len, r1, k % 3 ? 37 : 0);
			(void)b64_vector(1);
			b = decode(buf, len, r2, k % 3 ? 37 : 0);
			assert_int_equal(a->len, b->len);
			if (a->len > 0)
				assert_memory_equal(a->data, b->data, a->len);
			g_byte_array_unref(a);
			g_byte_array_unref(b);
			g_rand_free(r1);
			g_rand_free(r2);
		}
	}
	(void)b64_vector(was);
	g_rand_free(rnd);
}

/* Encoded text cut in lines of every length from 1 to 100 with LF, CRLF
 * or a stray CR, as senders wrap it (76 the most common: four blocks
 * and twelve characters, whose last block ends the line): the blocks
 * decode it as the lookups one by one do, and both give the data back;
 * now and then a byte outside the alphabet inside a line. */
static void
test_vector_lines(void **state)
{
	static const char *const eols[] = { "\n", "\r\n", "\r\r\n" };
	GRand *rnd = g_rand_new_with_seed(31);
	guint8 data[600];
	size_t line, e, i, n, len;
	int was = b64_vector(1);

	(void)state;
	for (line = 1; line <= 100; line++)
		for (e = 0; e < 3; e++) {
			GString *s = g_string_new(NULL);
			gchar *b;
			bool noisy = g_rand_int_range(rnd, 0, 4) == 0;
			GRand *r1, *r2;
			GByteArray *a, *v;

			len = (size_t)g_rand_int_range(rnd, 0, sizeof data);
			for (i = 0; i < len; i++)
				data[i] = (guint8)g_rand_int(rnd);
			b = g_base64_encode(data, len);
			n = strlen(b);
			for (i = 0; i < n; i += line) {
				g_string_append_len(s, b + i, (gssize)
				    (n - i < line ? n - i : line));
				if (noisy && g_rand_int_range(rnd, 0, 3) == 0)
					g_string_insert_c(s, (gssize)s->len -
					    g_rand_int_range(rnd, 0, 8) % (gint)
					    (s->len + 1), "*\x01\xff-"[i % 4]);
				g_string_append(s, eols[e]);
			}
			r1 = g_rand_new_with_seed((guint32)line);
			r2 = g_rand_new_with_seed((guint32)line);
			(void)b64_vector(0);
			a = decode(s->str, s->len, r1, line % 2 ? 37 : 0);
			(void)b64_vector(1);
			v = decode(s->str, s->len, r2, line % 2 ? 37 : 0);
			if (a->len != v->len || (a->len > 0 &&
			    memcmp(a->data, v->data, a->len) != 0))
				fail_msg("lines of %zu, end %zu%s: the blocks "
				    "decode otherwise", line, e,
				    noisy ? ", noisy" : "");
			if (!noisy)
				assert_bytes(v, data, len);
			g_byte_array_unref(a);
			g_byte_array_unref(v);
			g_rand_free(r1);
			g_rand_free(r2);
			g_free(b);
			g_string_free(s, TRUE);
		}
	(void)b64_vector(was);
	g_rand_free(rnd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_vector_same),
		cmocka_unit_test(test_vector_lines),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
