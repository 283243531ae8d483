// hwgen: one direction of a quantized plain RNN layer, header-only, parameterised by a config
// struct (see the generated hwgen_config.h):
//
// Layer config R:     n_in, n_hidden, reverse, x_t, h_t, x_mv, h_mv (matvec configs), sum (a gate
//                     config, see gate() in hwgen_kernels.h, whose table maps the accumulator
//                     codes straight to hidden-state codes: tanh or relu, quantized).
//
// h' = table(requantize(Wx x << x_shift + Wh h << h_shift + bias)).
#ifndef HWGEN_RNN_H
#define HWGEN_RNN_H

#include <ap_int.h>

#include "hwgen_kernels.h"
#include "hwgen_state.h"

namespace hwgen {

// A direction of a plain RNN layer (the direction interface of hwgen_stack.h): step() advances
// the state it holds across calls and returns h_t. On a sequence's first step (first) it loads
// its initial h from H0 (hwgen_state.h); after the step that ends its pass over a sequence (last)
// the state is back at zero for the next sequence.
template <class R, class H0 = zero_init>
struct rnn_dir {
    typedef typename R::x_t x_t;
    typedef typename R::h_t h_t;
    static const unsigned n_in = R::n_in;
    static const unsigned n_hidden = R::n_hidden;
    static const bool reverse = R::reverse;

    // P: the design's state packet (one type per design, so one set of static state).
    template <class P>
    static void step(const x_t x[n_in], bool first, bool last, const P &init,
                     h_t h_out[n_hidden]) {
#pragma HLS INLINE
        // Static storage starts at zero (C++ and Vitis HLS alike): the state of the first
        // sequence.
        static h_t h[n_hidden];
#pragma HLS ARRAY_PARTITION variable=h complete
        if (first) H0::template load<P, h_t, n_hidden>(init, h);
        typename R::x_mv::acc_t x_acc[R::x_mv::rows];
        typename R::h_mv::acc_t h_acc[R::h_mv::rows];
        matvec<typename R::x_mv>(x, R::x_mv::weights, x_acc);
        matvec<typename R::h_mv>(h, R::h_mv::weights, h_acc);
        gate<typename R::sum, typename R::x_mv, typename R::h_mv, n_hidden>(x_acc, h_acc, h_out);
    state:
        for (unsigned j = 0; j < n_hidden; j++) {
#pragma HLS UNROLL
            h[j] = last ? h_t(0) : h_out[j];
        }
    }
};

}  // namespace hwgen

#endif
