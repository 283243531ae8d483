// hwgen: a stack of recurrent layers and an optional classifier head behind one pair of streams,
// header-only, parameterised by config structs (see the generated hwgen_config.h).
//
// Direction DIR:   lstm_dir<L, H0, C0> (hwgen_lstm.h) or rnn_dir<R, H0> (hwgen_rnn.h): x_t, h_t,
//                  n_in, n_hidden, reverse, and step(x, first, last, init, h): one timestep from
//                  the state the direction holds, which on a sequence's first step it loads from
//                  the state packet init (or leaves at zero, see hwgen_state.h); after the step
//                  that ends its pass over a sequence (last) the state is back at zero.
// Stack layer:     layer<FWD> or layer<FWD, REV>: both directions read the same input; the
//                  layer's output is FWD's n_hidden codes followed by REV's.
// Stack:           stack<LAYER0, LAYER1, ...>: each layer reads the previous layer's output.
// Head config HD:  mv (matvec config over the last step's output), mv_shift, score_t,
//                  bias[classes], class_t; or no_head; or per_step<HD>: HD on every step.
// Design config D: stack, head, max_steps, stateful (streaming only: every direction keeps its
//                  state across a sequence's last step, so a long stream runs in chunks).
//
// max_steps == 0 (every direction forward): streaming; one call of top() per timestep reads x_t
// and runs it through every layer. max_steps > 0: buffered; one call per sequence reads the whole
// sequence (at most max_steps steps; a longer one is cut to its first max_steps, which the
// host must not send), sweeps each layer's directions over it, forward and then reverse, and
// writes the outputs. Either way the output stream carries each step's output of the last layer
// or, with a head, the scores and class of the sequence's last step, or with a per-step head
// (per_step<HD>) every step's scores and class.
//
// A design with initial-state inputs has a second input stream of state packets, one per
// sequence: the streaming top reads it with the sequence's first step, the buffered top before
// the sequence's inputs. Without one (top(in, out)) every direction starts each sequence at zero.
#ifndef HWGEN_STACK_H
#define HWGEN_STACK_H

#include <ap_int.h>

#include <type_traits>

#if defined(HWGEN_STREAM_SIM) || !__has_include(<hls_stream.h>)
#include "hls_stream_sim.h"
#else
#include <hls_stream.h>
#endif

#include "hwgen_kernels.h"
#include "hwgen_gru.h"
#include "hwgen_lstm.h"
#include "hwgen_rnn.h"
#include "hwgen_state.h"

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

// A per-step head's transfer, one per timestep: every score, the first-max class and last (the
// sequence's final step).
template <class SCORE_T, class CLASS_T, unsigned N>
struct step_scores_packet {
    SCORE_T scores[N];
    CLASS_T cls;
    bool last;
};

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

// The absent reverse direction of a unidirectional layer.
struct no_dir {
    static const unsigned n_hidden = 0;
    static const bool reverse = true;
};

// The absent head: the design outputs the last layer's codes at every step.
struct no_head {};

// The head HD applied at every step (task per_step): scores and class of each step.
template <class HD>
struct per_step {};

// Whether two directions read the same input and write the same output type.
template <class A, class B>
struct same_io {
    static const bool value = A::n_in == B::n_in &&
                              std::is_same<typename A::x_t, typename B::x_t>::value &&
                              std::is_same<typename A::h_t, typename B::h_t>::value;
};

template <class A>
struct same_io<A, no_dir> {
    static const bool value = true;
};

// One pass of direction DIR over a buffered sequence of `steps` inputs: forward from the first
// step or, for a reverse direction, from the last, starting from the state packet init; its
// output at step t goes to columns [OFFSET, OFFSET + n_hidden) of y[t].
template <class DIR, unsigned OFFSET, unsigned N_OUT, unsigned MAX>
struct sweep {
    template <class P>
    static void run(const typename DIR::x_t x[MAX][DIR::n_in], unsigned steps, const P &init,
                    typename DIR::h_t y[MAX][N_OUT]) {
    steps:
        for (unsigned k = 0; k < steps; k++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MAX
            const unsigned t = DIR::reverse ? steps - 1 - k : k;
            typename DIR::h_t h[DIR::n_hidden];
#pragma HLS ARRAY_PARTITION variable=h complete
            DIR::step(x[t], k == 0, k == steps - 1, init, h);
        out:
            for (unsigned j = 0; j < DIR::n_hidden; j++) {
#pragma HLS UNROLL
                y[t][OFFSET + j] = h[j];
            }
        }
    }
};

template <unsigned OFFSET, unsigned N_OUT, unsigned MAX>
struct sweep<no_dir, OFFSET, N_OUT, MAX> {
    template <class X, class P, class Y>
    static void run(X, unsigned, const P &, Y) {}
};

// A stack layer: a forward direction and, when bidirectional, a reverse one on the same input.
template <class FWD, class REV = no_dir>
struct layer {
    typedef typename FWD::x_t x_t;
    typedef typename FWD::h_t y_t;
    static const unsigned n_in = FWD::n_in;
    static const unsigned n_out = FWD::n_hidden + REV::n_hidden;
    static const bool bidirectional = !std::is_same<REV, no_dir>::value;
    static_assert(!FWD::reverse, "a layer's first direction is its forward one");
    static_assert(REV::reverse, "a layer's second direction is its reverse one");
    static_assert(same_io<FWD, REV>::value,
                  "both directions read the same input and write one output type");

    // Streaming: one timestep of the forward direction.
    template <class P>
    static void step(const x_t x[n_in], bool first, bool last, const P &init, y_t y[n_out]) {
#pragma HLS INLINE
        static_assert(!bidirectional, "a reverse direction needs a sequence buffer (max_steps)");
        FWD::step(x, first, last, init, y);
    }

    // Buffered: every step of both directions over `steps` inputs.
    template <unsigned MAX, class P>
    static void run(const x_t x[MAX][n_in], unsigned steps, const P &init, y_t y[MAX][n_out]) {
#pragma HLS INLINE
        sweep<FWD, 0, n_out, MAX>::run(x, steps, init, y);
        sweep<REV, FWD::n_hidden, n_out, MAX>::run(x, steps, init, y);
    }
};

// The stack: LAYERS in order, each reading the previous one's whole output.
template <class FIRST, class... REST>
struct stack {
    typedef stack<REST...> rest;
    typedef typename FIRST::x_t x_t;
    typedef typename rest::y_t y_t;
    static const unsigned n_in = FIRST::n_in;
    static const unsigned n_out = rest::n_out;
    static_assert(rest::n_in == FIRST::n_out, "a layer reads the previous layer's whole output");
    static_assert(std::is_same<typename rest::x_t, typename FIRST::y_t>::value,
                  "a layer's input type is the previous layer's output type");

    template <class P>
    static void step(const x_t x[n_in], bool first, bool last, const P &init, y_t y[n_out]) {
#pragma HLS INLINE
        typename FIRST::y_t mid[FIRST::n_out];
#pragma HLS ARRAY_PARTITION variable=mid complete
        FIRST::step(x, first, last, init, mid);
        rest::step(mid, first, last, init, y);
    }

    template <unsigned MAX, class P>
    static void run(const x_t x[MAX][n_in], unsigned steps, const P &init, y_t y[MAX][n_out]) {
#pragma HLS INLINE
        typename FIRST::y_t mid[MAX][FIRST::n_out];
#pragma HLS ARRAY_PARTITION variable=mid complete dim=2
        FIRST::template run<MAX>(x, steps, init, mid);
        rest::template run<MAX>(mid, steps, init, y);
    }
};

template <class LAST>
struct stack<LAST> : LAST {};

// What the design writes: every step's output (no head) or, with head HD, one scores packet
// after a sequence's last step.
template <class HD, class Y_T, unsigned N>
struct output {
    typedef scores_packet<typename HD::score_t, typename HD::class_t, HD::mv::rows> packet_t;
    static const bool every_step = false;
    static_assert(HD::mv::cols == N, "the head reads the last layer's whole output");

    static void put(hls::stream<packet_t> &out, const Y_T y[N], bool last) {
#pragma HLS INLINE
        if (!last) return;
        packet_t p;
        head<HD>(y, p.scores, p.cls);
        out.write(p);
    }
};

template <class HD, class Y_T, unsigned N>
struct output<per_step<HD>, Y_T, N> {
    typedef step_scores_packet<typename HD::score_t, typename HD::class_t, HD::mv::rows> packet_t;
    static const bool every_step = true;
    static_assert(HD::mv::cols == N, "the head reads the last layer's whole output");

    static void put(hls::stream<packet_t> &out, const Y_T y[N], bool last) {
#pragma HLS INLINE
        packet_t p;
        head<HD>(y, p.scores, p.cls);
        p.last = last;
        out.write(p);
    }
};

template <class Y_T, unsigned N>
struct output<no_head, Y_T, N> {
    typedef packet<Y_T, N> packet_t;
    static const bool every_step = true;

    static void put(hls::stream<packet_t> &out, const Y_T y[N], bool last) {
#pragma HLS INLINE
        packet_t p;
#pragma HLS ARRAY_PARTITION variable=p.data complete
    copy:
        for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
            p.data[j] = y[j];
        }
        p.last = last;
        out.write(p);
    }
};

// The stream formats of design D.
template <class D>
struct io {
    typedef typename D::stack S;
    typedef packet<typename S::x_t, S::n_in> in_t;
    typedef output<typename D::head, typename S::y_t, S::n_out> out;
    typedef typename out::packet_t out_t;
};

// run<P>(in, init, out): P is the state packet, init its stream (no_state_in without one).
template <class D, bool BUFFERED = (D::max_steps > 0)>
struct top_impl {
    // Streaming: one call per timestep; a sequence's first step also reads its state packet.
    template <class P, class INIT>
    static void run(hls::stream<typename io<D>::in_t> &in, INIT &init,
                    hls::stream<typename io<D>::out_t> &out) {
#pragma HLS INLINE
        typedef typename D::stack S;
        static bool first = true;
        const typename io<D>::in_t x = in.read();
        P p;  // read only on a first step, when the directions load it
        if (first) p = init.read();
        typename S::y_t y[S::n_out];
#pragma HLS ARRAY_PARTITION variable=y complete
        S::step(x.data, first, x.last && !D::stateful, p, y);  // stateful: keep the state
        io<D>::out::put(out, y, x.last);
        first = x.last;
    }
};

template <class D>
struct top_impl<D, true> {
    // Buffered: one call per sequence; reads its state packet, then its inputs.
    template <class P, class INIT>
    static void run(hls::stream<typename io<D>::in_t> &in, INIT &init,
                    hls::stream<typename io<D>::out_t> &out) {
#pragma HLS INLINE
        typedef typename D::stack S;
        typedef typename io<D>::out O;
        const unsigned MAX = D::max_steps;
        typename S::x_t x[MAX][S::n_in];
        typename S::y_t y[MAX][S::n_out];
#pragma HLS ARRAY_PARTITION variable=x complete dim=2
#pragma HLS ARRAY_PARTITION variable=y complete dim=2
        const P p = init.read();
        unsigned steps = 0;
        bool last = false;
    read:
        while (!last) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MAX
#pragma HLS PIPELINE II=1
            const typename io<D>::in_t p = in.read();
            last = p.last;
            if (steps == MAX) continue;
        copy:
            for (unsigned i = 0; i < S::n_in; i++) {
#pragma HLS UNROLL
                x[steps][i] = p.data[i];
            }
            steps++;
        }
        S::template run<MAX>(x, steps, p, y);
    write:
        for (unsigned t = O::every_step ? 0 : steps - 1; t < steps; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=MAX
            O::put(out, y[t], t == steps - 1);
        }
    }
};

// The design's top: see the notes at the top of this file.
template <class D>
void top(hls::stream<typename io<D>::in_t> &in, hls::stream<typename io<D>::out_t> &out) {
#pragma HLS INLINE
    no_state_in none;
    top_impl<D>::template run<no_state>(in, none, out);
}

// The top of a design with initial-state inputs: one state packet P per sequence on init.
template <class D, class P>
void top(hls::stream<typename io<D>::in_t> &in, hls::stream<P> &init,
         hls::stream<typename io<D>::out_t> &out) {
#pragma HLS INLINE
    top_impl<D>::template run<P>(in, init, out);
}

}  // namespace hwgen

#endif
