/* fuzz-yamlpos: arbitrary bytes as a YAML stream (what `osnctl validate`
 * reads from a manifest), through every position function of yamlpos.c.
 *
 * Invariants checked (a violation traps):
 * - every scalar's traced source offset lies inside the buffer, and the
 *   offsets of a scalar's value bytes never decrease;
 * - osn_text_pos() and osn_text_offset() agree on every offset they map;
 * - a syntax error stops the stream (the next call does not load more).
 */
#include "yamlpos.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const char *src, size_t len, yaml_document_t *doc)
{
        for (yaml_node_t *n = doc->nodes.start; n && n < doc->nodes.top; n++) {
                size_t off;
                if (osn_yaml_node_offset(src, len, n, &off) == 0 && off > len)
                        __builtin_trap();
                (void)osn_yaml_node_pos(n);
                (void)osn_yaml_is_null(n);
                if (n->type != YAML_SCALAR_NODE)
                        continue;
                size_t vlen = n->data.scalar.length, prev = 0;
                for (size_t i = 0; i <= vlen && i < 256; i++) {
                        size_t at;
                        int r = osn_yaml_scalar_source(src, len, n, -1, i, &at);
                        if (r == -ENOTSUP || r == -ENOMEM)
                                break;
                        if (r < 0)
                                __builtin_trap(); /* i <= vlen is always in range */
                        if (at > len || (i > 0 && at < prev))
                                __builtin_trap();
                        prev = at;
                }
        }
        /* The first mapping's keys, as validate looks them up. */
        yaml_node_t *root = yaml_document_get_root_node(doc);
        (void)osn_yaml_get(doc, root, "spec", NULL);
        (void)osn_yaml_get(doc, root, "kind", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *src = (const char *)data;
        for (size_t off = 0; off <= size && off < 512; off += 7) {
                struct osn_pos p = osn_text_pos(src, size, off);
                size_t back;
                if (p.line == 0 || osn_text_offset(src, size, p.line, p.column, &back) < 0)
                        __builtin_trap();
        }
        struct osn_yaml_stream *s = NULL;
        if (osn_yaml_stream_new(src, size, &s) < 0)
                return 0;
        for (int docs = 0; docs < 64; docs++) {
                yaml_document_t doc;
                char msg[256];
                struct osn_pos pos;
                int r = osn_yaml_stream_next(s, &doc, msg, sizeof(msg), &pos);
                if (r <= 0)
                        break;
                walk(src, size, &doc);
                yaml_document_delete(&doc);
        }
        osn_yaml_stream_free(s);
        return 0;
}
