/* output: the one renderer of every osnctl command (output.c).
 *
 * Contract:
 * - A command gathers its facts once, as JSON (the `--json` output); the
 *   text people read is rendered from that same JSON, here, so what people
 *   read and what tools parse cannot disagree.  No command prints a table,
 *   a field list or a report line by itself.
 * - Shapes: a list of rows (osnctl_render_list(): a table), one object
 *   (osnctl_render_object(): a field list) or a report
 *   (osnctl_render_report(): lines, each made from the object by a line
 *   formatter).  Text honours -o wide (the columns marked OSNCTL_COL_WIDE)
 *   and --no-headers, as set by osnctl_output_configure().
 * - Everything goes to stdout; only "out of memory" goes to stderr
 *   (osnctl_err()).  Borrowed JSON is never modified.
 */
#ifndef OSNCTL_OUTPUT_H
#define OSNCTL_OUTPUT_H

#include <stdio.h>

#include "ctl.h"

/* Applies -o wide and --no-headers (once, before a command runs). */
void osnctl_output_configure(const struct osnctl *ctl);

/* A duration in seconds as people read an age: "45s", "12m", "5h", "3d";
 * "?" when negative (unknown). */
void osnctl_age_text(long long secs, char *buf, size_t len);

/* Writes 'j' as indented JSON plus a newline on stdout. */
int osnctl_print_json(const json_t *j);

/* A column of a table (or a line of a field list): its header, the key of
 * the row object it shows and, optionally, how to render it.  Without a
 * formatter: strings as they are, null or absent as "-", arrays joined with
 * ",", booleans as yes/no, numbers in decimal. */
struct osnctl_column {
        const char *header;
        const char *key;
        void (*format)(const json_t *value, const json_t *row, char *buf, size_t len);
        unsigned flags; /* OSNCTL_COL_* */
};

#define OSNCTL_COL_WIDE 1u /* only with -o wide */

void osnctl_format_value(const json_t *v, char *buf, size_t len);
/* Each element of the array 'v' rendered by 'item', joined with 'sep'
 * into 'buf' ("-" when there is none; a cut is marked with "…"). */
void osnctl_join(const json_t *v, const char *sep,
                 void (*item)(const json_t *e, char *buf, size_t len), char *buf, size_t len);
/* Rows (a JSON array of objects) as an aligned table with a header line;
 * prints 'empty' instead when there is no row. */
void osnctl_table(const struct osnctl_column *cols, size_t n_cols, const json_t *rows,
                  const char *empty);
/* One object as "Header:  value" lines (only the values with
 * --no-headers). */
void osnctl_fields(const struct osnctl_column *cols, size_t n_cols, const json_t *obj);

/* What a command ends with: {"KEY": rows} as JSON, or the rows as a table
 * ('empty' when there is none).  Borrows 'rows'; NULL (out of memory)
 * prints why.  Returns 0 or OSNCTL_PROBLEMS. */
int osnctl_render_list(const struct osnctl *ctl, const char *key, json_t *rows,
                       const struct osnctl_column *cols, size_t n_cols, const char *empty);
/* The same for one object, as JSON or a field list. */
int osnctl_render_object(const struct osnctl *ctl, const json_t *obj,
                         const struct osnctl_column *fields, size_t n_fields);

/* A section of a report: with 'key', the lines of each element of the
 * array obj[key], written by 'line' from (element, obj); without, the
 * lines 'line' writes from (obj, obj).  'line' writes whole lines, each
 * with its newline, to 'out' (stdout), or nothing. */
struct osnctl_lines {
        const char *key;
        void (*line)(const json_t *v, const json_t *obj, FILE *out);
};

/* A report: 'obj' as JSON, or its sections in order as lines of text.
 * Borrows 'obj'; NULL (out of memory) prints why.  Returns 0 or
 * OSNCTL_PROBLEMS. */
int osnctl_render_report(const struct osnctl *ctl, const json_t *obj,
                         const struct osnctl_lines *sections, size_t n_sections);

#endif
