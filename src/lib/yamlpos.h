/* yamlpos: YAML (and so JSON) documents with the source positions of their
 * nodes, and where each byte of a scalar's value lies in the source text.
 *
 * Kubernetes manifests embed JSON in YAML strings (a NAD's spec.config).  A
 * useful message about that JSON names the line and column of the file the
 * user edits, not of the string.  libyaml gives every node its start mark
 * and every scalar its style; this module re-reads a scalar's source text by
 * the rules of its style (plain, 'single-quoted', "double-quoted", |literal,
 * >folded), which are libyaml's own (line folding, escapes, indentation,
 * chomping), and so maps every byte of the value back to the byte of the
 * source it came from.  A folded line break maps to the break, an escape
 * sequence to its backslash.  The reconstruction is compared with the value
 * libyaml produced: when they differ (a case these rules do not cover), the
 * mapping fails with -ENOTSUP and callers fall back to the scalar's start.
 * It never reports a wrong place.
 *
 * Positions: lines and columns are 1-based; columns count characters (UTF-8
 * sequences), as libyaml and jansson do; a tab is one column.  A line ends at
 * "\n", "\r\n" or "\r".
 *
 * Ownership: a stream owns its libyaml parser and borrows the source buffer,
 * which must outlive it.  Documents are libyaml's yaml_document_t, deleted
 * by the caller with yaml_document_delete().  Nodes are borrowed from their
 * document.
 */
#ifndef OSN_YAMLPOS_H
#define OSN_YAMLPOS_H

#include <yaml.h>

#include "util.h"

struct osn_pos {
        unsigned line;   /* 1-based; 0 = unknown */
        unsigned column; /* 1-based, in characters */
};

/* --- Plain text --- */

/* The line and column of byte 'off' of 'text' (off may equal len). */
struct osn_pos osn_text_pos(const char *text, size_t len, size_t off);

/* The byte offset of the character at 'line', 'column' of 'text' (column
 * len + 1 of a line, just past its end, is allowed: parsers report errors
 * there).  -ERANGE when the text has no such position. */
int osn_text_offset(const char *text, size_t len, unsigned line, unsigned column, size_t *ret)
    _wur_;

/* --- Documents --- */

struct osn_yaml_stream;

/* The deepest nesting of flow collections ([ ], { }) a stream accepts:
 * libyaml's time grows with the square of it. */
#define OSN_YAML_MAX_DEPTH 100

/* A stream of documents ("---" separated) over 'src' (borrowed).  Text
 * nested deeper than OSN_YAML_MAX_DEPTH fails the first
 * osn_yaml_stream_next() with -EINVAL and a message that says so. */
int osn_yaml_stream_new(const char *src, size_t len, struct osn_yaml_stream **ret) _wur_;
void osn_yaml_stream_free(struct osn_yaml_stream *s); /* accepts NULL */
static inline void osn_yaml_stream_freep(struct osn_yaml_stream **s)
{
        osn_yaml_stream_free(*s);
}
#define _cleanup_yaml_stream_ _cleanup_(osn_yaml_stream_freep)

/* Loads the next document into *doc.  Returns 1 when one was loaded (the
 * caller deletes it), 0 at the end of the stream (*doc untouched), -EINVAL
 * on a syntax error: 'msg' (msglen bytes) gets libyaml's description and
 * *ret_pos where it found the problem; the stream cannot go on after that. */
int osn_yaml_stream_next(struct osn_yaml_stream *s, yaml_document_t *doc, char *msg, size_t msglen,
                         struct osn_pos *ret_pos) _wur_;

/* The value node of 'key' in mapping 'map' (the first such key), or NULL
 * when 'map' is not a mapping or has no such key.  With 'ret_key', also the
 * key node. */
yaml_node_t *osn_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key,
                          yaml_node_t **ret_key);
/* The i-th item of a sequence, or NULL. */
yaml_node_t *osn_yaml_item(yaml_document_t *doc, const yaml_node_t *seq, size_t i);
/* The number of items of a sequence (0 for anything else). */
size_t osn_yaml_len(const yaml_node_t *seq);
/* A scalar's value (NUL-terminated by libyaml), or NULL for other nodes. */
const char *osn_yaml_str(const yaml_node_t *n);
/* True for an empty document's root: a plain empty scalar, "~" or "null". */
bool osn_yaml_is_null(const yaml_node_t *n);

/* Where a node starts. */
struct osn_pos osn_yaml_node_pos(const yaml_node_t *n);

/* The byte offset of a node's start in 'src' (the buffer it was parsed from).
 * libyaml counts characters; this walks UTF-8.  -ERANGE when the mark lies
 * outside 'src' (e.g. a UTF-16 source). */
int osn_yaml_node_offset(const char *src, size_t len, const yaml_node_t *n, size_t *ret) _wur_;

/* The byte offset in 'src' of byte 'value_off' of scalar 'n's value
 * ('value_off' may equal the value's length: the end of the scalar's text).
 * 'indent' is the indentation of the collection that holds the scalar (the
 * column, 0-based, of its key for a block mapping; -1 at the top level): it
 * is needed only for block scalars with an explicit indentation indicator.
 * -ENOTSUP when the value cannot be traced back (see above), -ERANGE when
 * 'value_off' is past the value, -ENOMEM. */
int osn_yaml_scalar_source(const char *src, size_t len, const yaml_node_t *n, int indent,
                           size_t value_off, size_t *ret) _wur_;

#endif
