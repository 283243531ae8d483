// hwgen: integer kernels shared by every stage: requantizer, lookup table, folded matrix-vector
// unit, gate (sum + quantizer + table). Header-only; every size, type and constant comes from a
// config struct or template argument, so a generated design holds only those structs, its data
// arrays and a top function.
//
// Exactness: every intermediate is held in an ap_int wide enough for its full value range, so
// these functions give the same codes as hwgen's int64 reference kernels (hwgen/reference).
#ifndef HWGEN_KERNELS_H
#define HWGEN_KERNELS_H

#include <ap_int.h>
#include <stdint.h>

namespace hwgen {

// The element type of a constant data array (weights, biases, tables) of codes of type T.
// Synthesis stores T itself, so every ROM has the exact width; C simulation stores the smallest
// builtin integer holding T, whose constant initialisers g++ compiles far faster than thousands
// of ap_int constructors. Every use converts the element to T, so the values are the same.
#ifdef __SYNTHESIS__
template <class T>
struct rom {
    typedef T type;
};
#else
template <int BITS, bool SIGNED>
struct builtin_int;
template <> struct builtin_int<8, true> { typedef int8_t type; };
template <> struct builtin_int<16, true> { typedef int16_t type; };
template <> struct builtin_int<32, true> { typedef int32_t type; };
template <> struct builtin_int<64, true> { typedef int64_t type; };
template <> struct builtin_int<8, false> { typedef uint8_t type; };
template <> struct builtin_int<16, false> { typedef uint16_t type; };
template <> struct builtin_int<32, false> { typedef uint32_t type; };
template <> struct builtin_int<64, false> { typedef uint64_t type; };

template <int W>
struct builtin_bits {
    static const int value = W <= 8 ? 8 : W <= 16 ? 16 : W <= 32 ? 32 : 64;
};

template <class T>
struct rom;
template <int W>
struct rom<ap_int<W> > {
    typedef typename builtin_int<builtin_bits<W>::value, true>::type type;
};
template <int W>
struct rom<ap_uint<W> > {
    typedef typename builtin_int<builtin_bits<W>::value, false>::type type;
};
#endif

// Rounding of a right shift; the codes are the ones hwgen.types.Rounding.code assigns.
enum rounding_mode { ROUND_HALF_EVEN = 0, ROUND_FLOOR = 1, ROUND_CEIL = 2, ROUND_TO_ZERO = 3 };

template <int A, int B>
struct max_int {
    static const int value = A > B ? A : B;
};

template <int A>
struct abs_int {
    static const int value = A < 0 ? -A : A;
};

// x * 2^-SHIFT, rounded as ROUNDING, then clamped to [MIN, MAX]. A negative SHIFT is an exact
// left shift. The working width holds x, the shifted x and the remainder of the division.
template <class OUT_T, int SHIFT, int ROUNDING, long long MIN, long long MAX, int W, bool S>
OUT_T requantize(const ap_int_base<W, S> &x) {
#pragma HLS INLINE
    typedef ap_int<W + abs_int<SHIFT>::value + 2> wide_t;
    const wide_t v = x;
    wide_t q;
    if (SHIFT <= 0) {
        q = v << (SHIFT <= 0 ? -SHIFT : 0);
    } else {
        const int s = SHIFT > 0 ? SHIFT : 1;
        const wide_t down = v >> s;  // arithmetic shift: floor division by 2^s
        const wide_t rem = v - (down << s);  // in [0, 2^s)
        const wide_t half = wide_t(1) << (s - 1);
        bool up;
        switch (ROUNDING) {
            case ROUND_FLOOR: up = false; break;
            case ROUND_CEIL: up = rem != 0; break;
            case ROUND_TO_ZERO: up = rem != 0 && v < 0; break;
            default: up = rem > half || (rem == half && down[0] == 1); break;
        }
        q = down + wide_t(up ? 1 : 0);
    }
    if (q < wide_t(MIN)) return OUT_T(MIN);
    if (q > wide_t(MAX)) return OUT_T(MAX);
    return OUT_T(q);
}

// x clamped to [MIN, MAX] of OUT_T, for sums that need no shift.
template <class OUT_T, long long MIN, long long MAX, int W, bool S>
OUT_T saturate(const ap_int_base<W, S> &x) {
#pragma HLS INLINE
    return requantize<OUT_T, 0, ROUND_FLOOR, MIN, MAX>(x);
}

// table[x - IN_MIN]: a table holding one entry for every code of the index type.
template <class OUT_T, long long IN_MIN, int W, bool S>
OUT_T lookup(const typename rom<OUT_T>::type *table, const ap_int_base<W, S> &x) {
#pragma HLS INLINE
    typedef ap_int<max_int<W, 64>::value + 2> index_t;
    const index_t index = index_t(x) - index_t(IN_MIN);
    return OUT_T(table[index.to_uint64()]);
}

// out = W x for CFG: rows, cols, pe, simd, in_t, w_t, acc_t. Each pipelined iteration of the
// column-fold loop multiplies a PE x SIMD tile; a row fold ends after cols / simd iterations.
// acc_t holds every partial sum: each term's range contains 0, so a partial sum's range lies
// inside the full sum's range, which acc_t covers exactly.
template <class CFG>
void matvec(const typename CFG::in_t x[CFG::cols],
            const typename rom<typename CFG::w_t>::type w[CFG::rows][CFG::cols],
            typename CFG::acc_t out[CFG::rows]) {
    const unsigned PE = CFG::pe;
    const unsigned SIMD = CFG::simd;
    const unsigned ROW_FOLDS = CFG::rows / CFG::pe;
    const unsigned COL_FOLDS = CFG::cols / CFG::simd;
#pragma HLS ARRAY_PARTITION variable=w cyclic factor=PE dim=1
#pragma HLS ARRAY_PARTITION variable=w cyclic factor=SIMD dim=2
#pragma HLS ARRAY_PARTITION variable=x cyclic factor=SIMD
#pragma HLS ARRAY_PARTITION variable=out cyclic factor=PE
    typename CFG::acc_t acc[CFG::pe];
#pragma HLS ARRAY_PARTITION variable=acc complete
row_fold:
    for (unsigned nf = 0; nf < ROW_FOLDS; nf++) {
    col_fold:
        for (unsigned sf = 0; sf < COL_FOLDS; sf++) {
#pragma HLS PIPELINE II=1
        pe:
            for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
                typename CFG::acc_t a = 0;
                if (sf != 0) a = acc[p];
            simd:
                for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
                    a += typename CFG::w_t(w[nf * PE + p][sf * SIMD + s]) * x[sf * SIMD + s];
                }
                acc[p] = a;
                if (sf == COL_FOLDS - 1) out[nf * PE + p] = a;
            }
        }
    }
}

// act = table(requantize(x_acc << x_shift + h_acc << h_shift + bias)) for one gate's N rows.
// Gate config G: first_row (its first row in the stacked matrix units), x_shift, h_shift, sum_t,
// bias[N], acc_t + acc_shift/rounding/acc_min/acc_max (the gate quantizer), act_t,
// table[depth] (the activation over every acc_t code). An LSTM has one per gate; a plain RNN
// has one whose table maps straight to hidden-state codes.
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
        const tmp_t total = (tmp_t(x_acc[G::first_row + j]) << G::x_shift) +
                            (tmp_t(h_acc[G::first_row + j]) << G::h_shift) +
                            tmp_t(typename G::sum_t(G::bias[j]));
        const typename G::sum_t sum = total;  // exact: sum_t covers every reachable sum
        const typename G::acc_t q = requantize<typename G::acc_t, G::acc_shift, G::rounding,
                                               G::acc_min, G::acc_max>(sum);
        act[j] = lookup<typename G::act_t, G::acc_min>(G::table, q);
    }
}

}  // namespace hwgen

#endif
