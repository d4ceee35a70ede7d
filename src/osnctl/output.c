/* output: how every osnctl command prints what it gathered (output.h).
 *
 * One rendering path, as iproute2 has one for text and -j: a command builds
 * its facts as JSON once, then osnctl_render_list() / osnctl_render_object()
 * print that JSON as it is (--json, -o json) or as an aligned table / a
 * field list; osnctl_render_report() as the lines of a report (gc, trace).
 * The table honours -o wide (the columns marked OSNCTL_COL_WIDE) and
 * --no-headers; no command prints a table by itself.
 */
#include "output.h"

#include <stdarg.h>

#define CELL_MAX 1024

static struct {
        bool wide, no_headers;
} out_opts;

void osnctl_output_configure(const struct osnctl *ctl)
{
        out_opts.wide = ctl->wide;
        out_opts.no_headers = ctl->no_headers;
}

int osnctl_print_json(const json_t *j)
{
        int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        return r < 0 ? -EIO : 0;
}

/* A value too long for its cell ends in "…", so that the cut is visible
 * (--json has it whole). */
static void mark_cut(char *buf, size_t len)
{
        if (len > 4)
                memcpy(buf + len - 4, "\xe2\x80\xa6", 4);
}

_printf_(3, 4) static void put(char *buf, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        if (w >= 0 && (size_t)w >= len)
                mark_cut(buf, len);
}

void osnctl_format_value(const json_t *v, char *buf, size_t len)
{
        buf[0] = 0;
        if (!v || json_is_null(v)) {
                put(buf, len, "-");
        } else if (json_is_string(v)) {
                put(buf, len, "%s", json_string_value(v));
        } else if (json_is_boolean(v)) {
                put(buf, len, "%s", json_is_true(v) ? "yes" : "no");
        } else if (json_is_integer(v)) {
                put(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        } else if (json_is_array(v)) {
                if (json_array_size(v) == 0) {
                        put(buf, len, "-");
                        return;
                }
                size_t off = 0, i;
                const json_t *e;
                json_array_foreach(v, i, e)
                {
                        char item[256];
                        osnctl_format_value(e, item, sizeof(item));
                        int w = snprintf(buf + off, len - off, "%s%s", i ? "," : "", item);
                        if (w < 0 || (size_t)w >= len - off) {
                                mark_cut(buf, len);
                                break;
                        }
                        off += (size_t)w;
                }
        } else {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                put(buf, len, "%s", s ? s : "?");
                free(s);
        }
}

void osnctl_join(const json_t *v, const char *sep,
                 void (*item)(const json_t *e, char *buf, size_t len), char *buf, size_t len)
{
        size_t off = 0, i;
        const json_t *e;
        put(buf, len, "-");
        json_array_foreach(v, i, e)
        {
                char one[CELL_MAX];
                item(e, one, sizeof(one));
                int w = snprintf(buf + off, len - off, "%s%s", i ? sep : "", one);
                if (w < 0 || (size_t)w >= len - off) {
                        mark_cut(buf, len);
                        break;
                }
                off += (size_t)w;
        }
}

static void cell(const struct osnctl_column *c, const json_t *row, char *buf, size_t len)
{
        const json_t *v = c->key ? json_object_get(row, c->key) : NULL;
        if (c->format)
                c->format(v, row, buf, len);
        else
                osnctl_format_value(v, buf, len);
}

static bool shown(const struct osnctl_column *c)
{
        return !(c->flags & OSNCTL_COL_WIDE) || out_opts.wide;
}

/* Display width: characters, not bytes. */
static size_t width(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xc0) != 0x80;
        return n;
}

#define COLS_MAX 24

void osnctl_table(const struct osnctl_column *cols, size_t n_cols, const json_t *rows,
                  const char *empty)
{
        size_t n_rows = json_array_size(rows);
        if (n_rows == 0) {
                if (empty && !out_opts.no_headers)
                        printf("%s\n", empty);
                return;
        }
        const struct osnctl_column *vis[COLS_MAX];
        size_t n_vis = 0, w[COLS_MAX] = {0};
        for (size_t c = 0; c < n_cols && n_vis < COLS_MAX; c++)
                if (shown(&cols[c]))
                        vis[n_vis++] = &cols[c];
        char(*cells)[CELL_MAX] = calloc(n_rows * n_vis + 1, CELL_MAX);
        if (!cells) {
                osnctl_err("out of memory");
                return;
        }
        for (size_t c = 0; c < n_vis; c++)
                w[c] = out_opts.no_headers ? 0 : width(vis[c]->header);
        for (size_t r = 0; r < n_rows; r++)
                for (size_t c = 0; c < n_vis; c++) {
                        char *b = cells[r * n_vis + c];
                        cell(vis[c], json_array_get(rows, r), b, CELL_MAX);
                        if (width(b) > w[c])
                                w[c] = width(b);
                }
        for (size_t r = out_opts.no_headers ? 1 : 0; r <= n_rows; r++) {
                for (size_t c = 0; c < n_vis; c++) {
                        const char *s = r == 0 ? vis[c]->header : cells[(r - 1) * n_vis + c];
                        if (c + 1 == n_vis)
                                printf("%s\n", s);
                        else
                                printf("%s%*s", s, (int)(w[c] - width(s) + 2), "");
                }
        }
        free(cells);
}

void osnctl_fields(const struct osnctl_column *cols, size_t n_cols, const json_t *obj)
{
        size_t w = 0;
        for (size_t c = 0; c < n_cols; c++)
                if (shown(&cols[c]) && width(cols[c].header) > w)
                        w = width(cols[c].header);
        for (size_t c = 0; c < n_cols; c++) {
                if (!shown(&cols[c]))
                        continue;
                char b[CELL_MAX];
                cell(&cols[c], obj, b, sizeof(b));
                if (out_opts.no_headers)
                        printf("%s\n", b);
                else
                        printf("%s:%*s%s\n", cols[c].header, (int)(w - width(cols[c].header) + 2),
                               "", b);
        }
}

int osnctl_render_list(const struct osnctl *ctl, const char *key, json_t *rows,
                       const struct osnctl_column *cols, size_t n_cols, const char *empty)
{
        if (!rows) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->json) {
                _cleanup_json_ json_t *o = json_pack("{s:O}", key, rows);
                return !o || osnctl_print_json(o) < 0 ? OSNCTL_PROBLEMS : 0;
        }
        osnctl_table(cols, n_cols, rows, empty);
        return 0;
}

int osnctl_render_object(const struct osnctl *ctl, const json_t *obj,
                         const struct osnctl_column *fields, size_t n_fields)
{
        if (!obj) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->json)
                return osnctl_print_json(obj) < 0 ? OSNCTL_PROBLEMS : 0;
        osnctl_fields(fields, n_fields, obj);
        return 0;
}

int osnctl_render_report(const struct osnctl *ctl, const json_t *obj,
                         const struct osnctl_lines *sections, size_t n_sections)
{
        if (!obj || ctl->json) /* out of memory, or JSON: as any object */
                return osnctl_render_object(ctl, obj, NULL, 0);
        for (size_t s = 0; s < n_sections; s++) {
                const struct osnctl_lines *sec = &sections[s];
                size_t i;
                const json_t *v;
                if (!sec->key)
                        sec->line(obj, obj, stdout);
                else
                        json_array_foreach(json_object_get(obj, sec->key), i, v)
                            sec->line(v, obj, stdout);
        }
        return 0;
}

void osnctl_age_text(long long secs, char *buf, size_t len)
{
        if (secs < 0)
                snprintf(buf, len, "?");
        else if (secs < 120)
                snprintf(buf, len, "%llds", secs);
        else if (secs < 2 * 3600)
                snprintf(buf, len, "%lldm", secs / 60);
        else if (secs < 2 * 86400)
                snprintf(buf, len, "%lldh", secs / 3600);
        else
                snprintf(buf, len, "%lldd", secs / 86400);
}
