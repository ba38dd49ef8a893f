/* jit_nvrtc_std.h — the declarations Random123's array.h takes from <algorithm>,
 * <stdexcept>, <iterator>, <limits> and <iostream> for its C++ conveniences, none of
 * which the JIT kernel calls: NVRTC has no C++ standard library, so these names get this
 * text (kernels/engine_cuda_jit.cu). Declared, never defined: a call would fail to link. */
#ifndef DLM_JIT_NVRTC_STD_H
#define DLM_JIT_NVRTC_STD_H

namespace std {
struct ostream {
    template <class T> __device__ ostream &operator<<(const T &);
};
struct istream {
    template <class T> __device__ istream &operator>>(T &);
};
template <class I> class reverse_iterator {
  public:
    __device__ explicit reverse_iterator(I i) : it(i) {}
    I it;
};
template <class I1, class I2> __device__ bool equal(I1, I1, I2);
template <class O, class S, class T> __device__ O fill_n(O, S, const T &);
template <class I1, class I2> __device__ I2 swap_ranges(I1, I1, I2);
class out_of_range {
  public:
    __device__ explicit out_of_range(const char *) {}
};
} // namespace std

#endif
