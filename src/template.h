/* template.h - explanation templates: what an employee reads when their
 * mail is stopped (the SMTP reply today; notices later), in Chinese and
 * English.
 *
 * A template is a text file NAME.LANG.txt in the templates directory
 * (conf/templates/, installed to $(pkgdatadir)/templates).  Variables:
 *   ${incident}   incident id, "7K2M-Q9XD-3F0A"
 *   ${records}    distinct customer records found, "52"
 *   ${lists}      the lists they came from, "customers"
 *   ${detectors}  counts per identifier type in the template's language
 *                 (a language starting "zh" gets Chinese, any other
 *                 English), "3 resident ID numbers, 1 payment card
 *                 number" / "3 个身份证号码、1 个银行卡号"; "none" / "无"
 *                 when every count is 0
 *   ${where}      where they were, "attachment \"客户.xlsx\"; body"
 *   ${rules}      names of the rules that matched
 *   ${contact}    whom to ask for release (config)
 *   ${node}       the gateway
 *   ${action}     what happened to the message, in the template's
 *                 language ("held for review" / "已暂扣待审核")
 *   ${sender}     the sender's address (notices)
 *   ${samples}    masked samples, "138****5678, 6222********1234"
 *   ${show}       the officer's command, "custos quarantine show ID"
 *   ${window}     the notice window, "1h" (digests)
 * "$$" is a literal "$"; a '$' before anything but '{' or '$' is itself.
 * An unknown or unterminated variable, bytes that are not UTF-8, a
 * control character other than TAB, an empty file, a language missing,
 * or more than TEMPLATE_MAX_LINES lines over all languages is an error
 * at load ("file:line: why"), not a blank or a cut in a bounce.  CRLF
 * files and a UTF-8 byte-order mark are accepted.
 * Templates never receive a value from the list or the message text:
 * only the counts, names and places above.  Values are made safe all the
 * same (${where} names attachments): control characters, CR and LF
 * first, become spaces, bytes that are not UTF-8 '?'.
 *
 * Rendering gives lines for smfi_setmlreply: at most 32, each at most
 * 512 bytes, no CR/LF inside; languages in the configured order, one
 * after the other.  A '%' is written "%%" (Sendmail reads reply text as
 * a format, Postfix turns "%%" back into "%"); an empty line becomes
 * " "; a line over 512 bytes is cut between characters and ends "...".
 *
 * A loaded set is read-only and thread-safe.  Errors: NULL/-1 with err. */
#ifndef CUSTOS_TEMPLATE_H
#define CUSTOS_TEMPLATE_H

#include <stddef.h>

#include "findings.h"

#define TEMPLATE_MAX_LINES	32
#define TEMPLATE_MAX_LINE	512

struct template_vars {
	const char	*incident;
	size_t		 records;
	const char	*lists;
	const size_t	*detectors;	/* DET_COUNT counts, or NULL */
	const char	*where;
	const char	*rules;
	const char	*contact;
	const char	*node;
	int		 action;	/* enum action; -1: none */
	const char	*sender;
	const char	*samples;
	const char	*show;
	const char	*window;
};

struct template_set;

/* Loads every NAME.LANG.txt in dir for the given languages ("zh_CN",
 * "en"); each template must exist in every language.  NAME and LANG are
 * letters, digits, '_' and '-'; files of other languages are ignored. */
struct template_set *template_load(const char *dir,
		    const char *const *langs, size_t nlangs, char *err,
		    size_t errlen);
struct template_set *template_free(struct template_set *);	/* NULL-safe */

/* 1 if a template of that name is loaded, else 0. */
int		 template_has(const struct template_set *, const char *name);

/* Renders name in every language into lines, NULL-terminated (caller
 * frees each line and the array: free() or g_strfreev()).  vars may be
 * NULL; a NULL string renders empty.  Returns the number of lines, or -1
 * with err (no template of that name) and *lines NULL. */
int		 template_render(const struct template_set *, const char *name,
		    const struct template_vars *, char ***lines, char *err,
		    size_t errlen);

/* Renders name as plain text for a notice: the languages in langs that
 * are loaded (all loaded ones when nlangs is 0 or none of them is), in
 * the set's order, separated by a blank line; no '%' doubling, no line
 * cut.  *text is g_free()d by the caller.  0 or -1 with err. */
int		 template_render_text(const struct template_set *,
		    const char *name, const struct template_vars *,
		    const char *const *langs, size_t nlangs, char **text,
		    char *err, size_t errlen);

#endif
