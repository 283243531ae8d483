// hwgen: initial states given as an input. A design with initial-state inputs reads one state
// packet per sequence on a second stream; each direction is bound to where its initial h (and,
// for an LSTM, c) comes from: a slice of that packet, or zero.
//
// Packet:  state_packet<slice<T0, N0>, slice<T1, N1>, ...>: slice k holds N_k codes of type T_k.
//          `data` holds slice 0 and `rest` the others, so the fields follow the slices in order;
//          aggregated on an axis port (first field lowest), slice 0's element 0 is in the lowest
//          bits, as design.json's "state" describes the word.
// Sources: zero_init: the direction starts every sequence at zero (it clears its state after a
//          sequence's last step, so there is nothing to load); state_slice<K>: it starts from
//          slice K of the sequence's packet. SRC::load<P, T, N>(packet, s) writes the initial
//          state into s[N].
#ifndef HWGEN_STATE_H
#define HWGEN_STATE_H

#include <type_traits>

namespace hwgen {

// The description of one slice: N codes of type T (no storage; see state_packet).
template <class T, unsigned N>
struct slice {};

template <class... SLICES>
struct state_packet;

template <class T, unsigned N>
struct state_packet<slice<T, N> > {
    typedef T t;
    static const unsigned count = N;
    static const unsigned codes = N;  // of every slice from this one on
    T data[N];
};

template <class T, unsigned N, class NEXT, class... REST>
struct state_packet<slice<T, N>, NEXT, REST...> {
    typedef T t;
    static const unsigned count = N;
    typedef state_packet<NEXT, REST...> rest_t;
    static const unsigned codes = N + rest_t::codes;
    T data[N];
    rest_t rest;
};

// The packet of a design without a state input, and its stand-in stream.
struct no_state {};

struct no_state_in {
    no_state read() { return no_state(); }
};

struct zero_init {
    template <class P, class T, unsigned N>
    static void load(const P &, T[N]) {}
};

template <unsigned K>
struct state_slice {
    template <class P, class T, unsigned N>
    static void load(const P &p, T s[N]) {
#pragma HLS INLINE
        static_assert(!std::is_same<P, no_state>::value,
                      "a direction bound to a state slice needs the design's state input");
        state_slice<K - 1>::template load<typename P::rest_t, T, N>(p.rest, s);
    }
};

template <>
struct state_slice<0> {
    template <class P, class T, unsigned N>
    static void load(const P &p, T s[N]) {
#pragma HLS INLINE
        static_assert(!std::is_same<P, no_state>::value,
                      "a direction bound to a state slice needs the design's state input");
        static_assert(std::is_same<typename P::t, T>::value && P::count == N,
                      "a state slice holds its direction's state: same type, same count");
    copy:
        for (unsigned j = 0; j < N; j++) {
#pragma HLS UNROLL
            s[j] = p.data[j];
        }
    }
};

}  // namespace hwgen

#endif
