// hwgen: the embedding lookup of a token-input design, header-only, as the first entry of
// hwgen::stack (it has a stack layer's interface: x_t, y_t, n_in = 1, n_out, step and run).
//
// Embedding config E: token_t (the token id's type), y_t (the first layer's input type), vocab,
// dim, table[vocab][dim] (each token's row, already re-quantized to y_t's scale). step(x, ...)
// writes table[x[0]]: one table read per timestep; run(x, steps, ...) does it for every step of a
// buffered sequence. A token id >= vocab reads no defined row (the reference refuses such ids).
#ifndef HWGEN_EMBED_H
#define HWGEN_EMBED_H

#include "hwgen_stack.h"

namespace hwgen {

template <class E>
struct embed {
    typedef typename E::token_t x_t;
    typedef typename E::y_t y_t;
    static const unsigned n_in = 1;
    static const unsigned n_out = E::dim;

    template <class P>
    static void step(const x_t x[1], bool, bool, const P &, y_t y[n_out]) {
#pragma HLS INLINE
        const unsigned t = x[0];
    row:
        for (unsigned j = 0; j < n_out; j++) {
#pragma HLS UNROLL
            y[j] = E::table[t][j];
        }
    }

    template <unsigned MAX, class P>
    static void run(const x_t x[MAX][1], unsigned steps, const P &init, y_t y[MAX][n_out]) {
#pragma HLS INLINE
    steps:
        for (unsigned k = 0; k < steps; k++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MAX
            step(x[k], k == 0, k == steps - 1, init, y[k]);
        }
    }
};

}  // namespace hwgen

#endif
