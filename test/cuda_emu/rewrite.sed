# rewrite.sed — the two CUDA constructs g++ cannot parse, rewritten mechanically for the
# CPU emulation (test/cuda_emu/cuda_runtime.h); every other character of the .cu file is
# compiled as written, and the line count is kept (messages name the .cu lines).
#   k<<<g, b[, s]>>>(args)         ->  ::dlm_emu::launch("k", k, g, b[, s])(args)
#   extern __shared__ T x[];       ->  T *const x = block's dynamic shared memory
#   __shared__ T x[N];             ->  T (&x)[N] = this block's copy of x
s/([A-Za-z_][A-Za-z_0-9]*)<<<(.*)>>>\(/::dlm_emu::launch("\1", \1, \2)(/
s/extern __shared__ ([A-Za-z_0-9 ]+) ([A-Za-z_0-9]+)\[\];/\1 *const \2 = static_cast<\1 *>(::dlm_emu::dynamic_shared());/
s/__shared__ ([A-Za-z_0-9 ]+) ([A-Za-z_0-9]+)\[([A-Za-z_0-9 *+]+)\];/static const char \2_emu_tag_ = 0; \1(\&\2)[\3] = ::dlm_emu::shared_object<\1[\3]>(\&\2_emu_tag_);/
