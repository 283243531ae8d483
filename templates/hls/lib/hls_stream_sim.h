// hwgen: a minimal software stand-in for hls::stream, used for C simulation only when the
// vendor's hls_stream.h is not on the include path. A FIFO of unbounded depth; reading an empty
// stream is a testbench bug, so it stops the simulation instead of returning garbage.
#ifndef HWGEN_HLS_STREAM_SIM_H
#define HWGEN_HLS_STREAM_SIM_H

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <class T>
class stream {
  public:
    stream() {}
    explicit stream(const char *name) : name_(name) {}

    bool empty() const { return items_.empty(); }
    bool full() const { return false; }
    std::size_t size() const { return items_.size(); }

    void write(const T &value) { items_.push_back(value); }

    T read() {
        if (items_.empty()) {
            std::fprintf(stderr, "hls::stream '%s': read from an empty stream\n", name_.c_str());
            std::exit(3);
        }
        T value = items_.front();
        items_.pop_front();
        return value;
    }

    void read(T &value) { value = read(); }
    bool read_nb(T &value) {
        if (items_.empty()) return false;
        value = read();
        return true;
    }
    bool write_nb(const T &value) {
        write(value);
        return true;
    }

  private:
    stream(const stream &);  // a stream is a channel, never a value
    stream &operator=(const stream &);

    std::deque<T> items_;
    std::string name_;
};

}  // namespace hls

#endif
