/* yamlpos: see yamlpos.h.
 *
 * The scalar tracers below follow libyaml 0.2's scanner (scanner.c:
 * yaml_parser_scan_flow_scalar, _scan_plain_scalar, _scan_block_scalar and
 * _scan_block_scalar_breaks) step by step, with one difference: every byte
 * they emit carries the source offset it came from.  Errors that libyaml
 * would have reported cannot occur here (libyaml already accepted the
 * document); anything unexpected ends the trace with -ENOTSUP.
 */
#include "yamlpos.h"

#include <stdio.h>

/* ---- text ------------------------------------------------------------- */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

/* The length of the UTF-8 sequence that starts with 'c' (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
        if (c >= 0xf0 && c < 0xf8)
                return 4;
        if (c >= 0xe0)
                return c < 0xf0 ? 3 : 1;
        if (c >= 0xc0)
                return 2;
        return 1;
}

static size_t char_len(const char *s, size_t len, size_t p)
{
        size_t n = utf8_len((unsigned char)s[p]);
        return p + n <= len ? n : len - p;
}

/* The line break at s[p] as libyaml reads it: its length in the source (0
 * when there is none) and what it becomes in a value (CR, LF, CRLF and NEL
 * become "\n"; LS and PS stay themselves). */
static size_t break_at(const char *s, size_t len, size_t p, const char **norm)
{
        static const char lf[] = "\n", ls[] = "\xe2\x80\xa8", ps[] = "\xe2\x80\xa9";
        if (p >= len)
                return 0;
        const unsigned char *u = (const unsigned char *)s + p;
        size_t left = len - p;
        *norm = lf;
        if (u[0] == '\r')
                return left > 1 && u[1] == '\n' ? 2 : 1;
        if (u[0] == '\n')
                return 1;
        if (left >= 2 && u[0] == 0xc2 && u[1] == 0x85)
                return 2;
        if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
                *norm = u[2] == 0xa8 ? ls : ps;
                return 3;
        }
        return 0;
}

/* Plain-text lines end at "\n", "\r\n" or "\r" only. */
static size_t text_break(const char *s, size_t len, size_t p)
{
        if (p >= len)
                return 0;
        if (s[p] == '\r')
                return p + 1 < len && s[p + 1] == '\n' ? 2 : 1;
        return s[p] == '\n' ? 1 : 0;
}

/* A byte order mark takes no column. */
static size_t skip_bom(const char *text, size_t len)
{
        return len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

struct osn_pos osn_text_pos(const char *text, size_t len, size_t off)
{
        struct osn_pos pos = {1, 1};
        if (off > len)
                off = len;
        for (size_t p = skip_bom(text, len); p < off;) {
                size_t b = text_break(text, len, p);
                if (b) {
                        pos.line++;
                        pos.column = 1;
                        p += b;
                } else {
                        pos.column++;
                        p += char_len(text, len, p);
                }
        }
        return pos;
}

int osn_text_offset(const char *text, size_t len, unsigned line, unsigned column, size_t *ret)
{
        if (line == 0 || column == 0)
                return -ERANGE;
        size_t p = skip_bom(text, len);
        for (unsigned l = 1; l < line; l++) {
                /* Character by character, as osn_text_pos() counts: in text
                 * that is not UTF-8 a lead byte may swallow a line break. */
                while (p < len && !text_break(text, len, p))
                        p += char_len(text, len, p);
                if (p >= len)
                        return -ERANGE;
                p += text_break(text, len, p);
        }
        for (unsigned c = 1; c < column; c++) {
                if (p >= len || text_break(text, len, p))
                        return -ERANGE;
                p += char_len(text, len, p);
        }
        *ret = p;
        return 0;
}

/* ---- documents -------------------------------------------------------- */

struct osn_yaml_stream {
        yaml_parser_t parser;
        bool done;
        /* Where the text first nests deeper than OSN_YAML_MAX_DEPTH; NULL
         * when it does not. */
        const char *too_deep;
        const char *src;
        size_t len;
};

/* Flow collections ('[', '{') nested in the text, counted lexically: libyaml
 * takes time quadratic in that depth (80,000 levels: 27 s), so a deeper text
 * is refused before it parses.  Brackets in comments are not counted;
 * quotes are not tracked (a quoted bracket counts, which takes OSN_YAML_-
 * MAX_DEPTH unbalanced ones in one document to matter).  Block nesting
 * needs no bound of its own: each level costs a line longer than the last,
 * so the file size bounds it (to about 5,800 levels in 16 MiB). */
static const char *find_too_deep(const char *src, size_t len)
{
        size_t depth = 0;
        for (size_t i = 0; i < len; i++) {
                char ch = src[i];
                if (ch == '#' &&
                    (i == 0 || src[i - 1] == ' ' || src[i - 1] == '\t' || src[i - 1] == '\n')) {
                        while (i < len && src[i] != '\n')
                                i++;
                } else if (ch == '[' || ch == '{') {
                        if (++depth > OSN_YAML_MAX_DEPTH)
                                return src + i;
                } else if ((ch == ']' || ch == '}') && depth > 0) {
                        depth--;
                } else if (ch == '\n' && i + 3 < len && memcmp(src + i + 1, "---", 3) == 0) {
                        depth = 0; /* a new document */
                }
        }
        return NULL;
}

int osn_yaml_stream_new(const char *src, size_t len, struct osn_yaml_stream **ret)
{
        struct osn_yaml_stream *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->src = src;
        s->len = len;
        s->too_deep = find_too_deep(src, len);
        if (!yaml_parser_initialize(&s->parser)) {
                free(s);
                return -ENOMEM;
        }
        yaml_parser_set_input_string(&s->parser, (const unsigned char *)src, len);
        *ret = s;
        return 0;
}

void osn_yaml_stream_free(struct osn_yaml_stream *s)
{
        if (!s)
                return;
        yaml_parser_delete(&s->parser);
        free(s);
}

int osn_yaml_stream_next(struct osn_yaml_stream *s, yaml_document_t *doc, char *msg, size_t msglen,
                         struct osn_pos *ret_pos)
{
        if (s->done)
                return 0;
        if (s->too_deep) {
                /* Nothing of the stream is loaded: the documents before the
                 * deep one would parse, but a partial answer reads as a
                 * complete one. */
                s->done = true;
                *ret_pos = osn_text_pos(s->src, s->len, (size_t)(s->too_deep - s->src));
                snprintf(msg, msglen,
                         "nested more than %d levels deep (at line %u, column %u); osn reads YAML "
                         "up to that depth, so that a file is checked in bounded time",
                         OSN_YAML_MAX_DEPTH, ret_pos->line, ret_pos->column);
                return -EINVAL;
        }
        yaml_document_t d;
        if (!yaml_parser_load(&s->parser, &d)) {
                const yaml_parser_t *p = &s->parser;
                s->done = true;
                if (p->error == YAML_MEMORY_ERROR)
                        return -ENOMEM;
                const char *problem = p->problem ? p->problem : "unknown error";
                if (p->context)
                        snprintf(msg, msglen, "%s (%s at line %zu, column %zu)", problem,
                                 p->context, p->context_mark.line + 1, p->context_mark.column + 1);
                else
                        snprintf(msg, msglen, "%s", problem);
                ret_pos->line = (unsigned)p->problem_mark.line + 1;
                ret_pos->column = (unsigned)p->problem_mark.column + 1;
                return -EINVAL;
        }
        if (!yaml_document_get_root_node(&d)) {
                yaml_document_delete(&d);
                s->done = true;
                return 0;
        }
        *doc = d;
        return 1;
}

yaml_node_t *osn_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key,
                          yaml_node_t **ret_key)
{
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
             p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                if (streq(osn_yaml_str(k), key)) {
                        if (ret_key)
                                *ret_key = k;
                        return yaml_document_get_node(doc, p->value);
                }
        }
        return NULL;
}

yaml_node_t *osn_yaml_item(yaml_document_t *doc, const yaml_node_t *seq, size_t i)
{
        if (i >= osn_yaml_len(seq))
                return NULL;
        return yaml_document_get_node(doc, seq->data.sequence.items.start[i]);
}

size_t osn_yaml_len(const yaml_node_t *seq)
{
        if (!seq || seq->type != YAML_SEQUENCE_NODE)
                return 0;
        return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

const char *osn_yaml_str(const yaml_node_t *n)
{
        if (!n || n->type != YAML_SCALAR_NODE)
                return NULL;
        return (const char *)n->data.scalar.value;
}

bool osn_yaml_is_null(const yaml_node_t *n)
{
        if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        const char *v = osn_yaml_str(n);
        return !*v || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL");
}

struct osn_pos osn_yaml_node_pos(const yaml_node_t *n)
{
        return (struct osn_pos){(unsigned)n->start_mark.line + 1,
                                (unsigned)n->start_mark.column + 1};
}

/* libyaml's mark index counts characters from after a byte order mark. */
static int index_to_offset(const char *src, size_t len, size_t index, size_t *ret)
{
        size_t p = skip_bom(src, len);
        for (size_t i = 0; i < index; i++) {
                if (p >= len)
                        return -ERANGE;
                p += char_len(src, len, p);
        }
        if (p > len)
                return -ERANGE;
        *ret = p;
        return 0;
}

int osn_yaml_node_offset(const char *src, size_t len, const yaml_node_t *n, size_t *ret)
{
        return index_to_offset(src, len, n->start_mark.index, ret);
}

/* ---- tracing scalars -------------------------------------------------- */

/* Bytes with, for each, the source offset it came from. */
struct trace {
        char *val;
        size_t *src;
        size_t n, cap;
        bool failed;
};

static void trace_free(struct trace *t)
{
        free(t->val);
        free(t->src);
}

static void put(struct trace *t, const char *bytes, size_t n, size_t src_off)
{
        if (t->failed)
                return;
        if (t->n + n > t->cap) {
                size_t cap = (t->cap ? t->cap * 2 : 64) + n;
                char *v = realloc(t->val, cap);
                if (!v) {
                        t->failed = true;
                        return;
                }
                t->val = v;
                size_t *s = realloc(t->src, cap * sizeof(*s));
                if (!s) {
                        t->failed = true;
                        return;
                }
                t->src = s;
                t->cap = cap;
        }
        for (size_t i = 0; i < n; i++) {
                t->val[t->n] = bytes[i];
                t->src[t->n++] = src_off;
        }
}

/* Copies the source character at s[p] (all its bytes, each mapped to itself). */
static size_t copy_char(struct trace *t, const char *s, size_t len, size_t p)
{
        size_t n = char_len(s, len, p);
        for (size_t i = 0; i < n; i++)
                put(t, s + p + i, 1, p + i);
        return n;
}

static void join(struct trace *t, struct trace *from)
{
        for (size_t i = 0; i < from->n; i++)
                put(t, from->val + i, 1, from->src[i]);
        from->n = 0;
        t->failed |= from->failed;
}

/* After a line break inside a flow or plain scalar: one break folds into a
 * space, more breaks keep all but the first. */
static void fold(struct trace *out, struct trace *lead, struct trace *trail)
{
        if (lead->n > 0 && lead->val[0] == '\n') {
                if (trail->n == 0)
                        put(out, " ", 1, lead->src[0]);
                else
                        join(out, trail);
                lead->n = 0;
        } else {
                join(out, lead);
                join(out, trail);
        }
}

/* The blanks and breaks after a run of text (flow and plain scalars alike). */
static size_t eat_blanks(const char *s, size_t len, size_t p, size_t end, bool *leading_blanks,
                         struct trace *ws, struct trace *lead, struct trace *trail)
{
        for (;;) {
                const char *norm;
                size_t b;
                if (p < end && is_blank(s[p])) {
                        if (!*leading_blanks)
                                put(ws, s + p, 1, p);
                        p++;
                } else if (p < end && (b = break_at(s, len, p, &norm)) > 0) {
                        if (!*leading_blanks) {
                                ws->n = 0;
                                put(lead, norm, strlen(norm), p);
                                *leading_blanks = true;
                        } else {
                                put(trail, norm, strlen(norm), p);
                        }
                        p += b;
                } else {
                        return p;
                }
        }
}

/* One escape sequence of a double-quoted scalar at s[p] == '\\' (not an
 * escaped line break): emits its value, returns its source length or 0. */
static size_t escape(struct trace *out, const char *s, size_t len, size_t p)
{
        static const struct {
                char c;
                const char *v;
                size_t n;
        } simple[] = {
            {'0', "\0", 1},
            {'a', "\a", 1},
            {'b', "\b", 1},
            {'t', "\t", 1},
            {'\t', "\t", 1},
            {'n', "\n", 1},
            {'v', "\v", 1},
            {'f', "\f", 1},
            {'r', "\r", 1},
            {'e', "\x1b", 1},
            {' ', " ", 1},
            {'"', "\"", 1},
            {'/', "/", 1},
            {'\'', "'", 1},
            {'\\', "\\", 1},
            {'N', "\xc2\x85", 2},
            {'_', "\xc2\xa0", 2},
            {'L', "\xe2\x80\xa8", 3},
            {'P', "\xe2\x80\xa9", 3},
        };
        if (p + 1 >= len)
                return 0;
        char c = s[p + 1];
        for (size_t i = 0; i < ARRAY_SIZE(simple); i++)
                if (simple[i].c == c) {
                        put(out, simple[i].v, simple[i].n, p);
                        return 2;
                }
        size_t digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
        if (!digits || p + 2 + digits > len)
                return 0;
        uint32_t code = 0;
        for (size_t i = 0; i < digits; i++) {
                int h = osn_hexval(s[p + 2 + i]);
                if (h < 0)
                        return 0;
                code = code << 4 | (uint32_t)h;
        }
        char u[4];
        size_t n;
        if (code < 0x80) {
                u[0] = (char)code;
                n = 1;
        } else if (code < 0x800) {
                u[0] = (char)(0xc0 | code >> 6);
                u[1] = (char)(0x80 | (code & 0x3f));
                n = 2;
        } else if (code < 0x10000) {
                u[0] = (char)(0xe0 | code >> 12);
                u[1] = (char)(0x80 | ((code >> 6) & 0x3f));
                u[2] = (char)(0x80 | (code & 0x3f));
                n = 3;
        } else if (code <= 0x10ffff) {
                u[0] = (char)(0xf0 | code >> 18);
                u[1] = (char)(0x80 | ((code >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((code >> 6) & 0x3f));
                u[3] = (char)(0x80 | (code & 0x3f));
                n = 4;
        } else {
                return 0;
        }
        put(out, u, n, p);
        return 2 + digits;
}

/* 'single-quoted' and "double-quoted"; s[b] is the opening quote.  *ret_end
 * is the offset of the closing quote. */
static int trace_flow(const char *s, size_t len, size_t b, bool single, struct trace *out,
                      size_t *ret_end)
{
        const char quote = single ? '\'' : '"';
        struct trace ws = {0}, lead = {0}, trail = {0};
        size_t p = b + 1;
        int r = -ENOTSUP;
        for (;;) {
                bool leading_blanks = false;
                const char *norm;
                while (p < len && !is_blank(s[p]) && !break_at(s, len, p, &norm)) {
                        if (single && s[p] == '\'' && p + 1 < len && s[p + 1] == '\'') {
                                put(out, "'", 1, p);
                                p += 2;
                        } else if (s[p] == quote) {
                                break;
                        } else if (!single && s[p] == '\\' && break_at(s, len, p + 1, &norm)) {
                                /* An escaped line break joins the lines as they are. */
                                p += 1 + break_at(s, len, p + 1, &norm);
                                leading_blanks = true;
                                break;
                        } else if (!single && s[p] == '\\') {
                                size_t n = escape(out, s, len, p);
                                if (!n)
                                        goto out;
                                p += n;
                        } else {
                                p += copy_char(out, s, len, p);
                        }
                }
                if (p >= len)
                        goto out;
                if (s[p] == quote && !(single && p + 1 < len && s[p + 1] == '\''))
                        break;
                p = eat_blanks(s, len, p, len, &leading_blanks, &ws, &lead, &trail);
                if (leading_blanks)
                        fold(out, &lead, &trail);
                else
                        join(out, &ws);
        }
        *ret_end = p;
        r = 0;
out:
        trace_free(&ws);
        trace_free(&lead);
        trace_free(&trail);
        return r;
}

/* Plain scalars, between their start and end marks (which exclude trailing
 * blanks and comments). */
static int trace_plain(const char *s, size_t len, size_t b, size_t end, struct trace *out)
{
        struct trace ws = {0}, lead = {0}, trail = {0};
        bool leading_blanks = false;
        size_t p = b;
        if (end > len)
                return -ENOTSUP;
        while (p < end) {
                const char *norm;
                while (p < end && !is_blank(s[p]) && !break_at(s, len, p, &norm)) {
                        if (leading_blanks) {
                                fold(out, &lead, &trail);
                                leading_blanks = false;
                        } else if (ws.n > 0) {
                                join(out, &ws);
                        }
                        p += copy_char(out, s, len, p);
                }
                p = eat_blanks(s, len, p, end, &leading_blanks, &ws, &lead, &trail);
        }
        trace_free(&ws);
        trace_free(&lead);
        trace_free(&trail);
        return 0;
}

/* The indentation and the empty lines before a block scalar's next line. */
static int block_breaks(const char *s, size_t len, size_t *pp, int *col, int *indent, int parent,
                        struct trace *trail)
{
        size_t p = *pp;
        int max_indent = 0;
        for (;;) {
                while ((*indent == 0 || *col < *indent) && p < len && s[p] == ' ') {
                        p++;
                        (*col)++;
                }
                if (*col > max_indent)
                        max_indent = *col;
                if ((*indent == 0 || *col < *indent) && p < len && s[p] == '\t')
                        return -ENOTSUP;
                const char *norm;
                size_t b = break_at(s, len, p, &norm);
                if (!b)
                        break;
                put(trail, norm, strlen(norm), p);
                p += b;
                *col = 0;
        }
        if (*indent == 0) {
                *indent = max_indent;
                if (*indent < parent + 1)
                        *indent = parent + 1;
                if (*indent < 1)
                        *indent = 1;
        }
        *pp = p;
        return 0;
}

/* |literal and >folded; s[b] is the indicator. */
static int trace_block(const char *s, size_t len, size_t b, int parent, struct trace *out,
                       size_t *ret_end)
{
        struct trace lead = {0}, trail = {0};
        bool literal = s[b] == '|';
        int chomping = 0, increment = 0, r = -ENOTSUP;
        size_t p = b + 1;
        const char *norm;

        for (int k = 0; k < 2 && p < len; k++) {
                if ((s[p] == '+' || s[p] == '-') && chomping == 0) {
                        chomping = s[p] == '+' ? 1 : -1;
                        p++;
                } else if (s[p] >= '1' && s[p] <= '9' && increment == 0) {
                        increment = s[p] - '0';
                        p++;
                }
        }
        while (p < len && is_blank(s[p]))
                p++;
        if (p < len && s[p] == '#')
                while (p < len && !break_at(s, len, p, &norm))
                        p++;
        p += break_at(s, len, p, &norm);

        int indent = increment ? (parent >= 0 ? parent + increment : increment) : 0;
        int col = 0;
        if (block_breaks(s, len, &p, &col, &indent, parent, &trail) < 0)
                goto out;
        bool leading_blank = false;
        while (col == indent && p < len) {
                bool trailing_blank = is_blank(s[p]);
                if (!literal && lead.n > 0 && lead.val[0] == '\n' && !leading_blank &&
                    !trailing_blank) {
                        if (trail.n == 0)
                                put(out, " ", 1, lead.src[0]);
                        lead.n = 0;
                } else {
                        join(out, &lead);
                }
                join(out, &trail);
                leading_blank = is_blank(s[p]);
                while (p < len && !break_at(s, len, p, &norm))
                        p += copy_char(out, s, len, p);
                if (p >= len)
                        break;
                put(&lead, norm, strlen(norm), p);
                p += break_at(s, len, p, &norm);
                col = 0;
                if (block_breaks(s, len, &p, &col, &indent, parent, &trail) < 0)
                        goto out;
        }
        if (chomping != -1)
                join(out, &lead);
        if (chomping == 1)
                join(out, &trail);
        *ret_end = p;
        r = 0;
out:
        trace_free(&lead);
        trace_free(&trail);
        return r;
}

int osn_yaml_scalar_source(const char *src, size_t len, const yaml_node_t *n, int indent,
                           size_t value_off, size_t *ret)
{
        if (!n || n->type != YAML_SCALAR_NODE)
                return -EINVAL;
        if (value_off > n->data.scalar.length)
                return -ERANGE;
        size_t b, e;
        int r = index_to_offset(src, len, n->start_mark.index, &b);
        if (r < 0)
                return r;
        if ((r = index_to_offset(src, len, n->end_mark.index, &e)) < 0)
                return r;

        /* The start mark of a node with properties is that of its first
         * property (a tag "!!str" or an anchor "&a"): skip them. */
        while (b < e && (src[b] == '!' || src[b] == '&')) {
                while (b < e && !is_blank(src[b]) && src[b] != '\n' && src[b] != '\r')
                        b++;
                while (b < e && (is_blank(src[b]) || src[b] == '\n' || src[b] == '\r'))
                        b++;
        }
        if (b >= len)
                return -ENOTSUP;

        struct trace t = {0};
        size_t end = e;
        switch (n->data.scalar.style) {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
                if (src[b] !=
                    (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"')) {
                        r = -ENOTSUP;
                        break;
                }
                r = trace_flow(src, len, b, n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE,
                               &t, &end);
                break;
        case YAML_LITERAL_SCALAR_STYLE:
        case YAML_FOLDED_SCALAR_STYLE:
                if (src[b] != (n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ? '|' : '>')) {
                        r = -ENOTSUP;
                        break;
                }
                r = trace_block(src, len, b, indent, &t, &end);
                break;
        case YAML_PLAIN_SCALAR_STYLE:
                r = trace_plain(src, len, b, e, &t);
                break;
        default:
                r = -ENOTSUP;
        }
        if (r >= 0 && t.failed)
                r = -ENOMEM;
        /* The check that makes the mapping trustworthy: the traced value must
         * be exactly libyaml's. */
        if (r >= 0 && (t.n != n->data.scalar.length ||
                       (t.n > 0 && memcmp(t.val, n->data.scalar.value, t.n) != 0)))
                r = -ENOTSUP;
        if (r >= 0)
                *ret = value_off < t.n ? t.src[value_off] : end;
        trace_free(&t);
        return r;
}
