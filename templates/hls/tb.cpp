// hwgen C-simulation testbench (fixed; not generated). Writes each sequence's input codes into the
// input stream, calls hwgen_top until it has consumed them (once per timestep for a streaming
// design, once per sequence for a buffered one) and writes every output transfer as a line of
// integer codes. A design with initial-state inputs (HWGEN_STATE_INPUT) also gets each
// sequence's state packet on its state stream, and must read exactly that one.
//
//   tb INPUTS OUTPUTS
//   INPUTS:  the number of sequences, then per sequence its length T, its hwgen_n_state state
//            codes (designs with a state input only; slice by slice, as hwgen_top.h lists them)
//            and T x hwgen_n_in codes, all whitespace-separated decimal integers;
//            T <= hwgen_max_steps when that is not 0.
//   OUTPUTS: one line per output transfer: h_t codes (bare layer), or the class followed by the
//            score codes (a head: once per sequence, or a per-step head's every step).
#include <fstream>
#include <iostream>

#include "hwgen_top.h"

template <int W, bool S>
static long long code(const ap_int_base<W, S> &v) {
    return v.to_int64();
}

template <class T, unsigned N>
static void write_output(std::ostream &os, const hwgen::packet<T, N> &y) {
    for (unsigned k = 0; k < N; k++) os << (k ? " " : "") << code(y.data[k]);
    os << '\n';
}

template <class S, class K, unsigned N>
static void write_output(std::ostream &os, const hwgen::scores_packet<S, K, N> &y) {
    os << code(y.cls);
    for (unsigned k = 0; k < N; k++) os << ' ' << code(y.scores[k]);
    os << '\n';
}

template <class S, class K, unsigned N>
static void write_output(std::ostream &os, const hwgen::step_scores_packet<S, K, N> &y) {
    os << code(y.cls);
    for (unsigned k = 0; k < N; k++) os << ' ' << code(y.scores[k]);
    os << '\n';
}

#ifdef HWGEN_STATE_INPUT
template <class P>
static bool read_slice(std::istream &is, P &p) {
    for (unsigned k = 0; k < P::count; k++) {
        long long v;
        if (!(is >> v)) return false;
        p.data[k] = v;
    }
    return true;
}

template <class T, unsigned N>
static bool read_state(std::istream &is, hwgen::state_packet<hwgen::slice<T, N> > &p) {
    return read_slice(is, p);
}

template <class T, unsigned N, class NEXT, class... REST>
static bool read_state(std::istream &is,
                       hwgen::state_packet<hwgen::slice<T, N>, NEXT, REST...> &p) {
    return read_slice(is, p) && read_state(is, p.rest);
}
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " INPUTS OUTPUTS\n";
        return 2;
    }
    std::ifstream fin(argv[1]);
    std::ofstream fout(argv[2]);
    long long sequences = -1;
    if (!(fin >> sequences) || sequences < 0 || !fout) {
        std::cerr << "tb: cannot read " << argv[1] << " or write " << argv[2] << "\n";
        return 2;
    }
    hls::stream<hwgen_in_t> in("in");
    hls::stream<hwgen_out_t> out("out");
#ifdef HWGEN_STATE_INPUT
    hls::stream<hwgen_state_t> state("state");
#endif
    for (long long s = 0; s < sequences; s++) {
        long long steps = 0;
        if (!(fin >> steps) || steps < 1) {
            std::cerr << "tb: sequence " << s << ": bad length\n";
            return 2;
        }
        if (hwgen_max_steps != 0 && steps > (long long)hwgen_max_steps) {
            std::cerr << "tb: sequence " << s << ": " << steps << " steps, more than the "
                      << hwgen_max_steps << " the design buffers\n";
            return 2;
        }
#ifdef HWGEN_STATE_INPUT
        hwgen_state_t init;
        if (!read_state(fin, init)) {
            std::cerr << "tb: sequence " << s << ": state ends early\n";
            return 2;
        }
        state.write(init);
#endif
        for (long long t = 0; t < steps; t++) {
            hwgen_in_t x;
            for (unsigned i = 0; i < hwgen_n_in; i++) {
                long long v;
                if (!(fin >> v)) {
                    std::cerr << "tb: sequence " << s << ": input ends early\n";
                    return 2;
                }
                x.data[i] = v;
            }
            x.last = t == steps - 1;
            in.write(x);
        }
#ifdef HWGEN_STATE_INPUT
        while (!in.empty()) hwgen_top(in, state, out);
        if (!state.empty()) {
            std::cerr << "tb: sequence " << s << ": the design left its state packet unread\n";
            return 1;
        }
#else
        while (!in.empty()) hwgen_top(in, out);
#endif
        while (!out.empty()) write_output(fout, out.read());
    }
    fout.close();
    return fout ? 0 : 1;
}
