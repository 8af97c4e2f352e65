/* csv.c - streaming RFC 4180 reader for customer lists.
 *
 * Reads the file in 64 KiB blocks, converts them to UTF-8 with iconv(3)
 * when the list is in another encoding (keeping a character split across
 * two blocks for the next one), and runs a state machine that builds one
 * row at a time in a reusable buffer.  Memory is fixed (256 KiB, 384 KiB
 * with conversion) plus the longest row seen (about CSV_MAX_ROW at most),
 * however long the file.
 *
 * Owns the file descriptor, the iconv descriptor and the buffers.
 * A malformed row gives -1 ("line N: why", N the line the row starts
 * on); the rest of that row is skipped up to the next line break outside
 * a quoted field and reading goes on.  A read error gives -2 and ends
 * the reader. */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "errbuf.h"
#include "csv.h"

#define CSV_BLOCK	(64 * 1024)
#define CSV_RAWCAP	(2 * CSV_BLOCK)	/* a block plus unconverted input */
#define CSV_DECCAP	(4 * CSV_BLOCK)	/* converted text, any expansion */
#define CSV_BAD		0xff		/* never valid UTF-8: marks bytes
					 * iconv could not convert */

/* Where the parser is in a row. */
enum csv_state {
	CSV_START,	/* at the start of a field */
	CSV_UNQ,	/* inside an unquoted field */
	CSV_Q,		/* inside a quoted field */
	CSV_QQ		/* a quote inside a quoted field: end or "" */
};

struct csv_reader {
	int		 fd;
	iconv_t		 cd;		/* (iconv_t)-1: input is UTF-8 */
	char		 enc[48];	/* for messages */

	char		*raw;		/* input not converted yet */
	size_t		 rawlen;
	char		*dec;		/* UTF-8 for the parser */
	size_t		 decpos, declen;
	size_t		 nread;		/* file bytes read */
	int		 eof;		/* read() returned 0 */
	int		 flushed;	/* iconv shift state written */
	int		 bom;		/* BOM check still to do */
	int		 done;		/* 0 or -2 returned for good */

	enum csv_state	 st;
	int		 inrow;		/* a row has started */
	int		 cr;		/* \r held back: line end or data */
	int		 skip;		/* rest of a malformed row */
	size_t		 line;		/* line of the next byte */
	size_t		 rowline;	/* line the row started on */
	size_t		 rowbytes;	/* input bytes of the row so far */

	char		*row;		/* fields, each NUL-terminated */
	size_t		 rowlen, rowcap;
	size_t		*fstart;	/* field offsets in row */
	size_t		 nf;		/* fields started */
	char		**fields;	/* handed out */
	size_t		*lens;
	size_t		 fcap;
};

/* The iconv name for an encoding label; NULL for UTF-8 (no conversion).
 * GBK and GB2312 files are read as GB18030, a superset of both, so
 * characters outside GB2312 in a "gb2312" file still convert. */
static const char *
csv_encname(const char *enc)
{
	static const char *gb[] = {
		"gbk", "gb2312", "gb-2312", "gb_2312-80", "cp936", "x-gbk",
		"ms936", "windows-936", "euc-cn", "gb18030",
	};
	size_t	i;

	if (enc == NULL || *enc == '\0' || g_ascii_strcasecmp(enc, "utf-8") ==
	    0 || g_ascii_strcasecmp(enc, "utf8") == 0)
		return NULL;
	for (i = 0; i < G_N_ELEMENTS(gb); i++)
		if (g_ascii_strcasecmp(enc, gb[i]) == 0)
			return "GB18030";
	return enc;
}

struct csv_reader *
csv_open(const char *path, const char *encoding, char *err, size_t errlen)
{
	struct csv_reader	*r;
	struct stat		 sb;
	const char		*name;

	if (path == NULL || strcmp(path, "-") == 0) {
		errbuf_set(err, errlen, "a file name is required");
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->cd = (iconv_t)-1;
	r->line = 1;
	r->bom = 1;
	if ((name = csv_encname(encoding)) != NULL) {
		if (strlen(name) >= sizeof r->enc) {
			errbuf_set(err, errlen, "unknown encoding");
			goto fail;
		}
		if ((r->cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
			errbuf_set(err, errlen, "unknown encoding %s", name);
			goto fail;
		}
		(void)g_strlcpy(r->enc, name, sizeof r->enc);
		if ((r->raw = malloc(CSV_RAWCAP)) == NULL)
			goto nomem;
	} else
		(void)g_strlcpy(r->enc, "UTF-8", sizeof r->enc);
	if ((r->dec = malloc(CSV_DECCAP)) == NULL)
		goto nomem;
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "%s: %s", path, g_strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &sb) == -1 || S_ISDIR(sb.st_mode)) {
		errbuf_set(err, errlen, "%s: %s", path,
		    S_ISDIR(sb.st_mode) ? "is a directory" : g_strerror(errno));
		goto fail;
	}
	return r;
nomem:
	errbuf_set(err, errlen, "out of memory");
fail:
	csv_close(r);
	return NULL;
}

struct csv_reader *
csv_close(struct csv_reader *r)
{
	if (r == NULL)
		return NULL;
	if (r->fd != -1)
		(void)close(r->fd);
	if (r->cd != (iconv_t)-1)
		(void)iconv_close(r->cd);
	free(r->raw);
	free(r->dec);
	free(r->row);
	free(r->fstart);
	free(r->fields);
	free(r->lens);
	free(r);
	return NULL;
}

size_t
csv_offset(const struct csv_reader *r)
{
	/* Exact for UTF-8; with conversion, what was handed to iconv. */
	if (r->cd == (iconv_t)-1)
		return r->nread - (r->declen - r->decpos);
	return r->nread - r->rawlen;
}

/* read() of up to n bytes into p: 1 read, 0 end of file, -1 error. */
static int
csv_read(struct csv_reader *r, char *p, size_t n, size_t *got)
{
	ssize_t	k;

	do
		k = read(r->fd, p, n);
	while (k == -1 && errno == EINTR);
	if (k == -1)
		return -1;
	if (k == 0) {
		r->eof = 1;
		return 0;
	}
	*got = (size_t)k;
	r->nread += (size_t)k;
	return 1;
}

/* Converts raw input into r->dec after its end.  Bytes iconv rejects
 * become one CSV_BAD each, so the row holding them fails UTF-8
 * validation and is reported; the encodings we use never hide ',', '"'
 * or line breaks inside a multibyte character, so resynchronising one
 * byte on keeps the row structure. */
static void
csv_convert(struct csv_reader *r)
{
	char	*in = r->raw, *out = r->dec + r->declen;
	size_t	 inleft = r->rawlen, outleft = CSV_DECCAP - r->declen;

	while (inleft > 0) {
		if (iconv(r->cd, &in, &inleft, &out, &outleft) != (size_t)-1)
			break;
		if (errno == E2BIG)
			break;
		if (errno == EINVAL && !r->eof)
			break;	/* split character: rest comes next block */
		/* EILSEQ, or a character cut off by the end of file. */
		if (outleft == 0)
			break;
		*out++ = (char)CSV_BAD;
		outleft--;
		if (errno == EINVAL)
			inleft = 0;
		else {
			in++;
			inleft--;
		}
	}
	if (inleft == 0 && r->eof && !r->flushed && outleft >= 16) {
		(void)iconv(r->cd, NULL, NULL, &out, &outleft);
		r->flushed = 1;
	}
	memmove(r->raw, in, inleft);
	r->rawlen = inleft;
	r->declen = (size_t)(out - r->dec);
}

/* Appends more UTF-8 to r->dec.  Returns 1 when there is new data, 0
 * at end of input, -1 on a read error. */
static int
csv_fill(struct csv_reader *r)
{
	size_t	before, got = 0;
	int	rc;

	if (r->decpos > 0) {
		memmove(r->dec, r->dec + r->decpos, r->declen - r->decpos);
		r->declen -= r->decpos;
		r->decpos = 0;
	}
	before = r->declen;
	for (;;) {
		if (r->cd == (iconv_t)-1) {
			if (r->eof)
				return 0;
			if ((rc = csv_read(r, r->dec + r->declen, CSV_BLOCK,
			    &got)) == -1)
				return -1;
			if (rc == 1) {
				r->declen += got;
				return 1;
			}
			continue;
		}
		if (!r->eof && r->rawlen <= CSV_RAWCAP - CSV_BLOCK) {
			if ((rc = csv_read(r, r->raw + r->rawlen, CSV_BLOCK,
			    &got)) == -1)
				return -1;
			if (rc == 1)
				r->rawlen += got;
		}
		csv_convert(r);
		if (r->declen > before)
			return 1;
		if (r->eof && r->rawlen == 0 && r->flushed)
			return 0;
	}
}

/* Room for n more bytes in the row buffer. */
static int
csv_room(struct csv_reader *r, size_t n)
{
	size_t	 cap;
	char	*p;

	if (r->rowcap - r->rowlen >= n)
		return 0;
	cap = r->rowcap ? r->rowcap : 256;
	while (cap - r->rowlen < n)
		cap *= 2;
	if ((p = realloc(r->row, cap)) == NULL)
		return -1;
	r->row = p;
	r->rowcap = cap;
	return 0;
}

/* Ends the current field and, unless the row is full, starts another.
 * Returns 0, -1 out of memory, -2 too many fields. */
static int
csv_endfield(struct csv_reader *r, int more)
{
	size_t	 cap;
	void	*p;

	if (csv_room(r, 1) == -1)
		return -1;
	r->row[r->rowlen++] = '\0';
	if (!more)
		return 0;
	if (r->nf == CSV_MAX_FIELDS)
		return -2;
	if (r->nf == r->fcap) {
		cap = r->fcap * 2;
		if ((p = realloc(r->fstart, cap * sizeof *r->fstart)) == NULL)
			return -1;
		r->fstart = p;
		if ((p = realloc(r->fields, cap * sizeof *r->fields)) == NULL)
			return -1;
		r->fields = p;
		if ((p = realloc(r->lens, cap * sizeof *r->lens)) == NULL)
			return -1;
		r->lens = p;
		r->fcap = cap;
	}
	r->fstart[r->nf++] = r->rowlen;
	return 0;
}

static int
csv_beginrow(struct csv_reader *r)
{
	if (r->fcap == 0) {
		r->fcap = 16;
		r->fstart = malloc(r->fcap * sizeof *r->fstart);
		r->fields = malloc(r->fcap * sizeof *r->fields);
		r->lens = malloc(r->fcap * sizeof *r->lens);
		if (r->fstart == NULL || r->fields == NULL || r->lens == NULL)
			return -1;
	}
	r->inrow = 1;
	r->st = CSV_START;
	r->rowline = r->line;
	r->rowbytes = 0;
	r->rowlen = 0;
	r->nf = 1;
	r->fstart[0] = 0;
	return 0;
}

/* Hands out the finished row: 1, or -1 when a field is not UTF-8. */
static int
csv_finish(struct csv_reader *r, char ***fields, size_t **lens, size_t *n,
    char *err, size_t errlen)
{
	size_t	i, end;

	r->inrow = 0;
	for (i = 0; i < r->nf; i++) {
		end = i + 1 < r->nf ? r->fstart[i + 1] - 1 : r->rowlen - 1;
		r->fields[i] = r->row + r->fstart[i];
		r->lens[i] = end - r->fstart[i];
		/* A NUL would cut the field short for every C consumer. */
		if (memchr(r->fields[i], '\0', r->lens[i]) != NULL) {
			errbuf_set(err, errlen, "line %zu: NUL byte",
			    r->rowline);
			return -1;
		}
		if (!g_utf8_validate(r->fields[i], (gssize)r->lens[i],
		    NULL)) {
			if (r->cd == (iconv_t)-1)
				errbuf_set(err, errlen, "line %zu: invalid UTF-8",
				    r->rowline);
			else
				errbuf_set(err, errlen, "line %zu: bytes invalid "
				    "in %s", r->rowline, r->enc);
			return -1;
		}
	}
	*fields = r->fields;
	*lens = r->lens;
	*n = r->nf;
	return 1;
}

/* Moves through the rest of a malformed row: the same structure, but
 * nothing is kept and stray quotes are taken as data.  Returns 1 at the
 * row's end (the '\n' consumed), 0 when the input ran out first. */
static int
csv_skip(struct csv_reader *r)
{
	const char	*p = r->dec + r->decpos, *end = r->dec + r->declen;
	char		 c;

	while (p < end) {
		c = *p++;
		if (c == '\n') {
			r->line++;
			if (r->st != CSV_Q) {
				r->decpos = (size_t)(p - r->dec);
				r->skip = 0;
				r->inrow = 0;
				return 1;
			}
			continue;
		}
		switch (r->st) {
		case CSV_START:
			r->st = c == '"' ? CSV_Q : c == ',' ? CSV_START :
			    CSV_UNQ;
			break;
		case CSV_UNQ:
			if (c == ',')
				r->st = CSV_START;
			break;
		case CSV_Q:
			if (c == '"')
				r->st = CSV_QQ;
			break;
		case CSV_QQ:
			r->st = c == '"' ? CSV_Q : c == ',' ? CSV_START :
			    CSV_UNQ;
			break;
		}
	}
	r->decpos = r->declen;
	return 0;
}

/* Bytes that need no decision inside an unquoted field: a run of them
 * is copied at once. */
static inline int
csv_plain(char c)
{
	return c != ',' && c != '"' && c != '\r' && c != '\n';
}

int
csv_next(struct csv_reader *r, char ***fields, size_t **lens, size_t *n,
    size_t *line, char *err, size_t errlen)
{
	const char	*p, *end, *q;
	const char	*why = NULL;
	char		 c;
	int		 rc;

	if (r->done)
		return r->done == -2 ? -2 : 0;
	for (;;) {
		if (r->decpos == r->declen || (r->bom &&
		    r->declen - r->decpos < 3 && !r->eof)) {
			if ((rc = csv_fill(r)) == -1) {
				errbuf_set(err, errlen, "read: %s",
				    g_strerror(errno));
				r->done = -2;
				return -2;
			}
			if (rc == 0 && r->decpos == r->declen)
				goto eof;
			if (r->bom && r->declen - r->decpos < 3 && rc == 1)
				continue;
		}
		if (r->bom) {
			r->bom = 0;
			if (r->declen - r->decpos >= 3 &&
			    memcmp(r->dec + r->decpos, "\xef\xbb\xbf", 3) == 0)
				r->decpos += 3;
			continue;
		}
		if (r->skip) {
			(void)csv_skip(r);
			continue;
		}

		p = r->dec + r->decpos;
		end = r->dec + r->declen;
		while (p < end) {
			c = *p;
			if (!r->inrow) {
				/* Empty lines are not rows. */
				if (c == '\n') {
					p++;
					r->line++;
					r->cr = 0;
					continue;
				}
				if (c == '\r' && !r->cr) {
					p++;
					r->cr = 1;
					continue;
				}
				if (csv_beginrow(r) == -1)
					goto nomem;
			}
			if (r->st == CSV_UNQ && csv_plain(c) && !r->cr) {
				for (q = p; q < end && csv_plain(*q); q++)
					;
				r->rowbytes += (size_t)(q - p);
				if (r->rowbytes > CSV_MAX_ROW)
					goto toolong;
				if (csv_room(r, (size_t)(q - p)) == -1)
					goto nomem;
				memcpy(r->row + r->rowlen, p, (size_t)(q - p));
				r->rowlen += (size_t)(q - p);
				p = q;
				continue;
			}
			if (++r->rowbytes > CSV_MAX_ROW)
				goto toolong;
			p++;
			if (r->cr) {
				/* A \r held back: line end before \n,
				 * data elsewhere. */
				r->cr = 0;
				if (c == '\n')
					goto endrow;
				if (r->st == CSV_QQ) {
					why = "text after closing quote";
					goto bad;
				}
				if (csv_room(r, 1) == -1)
					goto nomem;
				r->row[r->rowlen++] = '\r';
				r->st = CSV_UNQ;
			}
			switch (r->st) {
			case CSV_START:
			case CSV_UNQ:
				if (c == '"') {
					if (r->st == CSV_UNQ) {
						why = "quote in unquoted field";
						goto bad;
					}
					r->st = CSV_Q;
					break;
				}
				if (c == ',')
					goto endfield;
				if (c == '\n')
					goto endrow;
				if (c == '\r') {
					r->cr = 1;
					break;
				}
				if (csv_room(r, 1) == -1)
					goto nomem;
				r->row[r->rowlen++] = c;
				r->st = CSV_UNQ;
				break;
			case CSV_Q:
				if (c == '"') {
					r->st = CSV_QQ;
					break;
				}
				if (c == '\n')
					r->line++;
				if (csv_room(r, 1) == -1)
					goto nomem;
				r->row[r->rowlen++] = c;
				break;
			case CSV_QQ:
				if (c == '"') {
					if (csv_room(r, 1) == -1)
						goto nomem;
					r->row[r->rowlen++] = '"';
					r->st = CSV_Q;
					break;
				}
				if (c == ',')
					goto endfield;
				if (c == '\n')
					goto endrow;
				if (c == '\r') {
					r->cr = 1;
					break;
				}
				why = "text after closing quote";
				goto bad;
			}
			continue;
endfield:
			if ((rc = csv_endfield(r, 1)) == -1)
				goto nomem;
			if (rc == -2) {
				errbuf_set(err, errlen, "line %zu: more than %d "
				    "fields", r->rowline, CSV_MAX_FIELDS);
				r->st = CSV_START;	/* after the ',' */
				goto skiprow;
			}
			r->st = CSV_START;
			continue;
endrow:
			r->line++;
			r->decpos = (size_t)(p - r->dec);
			if (csv_endfield(r, 0) == -1)
				goto nomem;
			*line = r->rowline;
			return csv_finish(r, fields, lens, n, err, errlen);
		}
		r->decpos = r->declen;
	}

eof:
	r->done = 1;
	if (r->skip || !r->inrow)
		return 0;
	*line = r->rowline;
	if (r->st == CSV_Q) {
		r->inrow = 0;
		errbuf_set(err, errlen, "line %zu: unterminated quote",
		    r->rowline);
		return -1;
	}
	/* The last row, without a line break; a \r held back is dropped. */
	if (csv_endfield(r, 0) == -1)
		goto nomem;
	return csv_finish(r, fields, lens, n, err, errlen);

toolong:
	errbuf_set(err, errlen, "line %zu: row longer than %d bytes", r->rowline,
	    CSV_MAX_ROW);
	goto skiprow;
bad:
	errbuf_set(err, errlen, "line %zu: %s", r->rowline, why);
skiprow:
	r->decpos = (size_t)(p - r->dec);
	r->skip = 1;
	r->cr = 0;
	/* The skip reads the rest as data: a quote after a closing quote
	 * must not reopen the field. */
	if (r->st == CSV_QQ)
		r->st = CSV_UNQ;
	*line = r->rowline;
	return -1;

nomem:
	errbuf_set(err, errlen, "out of memory");
	r->done = -2;
	return -2;
}
