/* test-yamlpos: yamlpos.c.  Each case is a YAML document whose key "c"
 * holds a scalar in some style; the source holds exactly one '@', and the
 * value's '@' must map back to it.  Every other byte of the value must map
 * to a source byte that explains it: the same byte, a line break (for a
 * folded space or newline) or a backslash (an escape).  Exits 0 when every
 * case passes, else 1 after printing every failure. */
#include "yamlpos.h"

#include <stdio.h>

#include "testlib.h"

static const struct {
        const char *name;
        const char *src;
        unsigned line, column; /* where the '@' is (1-based) */
} cases[] = {
    {"single-quoted, the seed's style",
     "a:\n"
     "  c: '{\n"
     "            \"cniVersion\": \"0.3.1\",\n"
     "            \"subnet\": \"10.10.10.0/24\"@,\n"
     "        }'\n",
     4, 38},
    {"single-quoted with '' and blank lines", "c: 'it''s\n\n   a  b\n\n\n  x@'\n", 6, 4},
    {"single-quoted, trailing blanks before a break", "c: 'a   \n   b@'\n", 2, 5},
    {"double-quoted with escapes", "c: \"\\u00e9\\t\\\"q\\\" \\x41\\/ @\"\n", 1, 26},
    {"double-quoted, escaped line break", "c: \"ab\\\n     cd\\\n  \\ e@\"\n", 3, 6},
    {"double-quoted, folded lines", "k: 1\nc: \"a\n  b\n\n  c@\"\n", 5, 4},
    {"plain, multi-line", "c: one two\n  three\n\n  four@\nd: 2\n", 4, 7},
    {"plain, top-level", "just a @ plain\n  scalar\n", 1, 8},
    {"literal, clip", "c: |\n  {\n    \"a\": 1,@\n  }\nd: x\n", 3, 12},
    {"literal, strip, comment", "c: |-  # a comment\n  line\n  at@\n\n\nd: x\n", 3, 5},
    {"literal, keep, trailing blank lines", "c: |+\n  a\n  b@\n\n\n", 3, 4},
    {"literal, indentation indicator", "a:\n  c: |2\n      deeper\n    @x\n", 4, 5},
    {"literal, leading empty lines", "c: |\n\n\n   x\n   y@\n", 5, 5},
    {"folded", "c: >\n  one\n  two\n\n  three\n    more\n  four@\n", 7, 7},
    {"folded, keep", "c: >+\n  a\n  b@\n\n", 3, 4},
    {"tagged single-quoted", "c: !!str 'x\n  y@'\n", 2, 4},
    {"anchored plain", "c: &anchor value@\n", 1, 17},
    {"JSON, compact", "{\"a\":1,\"c\":\"q\\\"\\n@\",\"z\":[]}", 1, 18},
    {"JSON, multi-line", "{\n\t\"c\": \"x\\u0041@\"\n}\n", 2, 15},
    {"UTF-8 before and inside", "é: ü\nc: 'ß€\n   😀@'\n", 3, 5},
    {"CRLF lines", "a: 1\r\nc: 'x\r\n  y@'\r\n", 3, 4},
    {"byte order mark",
     "\xef\xbb\xbf"
     "c: 'x@'\n",
     1, 6},
    {"in a sequence", "c:\n- '@'\n", 2, 4},
};

static void check_case(size_t k)
{
        const char *src = cases[k].src;
        size_t len = strlen(src);
        struct osn_yaml_stream *s = NULL;
        yaml_document_t doc;
        char msg[256];
        struct osn_pos ep;
        int r = osn_yaml_stream_new(src, len, &s);
        CHECK(r == 0, "%s: stream: %d", cases[k].name, r);
        if (r < 0)
                return;
        r = osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &ep);
        CHECK(r == 1, "%s: load: %d %s", cases[k].name, r, r < 0 ? msg : "");
        if (r != 1) {
                osn_yaml_stream_free(s);
                return;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc), *key = NULL;
        yaml_node_t *node = root;
        int indent = -1;
        if (root->type == YAML_MAPPING_NODE) {
                yaml_node_t *a = osn_yaml_get(&doc, root, "a", NULL);
                if (a && a->type == YAML_MAPPING_NODE)
                        root = a;
                node = osn_yaml_get(&doc, root, "c", &key);
                if (key && root->data.mapping.style == YAML_BLOCK_MAPPING_STYLE)
                        indent = (int)key->start_mark.column;
                if (node && node->type == YAML_SEQUENCE_NODE)
                        node = osn_yaml_item(&doc, node, 0);
        }
        CHECK(node && node->type == YAML_SCALAR_NODE, "%s: no scalar", cases[k].name);
        if (!node || node->type != YAML_SCALAR_NODE) {
                yaml_document_delete(&doc);
                osn_yaml_stream_free(s);
                return;
        }
        const char *val = osn_yaml_str(node);
        size_t vlen = node->data.scalar.length;
        const char *at = memchr(val, '@', vlen);
        CHECK(at != NULL, "%s: no '@' in the value", cases[k].name);
        size_t prev = 0;
        for (size_t i = 0; i <= vlen; i++) {
                size_t off = (size_t)-1;
                r = osn_yaml_scalar_source(src, len, node, indent, i, &off);
                CHECK(r == 0, "%s: byte %zu: %d (%s)", cases[k].name, i, r, strerror(-r));
                if (r < 0)
                        break;
                CHECK(off >= prev && off <= len, "%s: byte %zu maps to %zu, before %zu",
                      cases[k].name, i, off, prev);
                prev = off;
                if (i == vlen)
                        break;
                char v = val[i], c = src[off];
                bool explained = v == c || c == '\\' || c == '\n' || c == '\r' ||
                                 (v == '\'' && c == '\'') || (unsigned char)c >= 0x80;
                CHECK(explained, "%s: value byte %zu '%c' maps to source byte %zu '%c'",
                      cases[k].name, i, v, off, c);
                if (at && i == (size_t)(at - val)) {
                        struct osn_pos p = osn_text_pos(src, len, off);
                        CHECK(c == '@' && p.line == cases[k].line && p.column == cases[k].column,
                              "%s: '@' maps to %u:%u ('%c'), expected %u:%u", cases[k].name, p.line,
                              p.column, c, cases[k].line, cases[k].column);
                }
        }
        yaml_document_delete(&doc);
        osn_yaml_stream_free(s);
}

/* A value libyaml produced differently from the source (here: a scalar
 * whose node we pair with the wrong source) is refused, never misplaced. */
static void check_refusal(void)
{
        const char *a = "c: 'abc'\n", *b = "c: 'xyz'\n";
        struct osn_yaml_stream *s = NULL;
        yaml_document_t doc;
        char msg[128];
        struct osn_pos p;
        if (osn_yaml_stream_new(a, strlen(a), &s) < 0 ||
            osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &p) != 1) {
                CHECK(false, "refusal: load");
                osn_yaml_stream_free(s);
                return;
        }
        yaml_node_t *n = osn_yaml_get(&doc, yaml_document_get_root_node(&doc), "c", NULL);
        size_t off;
        int r = osn_yaml_scalar_source(b, strlen(b), n, 0, 1, &off);
        CHECK(r == -ENOTSUP, "refusal: got %d", r);
        r = osn_yaml_scalar_source(a, strlen(a), n, 0, 4, &off);
        CHECK(r == -ERANGE, "value offset past the end: got %d", r);
        yaml_document_delete(&doc);
        osn_yaml_stream_free(s);
}

static void check_stream(void)
{
        const char *src = "a: 1\n---\nb: 2\n--- \n...\n---\nc: [1, 2\n";
        struct osn_yaml_stream *s = NULL;
        yaml_document_t doc;
        char msg[256];
        struct osn_pos p = {0, 0};
        int r = osn_yaml_stream_new(src, strlen(src), &s), n = 0;
        CHECK(r == 0, "stream");
        while ((r = osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &p)) == 1) {
                n++;
                yaml_document_delete(&doc);
        }
        CHECK(n == 3 && r == -EINVAL, "documents: %d then %d", n, r);
        CHECK(p.line == 8 && p.column == 1, "error at %u:%u: %s", p.line, p.column, msg);
        CHECK(strstr(msg, "line 7") != NULL, "error context: %s", msg);
        CHECK(osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &p) == 0, "after an error: end");
        osn_yaml_stream_free(s);
}

static void check_text(void)
{
        const char *t = "ab\r\né\nxyz";
        size_t len = strlen(t), off = 0;
        struct osn_pos p = osn_text_pos(t, len, 4);
        CHECK(p.line == 2 && p.column == 1, "text_pos: %u:%u", p.line, p.column);
        p = osn_text_pos(t, len, 7);
        CHECK(p.line == 3 && p.column == 1, "text_pos after UTF-8: %u:%u", p.line, p.column);
        CHECK(osn_text_offset(t, len, 3, 2, &off) == 0 && off == 8, "offset 3:2 -> %zu", off);
        CHECK(osn_text_offset(t, len, 2, 2, &off) == 0 && off == 6, "offset 2:2 -> %zu", off);
        CHECK(osn_text_offset(t, len, 3, 4, &off) == 0 && off == 10, "end of text -> %zu", off);
        CHECK(osn_text_offset(t, len, 3, 5, &off) == -ERANGE, "past the end");
        CHECK(osn_text_offset(t, len, 4, 1, &off) == -ERANGE, "no line 4");
        CHECK(osn_text_offset(t, len, 0, 1, &off) == -ERANGE, "line 0");
}

int main(void)
{
        for (size_t k = 0; k < ARRAY_SIZE(cases); k++)
                check_case(k);
        check_refusal();
        check_stream();
        check_text();
        printf("test-yamlpos: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
