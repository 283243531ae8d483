// hwgen: one direction of a quantized LSTM layer, header-only, parameterised by config structs
// (see the generated hwgen_config.h for one instance of each).
//
// Layer config L:     n_in, n_hidden, reverse, slots, cifg, x_t, h_t, c_t, x_mv, h_mv (matvec configs),
//                     gate_i, gate_f (absent under CIFG), gate_c, gate_o (gate configs, see gate()
//                     in hwgen_kernels.h), cell, tanh_c, hidden.
// Cell config C:      f_t, i_t, g_t, c_t, fc_shift, ig_shift, rounding, c_min, c_max, one.
// Table config T:     in_t, out_t, in_min, depth, table[depth].
// Hidden config O:    o_t, t_t, h_t, shift, rounding, h_min, h_max.
#ifndef HWGEN_LSTM_H
#define HWGEN_LSTM_H

#include <ap_int.h>

#include "hwgen_kernels.h"
#include "hwgen_state.h"

namespace hwgen {

// The forget activation: its own gate, or under CIFG the constant ONE minus the input gate.
template <class L, bool CIFG>
struct forget_gate {
    static void run(const typename L::x_mv::acc_t x_acc[L::x_mv::rows],
                    const typename L::h_mv::acc_t h_acc[L::h_mv::rows],
                    const typename L::cell::i_t act_i[L::n_hidden],
                    typename L::cell::f_t act_f[L::n_hidden]) {
#pragma HLS INLINE
        gate<typename L::gate_f, typename L::x_mv, typename L::h_mv, L::n_hidden>(x_acc, h_acc,
                                                                                 act_f);
    }
};

template <class L>
struct forget_gate<L, true> {
    static void run(const typename L::x_mv::acc_t x_acc[L::x_mv::rows],
                    const typename L::h_mv::acc_t h_acc[L::h_mv::rows],
                    const typename L::cell::i_t act_i[L::n_hidden],
                    typename L::cell::f_t act_f[L::n_hidden]) {
#pragma HLS INLINE
    rows:
        for (unsigned j = 0; j < L::n_hidden; j++) {
#pragma HLS UNROLL
            act_f[j] = typename L::cell::f_t(L::cell::one) - act_i[j];  // f_t holds ONE - i exactly
        }
    }
};

// c' = sat(rq(f * c) + rq(i * g)).
template <class C, unsigned N>
void cell_update(const typename C::f_t f[N], const typename C::i_t i[N],
                 const typename C::g_t g[N], const typename C::c_t c_old[N],
                 typename C::c_t c_new[N]) {
#pragma HLS INLINE
    typedef typename C::c_t c_t;
    typedef ap_int<c_t::width + 2> pair_t;
rows:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        const c_t fc =
            requantize<c_t, C::fc_shift, C::rounding, C::c_min, C::c_max>(f[j] * c_old[j]);
        const c_t ig = requantize<c_t, C::ig_shift, C::rounding, C::c_min, C::c_max>(i[j] * g[j]);
        c_new[j] = saturate<c_t, C::c_min, C::c_max>(pair_t(pair_t(fc) + pair_t(ig)));
    }
}

// out = table(x) elementwise.
template <class T, unsigned N>
void table_vec(const typename T::in_t x[N], typename T::out_t out[N]) {
#pragma HLS INLINE
rows:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        out[j] = lookup<typename T::out_t, T::in_min>(T::table, x[j]);
    }
}

// h' = rq(o * tanh(c')).
template <class O, unsigned N>
void hidden_out(const typename O::o_t o[N], const typename O::t_t t[N], typename O::h_t h[N]) {
#pragma HLS INLINE
rows:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        h[j] = requantize<typename O::h_t, O::shift, O::rounding, O::h_min, O::h_max>(o[j] * t[j]);
    }
}

// One timestep: (x, h, c) -> (h', c').
template <class L>
void lstm_step(const typename L::x_t x[L::n_in], const typename L::h_t h[L::n_hidden],
               const typename L::c_t c[L::n_hidden], typename L::h_t h_new[L::n_hidden],
               typename L::c_t c_new[L::n_hidden]) {
#pragma HLS INLINE
    const unsigned H = L::n_hidden;
    typename L::x_mv::acc_t x_acc[L::x_mv::rows];
    typename L::h_mv::acc_t h_acc[L::h_mv::rows];
    typename L::gate_i::act_t act_i[H];
    typename L::cell::f_t act_f[H];
    typename L::gate_c::act_t act_g[H];
    typename L::gate_o::act_t act_o[H];
    typename L::tanh_c::out_t tanh_c[H];
#pragma HLS ARRAY_PARTITION variable=act_i complete
#pragma HLS ARRAY_PARTITION variable=act_f complete
#pragma HLS ARRAY_PARTITION variable=act_g complete
#pragma HLS ARRAY_PARTITION variable=act_o complete
#pragma HLS ARRAY_PARTITION variable=tanh_c complete
    matvec<typename L::x_mv>(x, L::x_mv::weights, x_acc);
    matvec<typename L::h_mv>(h, L::h_mv::weights, h_acc);
    gate<typename L::gate_i, typename L::x_mv, typename L::h_mv, H>(x_acc, h_acc, act_i);
    forget_gate<L, L::cifg>::run(x_acc, h_acc, act_i, act_f);
    gate<typename L::gate_c, typename L::x_mv, typename L::h_mv, H>(x_acc, h_acc, act_g);
    gate<typename L::gate_o, typename L::x_mv, typename L::h_mv, H>(x_acc, h_acc, act_o);
    cell_update<typename L::cell, H>(act_f, act_i, act_g, c, c_new);
    table_vec<typename L::tanh_c, H>(c_new, tanh_c);
    hidden_out<typename L::hidden, H>(act_o, tanh_c, h_new);
}

// A direction of an LSTM layer (the direction interface of hwgen_stack.h): step() advances the
// state it holds across calls and returns h_t. On a sequence's first step (first) it loads its
// initial h and c from H0 and C0 (hwgen_state.h); after the step that ends its pass over a
// sequence (last) the state is back at zero for the next sequence.
template <class L, class H0 = zero_init, class C0 = zero_init>
struct lstm_dir {
    typedef typename L::x_t x_t;
    typedef typename L::h_t h_t;
    static const unsigned n_in = L::n_in;
    static const unsigned n_hidden = L::n_hidden;
    static const bool reverse = L::reverse;

    // P: the design's state packet (one type per design, so one set of static state).
    template <class P>
    static void step(const x_t x[n_in], bool first, bool last, const P &init,
                     h_t h_out[n_hidden]) {
#pragma HLS INLINE
        // Static storage starts at zero (C++ and Vitis HLS alike): the state of the first
        // sequence.
        // With L::slots > 1 that many sequences (starting at zero) take turns, one step each in
        // slot order (hwgen_lstm_ilv_ctrl.sv's stream protocol): one state per slot.
        static h_t h[L::slots][n_hidden];
        static typename L::c_t c[L::slots][n_hidden];
        static unsigned slot = 0;
#pragma HLS ARRAY_PARTITION variable=h complete dim=2
#pragma HLS ARRAY_PARTITION variable=c complete dim=2
        if (first) {
            H0::template load<P, h_t, n_hidden>(init, h[slot]);
            C0::template load<P, typename L::c_t, n_hidden>(init, c[slot]);
        }
        typename L::c_t c_new[n_hidden];
#pragma HLS ARRAY_PARTITION variable=c_new complete
        lstm_step<L>(x, h[slot], c[slot], h_out, c_new);
    state:
        for (unsigned j = 0; j < n_hidden; j++) {
#pragma HLS UNROLL
            h[slot][j] = last ? h_t(0) : h_out[j];
            c[slot][j] = last ? typename L::c_t(0) : c_new[j];
        }
        slot = slot + 1 == L::slots ? 0 : slot + 1;
    }
};

}  // namespace hwgen

#endif
