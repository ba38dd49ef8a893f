/* dlm_level.h — the levelizer: layers, depth, width, size and live ranges of a circuit.
 *
 * Levels follow berkeley-abc: coins and node 0 have level 0, a gate has level
 * 1 + the largest level of its non-constant inputs (0 if all its inputs are
 * constants). depth = the largest gate level (ABC's "lev").
 *
 * Layers place every vertex (coin or gate, not node 0) in 0..depth for decoding:
 * a gate sits in the layer of its level; a source (coin, or gate with only constant
 * inputs) sits as late as possible, one layer before its earliest consumer, or in the
 * last layer if it has no consumer, so that it does not inflate the width.
 * A vertex is live across boundary r (between layers r and r+1, r = 0..depth-1) when
 * layer(v) <= r < lastuse(v), where lastuse is the largest layer of its consumers,
 * or depth+1 for an output vertex; boundary `depth` holds the output vertices.
 * width w = the largest live count over boundaries 0..depth. A vertex that reaches no
 * output is dead: it has no live range (the space-saving modes do not store it).
 */
#ifndef DLM_LEVEL_H
#define DLM_LEVEL_H

#include "dlm_circuit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t depth;       /* largest gate level */
    uint32_t nlayers;     /* depth + 1 */
    uint64_t size;        /* N = coins + gates (vertices, node 0 excluded) */
    uint32_t gates;       /* non-coin, non-constant nodes */
    uint32_t gates_by_type[DLM_G_NTYPES];
    uint32_t width;       /* w */
    uint32_t max_fanin;   /* largest gate fan-in */
    uint32_t dead;        /* vertices that reach no output */
    uint32_t *level;      /* per node */
    uint32_t *layer;      /* per node (node 0: 0) */
    uint32_t *lastuse;    /* per node: largest consumer layer, depth+1 for outputs */
    uint8_t *is_dead;     /* per node: 1 if it reaches no output */
    uint32_t *layer_count;/* per layer: vertices placed there */
    uint32_t *live_count; /* per boundary 0..depth: values live across it */
} dlm_levels;

/* Levelizes c (which must be topologically ordered, as the IR guarantees). Memory is
 * owned by lv; release with dlm_levels_free. Cost O(nodes * fan-in). */
dlm_status dlm_levelize(const dlm_circuit *c, dlm_levels *lv, dlm_err *err);
/* The same with a progress hook (dlm_progress_fn, NULL for none): four passes over the
 * nodes, told every 2^20 nodes. The same levels. */
dlm_status dlm_levelize_progress(const dlm_circuit *c, dlm_levels *lv, dlm_progress_fn progress, void *ctx,
                                 dlm_err *err);
void dlm_levels_free(dlm_levels *lv);

#ifdef __cplusplus
}
#endif
#endif
