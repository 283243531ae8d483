// hwgen: one direction of a quantized GRU layer, header-only, parameterised by config structs
// (see the generated hwgen_config.h), bit-exact with hwgen.ir.graph.gru_step:
//   r  = gate_r(x_acc, h_acc), z = gate_z(x_acc, h_acc)        (gate() in hwgen_kernels.h)
//   hn = requantize(h_acc_n << hn_shift + hn_bias)              at hidden_acc (hn_t)
//   n  = table(requantize(x_acc_n << x_shift + (r * hn) << rh_shift + n_bias))   new_acc, tanh
//   h' = requantize(((one - z << z_shift) * n) << nz_shift + (z * h) << zh_shift) at io (h_t)
//
// Layer config R:     n_in, n_hidden, reverse, x_t, h_t, x_mv, h_mv (matvec configs over the
//                     reset, update and new gates' rows), gate_r, gate_z (gate configs), gru.
// GRU config N:       hn_shift, hn_sum_t, hn_bias[n_hidden], hn_t, hn_acc_shift, hn_rounding,
//                     hn_min, hn_max; x_shift, rh_shift, n_sum_t, n_bias[n_hidden], n_acc_t,
//                     n_acc_shift, n_rounding, n_acc_min, n_acc_max, n_t, n_table[depth]; one,
//                     omz_t, z_shift, nz_shift, zh_shift, b_sum_t, b_shift, b_rounding, h_min,
//                     h_max.
// Every sum is computed in its sum type, which holds its exact range (derived in Python), so
// terms that wrap on the way cannot change the result.
#ifndef HWGEN_GRU_H
#define HWGEN_GRU_H

#include <ap_int.h>

#include "hwgen_kernels.h"
#include "hwgen_state.h"

namespace hwgen {

// hn and the new gate's tanh codes n for every unit, from the matrix units' results and r.
template <class R>
void gru_new_gate(const typename R::x_mv::acc_t x_acc[R::x_mv::rows],
                  const typename R::h_mv::acc_t h_acc[R::h_mv::rows],
                  const typename R::gate_r::act_t r[R::n_hidden],
                  typename R::gru::n_t n[R::n_hidden]) {
#pragma HLS INLINE
    typedef typename R::gru N;
    const unsigned row = 2 * R::n_hidden;  // the new gate's first row
rows:
    for (unsigned j = 0; j < R::n_hidden; j++) {
#pragma HLS UNROLL
        typename N::hn_sum_t hn_sum = typename N::hn_sum_t(h_acc[row + j]) << N::hn_shift;
        hn_sum += typename N::hn_sum_t(N::hn_bias[j]);
        const typename N::hn_t hn = requantize<typename N::hn_t, N::hn_acc_shift, N::hn_rounding,
                                               N::hn_min, N::hn_max>(hn_sum);
        typename N::n_sum_t sum = typename N::n_sum_t(x_acc[row + j]) << N::x_shift;
        sum += typename N::n_sum_t(r[j] * hn) << N::rh_shift;
        sum += typename N::n_sum_t(N::n_bias[j]);
        const typename N::n_acc_t q = requantize<typename N::n_acc_t, N::n_acc_shift,
                                                 N::n_rounding, N::n_acc_min,
                                                 N::n_acc_max>(sum);
        n[j] = lookup<typename N::n_t, N::n_acc_min>(N::n_table, q);
    }
}

// h' = io((1 - z) * n + z * h) for every unit.
template <class R>
void gru_blend(const typename R::gate_z::act_t z[R::n_hidden],
               const typename R::gru::n_t n[R::n_hidden], const typename R::h_t h[R::n_hidden],
               typename R::h_t h_new[R::n_hidden]) {
#pragma HLS INLINE
    typedef typename R::gru N;
rows:
    for (unsigned j = 0; j < R::n_hidden; j++) {
#pragma HLS UNROLL
        const typename N::omz_t omz =
            typename N::omz_t(N::one) - (typename N::omz_t(z[j]) << N::z_shift);
        typename N::b_sum_t sum = typename N::b_sum_t(omz * n[j]) << N::nz_shift;
        sum += typename N::b_sum_t(z[j] * h[j]) << N::zh_shift;
        h_new[j] = requantize<typename R::h_t, N::b_shift, N::b_rounding, N::h_min,
                              N::h_max>(sum);
    }
}

// A direction of a GRU layer (the direction interface of hwgen_stack.h): step() advances the
// state it holds across calls and returns h_t. On a sequence's first step (first) it loads its
// initial h from H0 (hwgen_state.h); after the step that ends its pass over a sequence (last)
// the state is back at zero for the next sequence.
template <class R, class H0 = zero_init>
struct gru_dir {
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
        typename R::gate_r::act_t r[n_hidden];
        typename R::gate_z::act_t z[n_hidden];
        typename R::gru::n_t n[n_hidden];
        matvec<typename R::x_mv>(x, R::x_mv::weights, x_acc);
        matvec<typename R::h_mv>(h, R::h_mv::weights, h_acc);
        gate<typename R::gate_r, typename R::x_mv, typename R::h_mv, n_hidden>(x_acc, h_acc, r);
        gate<typename R::gate_z, typename R::x_mv, typename R::h_mv, n_hidden>(x_acc, h_acc, z);
        gru_new_gate<R>(x_acc, h_acc, r, n);
        gru_blend<R>(z, n, h, h_out);
    state:
        for (unsigned j = 0; j < n_hidden; j++) {
#pragma HLS UNROLL
            h[j] = last ? h_t(0) : h_out[j];
        }
    }
};

}  // namespace hwgen

#endif
