// hwgen: the quantized LSTM layer and classifier head, header-only, parameterised by config
// structs (see the generated hwgen_config.h for one instance of each).
//
// Layer config L:     n_in, n_hidden, cifg, x_t, h_t, c_t, x_mv, h_mv (matvec configs),
//                     gate_i, gate_f (absent under CIFG), gate_c, gate_o (gate configs),
//                     cell, tanh_c, hidden.
// Gate config G:      block (row block of the stacked matrix units), x_shift, h_shift, sum_t,
//                     bias[n], acc_t + acc_shift/rounding/acc_min/acc_max (the gate quantizer),
//                     act_t, table[depth] (the activation over every acc_t code).
// Cell config C:      f_t, i_t, g_t, c_t, fc_shift, ig_shift, rounding, c_min, c_max, one.
// Table config T:     in_t, out_t, in_min, depth, table[depth].
// Hidden config O:    o_t, t_t, h_t, shift, rounding, h_min, h_max.
// Head config HD:     mv (matvec config over h), mv_shift, score_t, bias[classes], class_t.
#ifndef HWGEN_LSTM_H
#define HWGEN_LSTM_H

#include <ap_int.h>

#if defined(HWGEN_STREAM_SIM) || !__has_include(<hls_stream.h>)
#include "hls_stream_sim.h"
#else
#include <hls_stream.h>
#endif

#include "hwgen_kernels.h"

namespace hwgen {

// One stream transfer of N codes; last marks a sequence's final timestep.
template <class T, unsigned N>
struct packet {
    T data[N];
    bool last;
};

// The classifier's one transfer per sequence: every score and the first-max class.
template <class SCORE_T, class CLASS_T, unsigned N>
struct scores_packet {
    SCORE_T scores[N];
    CLASS_T cls;
};

// act = table(requantize(x_acc << x_shift + h_acc << h_shift + bias)) for one gate's rows.
template <class G, class XMV, class HMV, unsigned N>
void gate(const typename XMV::acc_t x_acc[XMV::rows], const typename HMV::acc_t h_acc[HMV::rows],
          typename G::act_t act[N]) {
#pragma HLS INLINE
    static const int TMP_W =
        max_int<max_int<XMV::acc_t::width + G::x_shift, HMV::acc_t::width + G::h_shift>::value,
                G::sum_t::width>::value + 3;
    typedef ap_int<TMP_W> tmp_t;
rows:
    for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
        const tmp_t total = (tmp_t(x_acc[G::block * N + j]) << G::x_shift) +
                            (tmp_t(h_acc[G::block * N + j]) << G::h_shift) +
                            tmp_t(typename G::sum_t(G::bias[j]));
        const typename G::sum_t sum = total;  // exact: sum_t covers every reachable sum
        const typename G::acc_t q = requantize<typename G::acc_t, G::acc_shift, G::rounding,
                                               G::acc_min, G::acc_max>(sum);
        act[j] = lookup<typename G::act_t, G::acc_min>(G::table, q);
    }
}

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

// scores = (W h) << mv_shift + bias; cls = index of the first maximum (torch.argmax's rule).
template <class HD>
void head(const typename HD::mv::in_t h[HD::mv::cols], typename HD::score_t scores[HD::mv::rows],
          typename HD::class_t &cls) {
#pragma HLS INLINE
    typedef typename HD::mv mv;
    typedef ap_int<max_int<mv::acc_t::width + HD::mv_shift, HD::score_t::width>::value + 2> tmp_t;
    typename mv::acc_t acc[mv::rows];
#pragma HLS ARRAY_PARTITION variable=acc complete
    matvec<mv>(h, mv::weights, acc);
scores:
    for (unsigned k = 0; k < mv::rows; k++) {
#pragma HLS UNROLL
        const tmp_t bias = typename HD::score_t(HD::bias[k]);
        scores[k] = tmp_t((tmp_t(acc[k]) << HD::mv_shift) + bias);
    }
    unsigned best = 0;
argmax:
    for (unsigned k = 1; k < mv::rows; k++) {
#pragma HLS UNROLL
        if (scores[k] > scores[best]) best = k;  // strict: ties keep the first index
    }
    cls = best;
}

// Reads x_t, advances the state held across calls, returns h_t and whether x_t was the last
// step of its sequence; the state is back at zero for the next sequence after a last step.
template <class L>
bool lstm_advance(hls::stream<packet<typename L::x_t, L::n_in> > &in,
                  typename L::h_t h_out[L::n_hidden]) {
#pragma HLS INLINE
    // Static storage starts at zero (C++ and Vitis HLS alike): the state of the first sequence.
    static typename L::h_t h[L::n_hidden];
    static typename L::c_t c[L::n_hidden];
#pragma HLS ARRAY_PARTITION variable=h complete
#pragma HLS ARRAY_PARTITION variable=c complete
    const packet<typename L::x_t, L::n_in> x = in.read();
    typename L::c_t c_new[L::n_hidden];
#pragma HLS ARRAY_PARTITION variable=c_new complete
    lstm_step<L>(x.data, h, c, h_out, c_new);
state:
    for (unsigned j = 0; j < L::n_hidden; j++) {
#pragma HLS UNROLL
        h[j] = x.last ? typename L::h_t(0) : h_out[j];
        c[j] = x.last ? typename L::c_t(0) : c_new[j];
    }
    return x.last;
}

// Bare layer: one call per timestep, h_t out for every x_t in.
template <class L>
void lstm_hidden_top(hls::stream<packet<typename L::x_t, L::n_in> > &in,
                     hls::stream<packet<typename L::h_t, L::n_hidden> > &out) {
#pragma HLS INLINE
    packet<typename L::h_t, L::n_hidden> y;
#pragma HLS ARRAY_PARTITION variable=y.data complete
    y.last = lstm_advance<L>(in, y.data);
    out.write(y);
}

// Classifier: one call per timestep; after a sequence's last step, its scores and class out.
template <class L, class HD>
void lstm_classifier_top(hls::stream<packet<typename L::x_t, L::n_in> > &in,
                         hls::stream<scores_packet<typename HD::score_t, typename HD::class_t,
                                                   HD::mv::rows> > &out) {
#pragma HLS INLINE
    typename L::h_t h[L::n_hidden];
#pragma HLS ARRAY_PARTITION variable=h complete
    if (!lstm_advance<L>(in, h)) return;
    scores_packet<typename HD::score_t, typename HD::class_t, HD::mv::rows> y;
    head<HD>(h, y.scores, y.cls);
    out.write(y);
}

}  // namespace hwgen

#endif
