/* emu.cc — the CUDA emulation's runtime (tests only; docs/gpu.md, "The CPU emulation").
 *
 * A fake device behind the runtime calls of cuda_runtime.h, and the execution of
 * kernels compiled by g++ from the .cu files in kernels/:
 *
 *   device     one device (or none, or an old driver: DLM_EMU_DEVICE, dlm_emu.h) with
 *              DLM_EMU_MEM_MB of memory counted in 2 MiB pages, DLM_EMU_SMS
 *              multiprocessors and H100 limits (227 KiB opt-in shared memory per block,
 *              48 KiB without the attribute, 2048 threads and 64 Ki registers per SM).
 *   memory     every allocation its own mapping, its end against an inaccessible guard
 *              page (an overrun by a kernel faults), filled with garbage; memcpy and
 *              memset check the direction and that the range lies inside one
 *              allocation; cudaFree takes only a pointer cudaMalloc returned; device
 *              memory still allocated at exit fails the process.
 *   launches   synchronous: the configuration is checked as the runtime does (errors
 *              reported by cudaGetLastError), then the blocks run one after another.
 *   threads    every thread of a block is a fiber with its own stack (guard page
 *              below). A thread runs until it reaches __syncthreads or a warp
 *              collective; the barrier releases when every thread of the block (every
 *              lane of the mask) has arrived at the same one. A thread that exits
 *              while others wait, threads at different barriers, a mask without the
 *              caller's lane, lanes of one mask at different collectives, and a
 *              deadlock end the process with a message naming kernel, block, threads
 *              and source lines; so does a SIGSEGV or SIGBUS in a kernel's thread (one
 *              line with the faulting address and the guard it hit). preempt() (not
 *              CUDA, for test/cuda_emu/mutants.sh) lets the other warps run first.
 *   shared     dynamic and static shared memory are per block, filled with garbage at
 *              the start of every block; dynamic shared memory ends at a guard page.
 *   libraries  cudaLibraryLoadData opens the emulated NVRTC's shared object (nvrtc.h)
 *              with dlopen; cudaLibraryGetKernel("NAME") finds NAME and its launcher
 *              NAME_emu (include/dlm_jit_cuda.h, DLM_JIT_KERNEL); cudaLaunchKernel runs
 *              the launcher, a launch as any other. Kernel handles stand for NAME in
 *              the function attributes (maxThreadsPerBlock 256: __launch_bounds__).
 *
 * All state is one emulated device (`dev`), as the CUDA runtime's own; one OS thread
 * runs a launch at a time (a mutex), fibers are switched cooperatively, so atomics are
 * plain read-modify-writes. Not emulated: timing, the memory model (no reordering, no
 * weak visibility), lockstep execution inside a warp, bank conflicts, registers.
 */
#include "cuda_runtime.h"
#include "dlm_emu.h"

#include <dlfcn.h>
#include <elf.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

/* A library that cudaLibraryLoadData loaded (a shared object from the emulated NVRTC,
 * nvrtc.cc), and a kernel in it: DLM_JIT_KERNEL(NAME) (include/dlm_jit_cuda.h) defines
 * NAME_kernel and its launcher NAME_kernel_emu. */
typedef void (*dlm_emu_jit_launcher)(dim3 grid, dim3 block, size_t shmem, void **args);
struct CUkern_st {
    cudaLibrary_t lib;
    std::string name;
    dlm_emu_jit_launcher launch;
    const void *fn; /* NAME_kernel in the library: the key of its attributes (max_dyn) */
};
struct CUlib_st {
    void *dl;
    std::vector<CUkern_st *> kernels;
};

namespace dlm_emu {

const thread_view *current = nullptr;

namespace {

// ---------------------------------------------------------------- constants

constexpr size_t PAGE_GRANULE = size_t(2) << 20;    /* device allocation granularity */
constexpr int OPTIN_SHARED = 232448;                 /* 227 KiB per block, opt-in */
constexpr int DEFAULT_SHARED = 49152;                /* 48 KiB without the attribute */
constexpr int SM_SHARED = 233472;                    /* 228 KiB per SM */
constexpr int SM_THREADS = 2048, SM_BLOCKS = 32, SM_REGS = 65536;
constexpr int REGS_PER_THREAD = 64;                  /* assumed for every kernel */
constexpr int JIT_MAX_THREADS = 256;                 /* DLM_JIT_KERNEL's __launch_bounds__(256) */
constexpr size_t STATIC_SHARED = 256;                /* static shared bytes a kernel may use */
constexpr size_t FIBER_STACK = size_t(256) << 10;
constexpr int DRIVER_OK = 13000, DRIVER_OLD = 12040;

[[noreturn]] void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("cuda emulation: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::fflush(stderr);
    std::abort();
}

size_t page_size() { return (size_t)sysconf(_SC_PAGESIZE); }
size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* Garbage: a xorshift stream, different for every fill. */
void fill_garbage(void *p, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    unsigned char *b = static_cast<unsigned char *>(p);
    for (size_t i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(b + i, &x, n - i < 8 ? n - i : 8);
    }
}

// ---------------------------------------------------------------- fibers

#if defined(__x86_64__)
/* Saves the callee-saved registers, MXCSR and the x87 control word on the current
 * stack, stores the stack pointer in *from and resumes the fiber whose stack pointer
 * is `to` (System V x86-64). */
extern "C" void dlm_emu_switch(void **from, void *to);
asm(".text\n"
    ".globl dlm_emu_switch\n"
    ".type dlm_emu_switch,@function\n"
    "dlm_emu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size dlm_emu_switch, .-dlm_emu_switch\n");

/* A fresh fiber's stack: dlm_emu_switch "returns" into entry, with an aligned stack. */
void *fiber_stack_init(char *top, void (*entry)())
{
    uint64_t *t = reinterpret_cast<uint64_t *>(top); /* top is 16-aligned */
    t[-1] = 0;                                       /* entry's (never used) return address */
    t[-2] = reinterpret_cast<uint64_t>(entry);
    for (int i = 3; i <= 8; i++) t[-i] = 0;          /* rbp rbx r12 r13 r14 r15 */
    uint32_t *ctl = reinterpret_cast<uint32_t *>(&t[-9]);
    ctl[0] = 0x1f80; /* MXCSR default */
    ctl[1] = 0x037f; /* x87 control word default */
    return &t[-9];
}
#else
#error "the CUDA emulation's fibers are written for x86-64"
#endif

enum fiber_state { RUNNABLE, WAIT_BAR, WAIT_WARP, PREEMPTED, DONE };

struct fiber {
    void *sp = nullptr;
    char *stack = nullptr; /* FIBER_STACK bytes above a guard page */
    thread_view view;
    fiber_state st = RUNNABLE;
    const char *file = nullptr;
    int line = 0;
    uint64_t value = 0, result = 0; /* warp collective: this lane's operand and result */
    int arg = 0, width = 32;
};

struct warp_slot {
    unsigned arrived = 0;  /* lanes waiting at the collective below */
    warp_op op = WARP_SYNC;
    unsigned mask = 0;
    const char *file = nullptr;
    int line = 0;
};

struct alloc_rec {
    char *map = nullptr;
    size_t map_len = 0, size = 0;
};

struct launch_state {
    const char *name = "";
    dim3 grid, block;
    size_t shmem = 0;
    thread_body body = nullptr;
    void *ctx = nullptr;
    uint3 bid = {0, 0, 0};
    std::vector<fiber> *fibers = nullptr;
    std::vector<warp_slot> warps;
    unsigned nthreads = 0, done = 0, at_bar = 0;
    const char *bar_file = nullptr;
    int bar_line = 0;
    char *dyn = nullptr;       /* dynamic shared memory of the block */
    char *stat = nullptr;      /* static shared arena */
    size_t stat_used = 0;
    std::vector<std::pair<const void *, void *>> stat_objs;
    fiber *running = nullptr;
    void *sched_sp = nullptr;
    uint64_t fills = 0;
};

// ---------------------------------------------------------------- the device

struct device {
    std::mutex mu;
    bool configured = false;
    cudaError_t init_error = cudaSuccess; /* returned by every call when not OK */
    int driver = DRIVER_OK;
    size_t total = 0, used = 0;
    int sms = 3;
    int ndev = 1, current = 0;             /* DLM_EMU_DEVICES; cudaSetDevice's choice */
    std::map<uintptr_t, alloc_rec> allocs; /* by user pointer */
    std::map<const void *, int> max_dyn;   /* cudaFuncAttributeMaxDynamicSharedMemorySize */
    std::set<const CUlib_st *> libs;       /* loaded libraries (cudaLibraryLoadData) */
    std::map<const void *, CUkern_st *> kernels; /* their kernels, by handle */
    cudaError_t last = cudaSuccess;
    cudaError_t grid_result = cudaSuccess; /* of the last run_grid (for cudaLaunchKernel) */
    uint64_t fills = 0;
    std::vector<char *> stacks;            /* fiber stacks, reused */
    char *dyn_end = nullptr;               /* end of the dynamic shared memory mapping */
    char *stat_mem = nullptr;              /* the static shared arena */
    char *alt_stack = nullptr;             /* fault_handler's stack */
    launch_state *launch = nullptr;
    std::vector<dlm_emu_launch_rec> log;
    size_t log_count = 0;
};

device dev;

long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *s = std::getenv(name);
    if (!s || !*s) return dflt;
    char *end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (*end || v < lo || v > hi) die("%s=%s: want an integer in %ld..%ld", name, s, lo, hi);
    return v;
}

void configure()
{
    const char *d = std::getenv("DLM_EMU_DEVICE");
    std::string mode = d && *d ? d : "ok";
    dev.driver = DRIVER_OK;
    dev.init_error = cudaSuccess;
    if (mode == "none") {
        dev.init_error = cudaErrorNoDevice;
    } else if (mode == "no-driver") {
        dev.init_error = cudaErrorInsufficientDriver;
        dev.driver = 0;
    } else if (mode == "old-driver") {
        dev.init_error = cudaErrorInsufficientDriver;
        dev.driver = DRIVER_OLD;
    } else if (mode == "error") {
        dev.init_error = cudaErrorInitializationError;
    } else if (mode != "ok") {
        die("DLM_EMU_DEVICE=%s: want ok, none, no-driver, old-driver or error", mode.c_str());
    }
    dev.total = (size_t)env_long("DLM_EMU_MEM_MB", 2048, 1, 1 << 20) << 20;
    dev.sms = (int)env_long("DLM_EMU_SMS", 3, 1, 1024);
    dev.ndev = (int)env_long("DLM_EMU_DEVICES", 1, 0, 64);
    dev.current = 0;
    if (dev.ndev == 0 && dev.init_error == cudaSuccess) dev.init_error = cudaErrorNoDevice;
    dev.configured = true;
}

void leak_check()
{
    if (dev.allocs.empty()) return;
    size_t bytes = 0;
    for (auto &a : dev.allocs) bytes += a.second.size;
    std::fprintf(stderr, "cuda emulation: %zu device allocations (%zu bytes) never freed\n",
                 dev.allocs.size(), bytes);
    std::fflush(stderr);
    _exit(1);
}

/* Every API call starts here: the configuration, then the error every call returns on
 * a machine without a usable device. */
cudaError_t enter()
{
    if (!dev.configured) {
        configure();
        std::atexit(leak_check);
    }
    return dev.init_error;
}

cudaError_t ret(cudaError_t e)
{
    if (e != cudaSuccess) dev.last = e;
    return e;
}

/* The allocation holding [p, p + n), or nullptr; *partial when p is inside one but the
 * range is not. */
const alloc_rec *find_alloc(const void *p, size_t n, bool *partial)
{
    *partial = false;
    uintptr_t u = reinterpret_cast<uintptr_t>(p);
    auto it = dev.allocs.upper_bound(u);
    if (it == dev.allocs.begin()) return nullptr;
    --it;
    if (u >= it->first + it->second.size + (it->second.size == 0)) return nullptr;
    if (n > it->first + it->second.size - u) {
        *partial = true;
        return nullptr;
    }
    return &it->second;
}

/* A mapping of `bytes` (rounded to 16) whose end touches an inaccessible page. */
char *map_guarded(size_t bytes, char **map, size_t *map_len)
{
    const size_t pg = page_size(), body = round_up(bytes ? bytes : 1, 16);
    *map_len = round_up(body, pg) + pg;
    void *m = mmap(nullptr, *map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED) return nullptr;
    *map = static_cast<char *>(m);
    char *guard = *map + *map_len - pg;
    mprotect(guard, pg, PROT_NONE);
    return guard - body;
}

// ---------------------------------------------------------------- the scheduler

[[noreturn]] void die_thread(const char *what, const fiber &f)
{
    launch_state &L = *dev.launch;
    die("%s\n  kernel %s, block (%u,%u,%u) of (%u,%u,%u), thread (%u,%u,%u) of (%u,%u,%u), at %s:%d",
        what, L.name, L.bid.x, L.bid.y, L.bid.z, L.grid.x, L.grid.y, L.grid.z, f.view.tid.x,
        f.view.tid.y, f.view.tid.z, L.block.x, L.block.y, L.block.z, f.file ? f.file : "?", f.line);
}

/* A SIGSEGV or SIGBUS while a kernel's thread runs (an access past a guard page, a
 * stack overflow): one line naming the kernel, block, thread, the faulting address and
 * what lies there, then abort. Installed around every launch, on its own stack. */
void fault_handler(int sig, siginfo_t *si, void *)
{
    launch_state *Lp = dev.launch;
    if (!Lp || !Lp->running) { /* not a kernel's fault: as if the emulation were not here */
        signal(sig, SIG_DFL);
        return;
    }
    launch_state &L = *Lp;
    const fiber &f = *L.running;
    const uintptr_t a = reinterpret_cast<uintptr_t>(si->si_addr);
    char where[160] = "";
    for (auto &r : dev.allocs) {
        const uintptr_t m = reinterpret_cast<uintptr_t>(r.second.map);
        if (a >= r.first + r.second.size && a < m + r.second.map_len)
            std::snprintf(where, sizeof where, " (%zu bytes past the end of a %zu-byte device allocation)",
                          (size_t)(a - r.first - r.second.size), r.second.size);
    }
    const uintptr_t dyn = reinterpret_cast<uintptr_t>(dev.dyn_end);
    if (!*where && a >= dyn && a < dyn + page_size())
        std::snprintf(where, sizeof where, " (%zu bytes past the end of the block's %zu bytes of dynamic shared memory)",
                      (size_t)(a - reinterpret_cast<uintptr_t>(L.dyn) - L.shmem), L.shmem);
    const uintptr_t st = reinterpret_cast<uintptr_t>(f.stack);
    if (!*where && a < st && a >= st - page_size())
        std::snprintf(where, sizeof where, " (the thread's stack overflowed)");
    char last[160] = "its start"; /* the last barrier or collective the thread reached */
    if (f.file) std::snprintf(last, sizeof last, "%s:%d", f.file, f.line);
    char msg[640];
    const int n = std::snprintf(msg, sizeof msg,
        "cuda emulation: %s at address %p%s in kernel %s, block (%u,%u,%u) of (%u,%u,%u), thread "
        "(%u,%u,%u) of (%u,%u,%u), after %s\n", sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
        si->si_addr, where, L.name, L.bid.x, L.bid.y, L.bid.z, L.grid.x, L.grid.y, L.grid.z,
        f.view.tid.x, f.view.tid.y, f.view.tid.z, L.block.x, L.block.y, L.block.z, last);
    if (write(2, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1) < 0) _exit(134);
    signal(SIGABRT, SIG_DFL);
    abort();
}

/* Installs fault_handler for a launch (and the old handlers back after it). */
struct fault_guard {
    struct sigaction old_segv, old_bus;
    fault_guard()
    {
        const size_t alt_size = size_t(64) << 10;
        if (!dev.alt_stack) {
            void *m = mmap(nullptr, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) die("out of memory for the signal stack");
            dev.alt_stack = static_cast<char *>(m);
        }
        stack_t ss;
        std::memset(&ss, 0, sizeof ss);
        ss.ss_sp = dev.alt_stack;
        ss.ss_size = alt_size;
        sigaltstack(&ss, nullptr);
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fault_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &old_segv);
        sigaction(SIGBUS, &sa, &old_bus);
    }
    ~fault_guard()
    {
        sigaction(SIGSEGV, &old_segv, nullptr);
        sigaction(SIGBUS, &old_bus, nullptr);
    }
};

void yield_to_scheduler()
{
    launch_state &L = *dev.launch;
    fiber *f = L.running;
    dlm_emu_switch(&f->sp, L.sched_sp);
    current = &f->view; /* resumed */
}

const char *state_name(fiber_state s)
{
    switch (s) {
    case RUNNABLE: return "runnable";
    case WAIT_BAR: return "waits at __syncthreads";
    case WAIT_WARP: return "waits at a warp collective";
    case PREEMPTED: return "preempted";
    case DONE: return "exited";
    }
    return "?";
}

/* A lane of the caller's warp that exited or waits at __syncthreads while other lanes
 * wait for it at a collective: the collective can never complete. */
void check_warp_blocked(const fiber &f)
{
    launch_state &L = *dev.launch;
    const warp_slot &w = L.warps[f.view.linear / 32];
    const unsigned lane = f.view.linear % 32;
    if (w.arrived && (w.mask >> lane & 1u) && !(w.arrived >> lane & 1u)) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "lane %u %s while lanes 0x%08x wait for it at the warp "
                      "collective of %s:%d (mask 0x%08x)", lane,
                      f.st == DONE ? "exited" : "reached __syncthreads", w.arrived, w.file, w.line,
                      w.mask);
        die_thread(msg, f);
    }
}

void fiber_main()
{
    launch_state &L = *dev.launch;
    fiber *f = L.running;
    current = &f->view;
    L.body(L.ctx);
    f->st = DONE;
    f->file = "(exit)";
    f->line = 0;
    L.done++;
    if (L.at_bar) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "a thread exited while %u threads wait at __syncthreads "
                      "(%s:%d): divergent barrier", L.at_bar, L.bar_file, L.bar_line);
        die_thread(msg, *f);
    }
    check_warp_blocked(*f);
    dlm_emu_switch(&f->sp, L.sched_sp);
    die("a finished fiber was resumed");
}

void run_block(launch_state &L)
{
    std::vector<fiber> &fs = *L.fibers;
    L.done = L.at_bar = 0;
    L.bar_file = nullptr;
    for (auto &w : L.warps) w = warp_slot();
    if (L.shmem) fill_garbage(L.dyn, L.shmem, ++dev.fills);
    L.stat_used = 0;
    L.stat_objs.clear();
    for (unsigned i = 0; i < L.nthreads; i++) {
        fiber &f = fs[i];
        f.st = RUNNABLE;
        f.file = nullptr;
        f.line = 0;
        f.view.bid = L.bid;
        f.sp = fiber_stack_init(f.stack + FIBER_STACK, fiber_main);
    }
    /* A warp runs as far as it can (to __syncthreads or its end) before the next one
     * starts, warps in ascending order in even blocks and descending in odd ones: a
     * missing barrier lets one warp overtake the others, both ways. */
    const unsigned nwarps = (unsigned)L.warps.size();
    const bool reverse = ((L.bid.x + L.bid.y + L.bid.z) & 1u) != 0;
    while (L.done < L.nthreads) {
        bool progress = false;
        for (unsigned k = 0; k < nwarps; k++) {
            const unsigned w = reverse ? nwarps - 1 - k : k;
            const unsigned hi = (w + 1) * 32 < L.nthreads ? (w + 1) * 32 : L.nthreads;
            for (bool again = true; again;) {
                again = false;
                for (unsigned i = w * 32; i < hi; i++) {
                    if (fs[i].st != RUNNABLE) continue;
                    L.running = &fs[i];
                    dlm_emu_switch(&L.sched_sp, fs[i].sp);
                    progress = again = true;
                }
            }
        }
        /* preempted threads (dlm_emu::preempt) run again once every warp had its turn */
        for (unsigned i = 0; i < L.nthreads; i++)
            if (fs[i].st == PREEMPTED) fs[i].st = RUNNABLE;
        if (!progress) {
            std::fprintf(stderr, "cuda emulation: deadlock in kernel %s, block (%u,%u,%u):\n",
                         L.name, L.bid.x, L.bid.y, L.bid.z);
            for (unsigned i = 0; i < L.nthreads; i++)
                if (i < 64 || fs[i].st != fs[i - 1].st)
                    std::fprintf(stderr, "  thread %u %s at %s:%d\n", i, state_name(fs[i].st),
                                 fs[i].file ? fs[i].file : "?", fs[i].line);
            die("deadlock");
        }
    }
    current = nullptr;
}

} // namespace

// ---------------------------------------------------------------- device built-ins

void syncthreads(const char *file, int line)
{
    launch_state *Lp = dev.launch;
    if (!Lp || !Lp->running) die("__syncthreads outside a kernel (%s:%d)", file, line);
    launch_state &L = *Lp;
    fiber &f = *L.running;
    f.file = file;
    f.line = line;
    if (L.done) die_thread("__syncthreads after some threads of the block exited: divergent barrier", f);
    check_warp_blocked(f);
    if (L.at_bar && (L.bar_line != line || std::strcmp(L.bar_file, file) != 0)) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "threads wait at different __syncthreads: %u at %s:%d, "
                      "this one here", L.at_bar, L.bar_file, L.bar_line);
        die_thread(msg, f);
    }
    if (++L.at_bar == L.nthreads) { /* the last one: release the block */
        for (auto &g : *L.fibers)
            if (g.st == WAIT_BAR) g.st = RUNNABLE;
        L.at_bar = 0;
        return;
    }
    if (L.at_bar == 1) {
        L.bar_file = file;
        L.bar_line = line;
    }
    f.st = WAIT_BAR;
    yield_to_scheduler();
}

void preempt(const char *file, int line)
{
    launch_state *Lp = dev.launch;
    if (!Lp || !Lp->running) die("preempt outside a kernel (%s:%d)", file, line);
    fiber &f = *Lp->running;
    f.file = file;
    f.line = line;
    f.st = PREEMPTED;
    yield_to_scheduler();
}

uint64_t warp_collective(warp_op op, unsigned mask, uint64_t value, int arg, int width,
                         const char *file, int line)
{
    launch_state *Lp = dev.launch;
    if (!Lp || !Lp->running) die("warp collective outside a kernel (%s:%d)", file, line);
    launch_state &L = *Lp;
    fiber &f = *L.running;
    f.file = file;
    f.line = line;
    const unsigned warp = f.view.linear / 32, lane = f.view.linear % 32;
    const unsigned first = warp * 32;
    const unsigned lanes = L.nthreads - first < 32 ? L.nthreads - first : 32;
    const unsigned exist = lanes == 32 ? ~0u : (1u << lanes) - 1;
    if (!(mask >> lane & 1u)) die_thread("warp collective whose mask lacks the calling lane", f);
    if (mask & ~exist) die_thread("warp collective whose mask names lanes the block does not have", f);
    if (width < 1 || width > 32 || (width & (width - 1)))
        die_thread("shuffle width is not a power of two in 1..32", f);
    warp_slot &w = L.warps[warp];
    std::vector<fiber> &fs = *L.fibers;
    if (w.arrived == 0) {
        w.op = op;
        w.mask = mask;
        w.file = file;
        w.line = line;
    } else if (w.op != op || w.mask != mask) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "lanes of a warp at different collectives: lanes 0x%08x at "
                      "%s:%d (mask 0x%08x), this lane with mask 0x%08x", w.arrived, w.file, w.line,
                      w.mask, mask);
        die_thread(msg, f);
    }
    for (unsigned l = 0; l < 32; l++)
        if ((mask >> l & 1u) && fs[first + l].st == DONE) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "warp collective (mask 0x%08x) names lane %u, which "
                          "exited", mask, l);
            die_thread(msg, f);
        }
    f.value = value;
    f.arg = arg;
    f.width = width;
    w.arrived |= 1u << lane;
    if (w.arrived != mask) {
        f.st = WAIT_WARP;
        yield_to_scheduler();
        return f.result;
    }
    /* the last lane: every lane's result */
    uint64_t sum = 0, ballot = 0;
    for (unsigned l = 0; l < 32; l++)
        if (mask >> l & 1u) {
            sum += fs[first + l].value & 0xffffffffu;
            ballot |= (fs[first + l].value != 0 ? 1ull : 0ull) << l;
        }
    for (unsigned l = 0; l < 32; l++) {
        if (!(mask >> l & 1u)) continue;
        fiber &g = fs[first + l];
        const int wd = g.width, base = (int)l / wd * wd, li = (int)l - base;
        int src = (int)l;
        switch (op) {
        case WARP_SHFL_DOWN: src = li + g.arg < wd ? (int)l + g.arg : (int)l; break;
        case WARP_SHFL_UP: src = li - g.arg >= 0 ? (int)l - g.arg : (int)l; break;
        case WARP_SHFL_XOR: src = (li ^ g.arg) < wd ? base + (li ^ g.arg) : (int)l; break;
        case WARP_SHFL_IDX: src = base + ((g.arg % wd) + wd) % wd; break;
        default: break;
        }
        if (op <= WARP_SHFL_IDX && !(mask >> src & 1u)) {
            char msg[160];
            std::snprintf(msg, sizeof msg, "lane %u shuffles from lane %d, which is not in the mask "
                          "0x%08x (undefined)", l, src, mask);
            die_thread(msg, g);
        }
        if (op <= WARP_SHFL_IDX)
            g.result = fs[first + (unsigned)src].value;
        else if (op == WARP_REDUCE_ADD)
            g.result = sum & 0xffffffffu;
        else if (op == WARP_BALLOT)
            g.result = ballot;
        else
            g.result = 0;
        if (&g != &f) g.st = RUNNABLE;
    }
    w.arrived = 0;
    return f.result;
}

void *dynamic_shared()
{
    if (!dev.launch) die("dynamic shared memory outside a kernel");
    return dev.launch->dyn;
}

void *static_shared(const void *tag, size_t bytes, size_t align)
{
    launch_state *Lp = dev.launch;
    if (!Lp) die("shared memory outside a kernel");
    for (auto &o : Lp->stat_objs)
        if (o.first == tag) return o.second;
    const size_t at = round_up(Lp->stat_used, align);
    if (at + bytes > STATIC_SHARED)
        die("kernel %s uses more than the %zu bytes of static shared memory the emulation "
            "reports (cudaFuncGetAttributes)", Lp->name, STATIC_SHARED);
    void *p = Lp->stat + at;
    fill_garbage(p, bytes, ++dev.fills);
    Lp->stat_used = at + bytes;
    Lp->stat_objs.push_back(std::make_pair(tag, p));
    return p;
}

void run_grid(const char *name, const void *func, dim3 grid, dim3 block, size_t shmem,
              thread_body body, void *ctx)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    dev.grid_result = cudaSuccess;
    if (enter() != cudaSuccess) {
        dev.grid_result = ret(dev.init_error);
        return;
    }
    {
        dlm_emu_launch_rec r;
        std::memset(&r, 0, sizeof r);
        std::snprintf(r.name, sizeof r.name, "%s", name);
        r.grid[0] = grid.x, r.grid[1] = grid.y, r.grid[2] = grid.z;
        r.block[0] = block.x, r.block[1] = block.y, r.block[2] = block.z;
        r.shmem = shmem;
        if (dev.log.size() >= 4096) dev.log.erase(dev.log.begin());
        dev.log.push_back(r);
        dev.log_count++;
    }
    const uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
    if (nthreads == 0 || nthreads > 1024 || block.x > 1024 || block.y > 1024 || block.z > 64 ||
        grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 ||
        grid.z > 65535) {
        dev.grid_result = ret(cudaErrorInvalidConfiguration);
        return;
    }
    auto md = dev.max_dyn.find(func);
    const size_t max_dyn = md == dev.max_dyn.end() ? DEFAULT_SHARED : (size_t)md->second;
    if (shmem > max_dyn || shmem + STATIC_SHARED > (size_t)OPTIN_SHARED) {
        dev.grid_result = ret(cudaErrorInvalidValue);
        return;
    }
    launch_state L;
    L.name = name;
    L.grid = grid;
    L.block = block;
    L.shmem = shmem;
    L.body = body;
    L.ctx = ctx;
    L.nthreads = (unsigned)nthreads;
    L.warps.resize((nthreads + 31) / 32);
    std::vector<fiber> fs(nthreads);
    while (dev.stacks.size() < nthreads) {
        const size_t pg = page_size();
        void *m = mmap(nullptr, FIBER_STACK + pg, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) die("out of memory for fiber stacks");
        mprotect(m, pg, PROT_NONE); /* an overflowing stack faults */
        dev.stacks.push_back(static_cast<char *>(m) + pg);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        fiber &f = fs[i];
        f.stack = dev.stacks[i];
        f.view.tid.x = i % block.x;
        f.view.tid.y = i / block.x % block.y;
        f.view.tid.z = i / (block.x * block.y);
        f.view.bdim = block;
        f.view.gdim = grid;
        f.view.linear = i;
    }
    L.fibers = &fs;
    if (!dev.dyn_end) { /* one mapping each for dynamic and static shared memory, reused */
        char *m = nullptr;
        size_t len = 0;
        char *dyn = map_guarded(OPTIN_SHARED, &m, &len);
        dev.stat_mem = map_guarded(STATIC_SHARED, &m, &len);
        if (!dyn || !dev.stat_mem) die("out of memory for shared memory");
        dev.dyn_end = dyn + OPTIN_SHARED;
    }
    /* the block's dynamic shared memory ends at the guard page (with none, any access faults) */
    L.dyn = dev.dyn_end - round_up(shmem, 16);
    L.stat = dev.stat_mem;
    dev.launch = &L;
    fault_guard guard;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                L.bid.x = x, L.bid.y = y, L.bid.z = z;
                run_block(L);
            }
    dev.launch = nullptr;
}

} // namespace dlm_emu

using namespace dlm_emu;

// ---------------------------------------------------------------- runtime API

#define ENTER()                                                      \
    std::lock_guard<std::mutex> lock_(dev.mu);                       \
    if (enter() != cudaSuccess) return ret(dev.init_error)

namespace {

/* The key of a function's attributes: a loaded kernel's handle (cudaKernel_t cast to
 * const void *) stands for the kernel in its library, which is what its launch passes
 * to run_grid; *jit tells which. */
const void *func_key(const void *func, bool *jit)
{
    auto k = dev.kernels.find(func);
    *jit = k != dev.kernels.end();
    return *jit ? k->second->fn : func;
}

/* The size of the ELF file at code, from its headers (the end of the last section,
 * segment or header table), or 0 when code is not a 64-bit ELF file. */
size_t elf_size(const void *code)
{
    const unsigned char *b = static_cast<const unsigned char *>(code);
    if (std::memcmp(b, ELFMAG, SELFMAG) != 0 || b[EI_CLASS] != ELFCLASS64) return 0;
    Elf64_Ehdr eh;
    std::memcpy(&eh, b, sizeof eh);
    if ((eh.e_shnum && eh.e_shentsize != sizeof(Elf64_Shdr)) ||
        (eh.e_phnum && eh.e_phentsize != sizeof(Elf64_Phdr)) || eh.e_shoff > (1ull << 32) ||
        eh.e_phoff > (1ull << 32))
        return 0;
    uint64_t end = sizeof eh;
    auto upto = [&end](uint64_t e) { end = e > end ? e : end; };
    upto(eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr));
    upto(eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr));
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        std::memcpy(&sh, b + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_NOBITS) upto(sh.sh_offset + sh.sh_size);
    }
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        std::memcpy(&ph, b + eh.e_phoff + i * sizeof ph, sizeof ph);
        upto(ph.p_offset + ph.p_filesz);
    }
    return end <= (1ull << 32) ? (size_t)end : 0;
}

} // namespace

extern "C" {

cudaError_t cudaGetDeviceCount(int *count)
{
    ENTER();
    if (!count) return ret(cudaErrorInvalidValue);
    *count = dev.ndev;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *version)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    (void)enter();
    if (!version) return ret(cudaErrorInvalidValue);
    *version = dev.driver;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *version)
{
    if (!version) return cudaErrorInvalidValue;
    *version = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device)
{
    ENTER();
    if (!device) return ret(cudaErrorInvalidValue);
    *device = dev.current;
    return cudaSuccess;
}

/* The devices are alike and share one memory pool; only the choice is kept. */
cudaError_t cudaSetDevice(int device)
{
    ENTER();
    if (device < 0 || device >= dev.ndev) return ret(cudaErrorInvalidDevice);
    dev.current = device;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device)
{
    ENTER();
    if (!value) return ret(cudaErrorInvalidValue);
    if (device < 0 || device >= dev.ndev) return ret(cudaErrorInvalidDevice);
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = DEFAULT_SHARED; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrMultiProcessorCount: *value = dev.sms; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = SM_SHARED; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = OPTIN_SHARED; break;
    default: return ret(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    ENTER();
    return cudaSuccess; /* launches are synchronous */
}

cudaError_t cudaGetLastError(void)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    cudaError_t e = dev.last;
    dev.last = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    return dev.last;
}

const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorInvalidKernelImage: return "cudaErrorInvalidKernelImage";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorSymbolNotFound: return "cudaErrorSymbolNotFound";
    case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
    case cudaErrorUnknown: return "cudaErrorUnknown";
    }
    return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver:
        return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorInvalidKernelImage: return "device kernel image is invalid";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorSymbolNotFound: return "named symbol not found";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorUnknown: return "unknown error";
    }
    return "unknown error";
}

cudaError_t cudaMalloc(void **ptr, size_t bytes)
{
    ENTER();
    if (!ptr) return ret(cudaErrorInvalidValue);
    *ptr = nullptr;
    if (bytes == 0) return cudaSuccess;
    const size_t pages = round_up(bytes, PAGE_GRANULE);
    if (pages < bytes || pages > dev.total - dev.used) return ret(cudaErrorMemoryAllocation);
    alloc_rec a;
    char *p = map_guarded(bytes, &a.map, &a.map_len);
    if (!p) return ret(cudaErrorMemoryAllocation);
    a.size = bytes;
    fill_garbage(p, bytes, ++dev.fills);
    dev.used += pages;
    dev.allocs[reinterpret_cast<uintptr_t>(p)] = a;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void *ptr)
{
    ENTER();
    if (!ptr) return cudaSuccess;
    auto it = dev.allocs.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == dev.allocs.end()) return ret(cudaErrorInvalidValue);
    dev.used -= round_up(it->second.size, PAGE_GRANULE);
    munmap(it->second.map, it->second.map_len);
    dev.allocs.erase(it);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    ENTER();
    if (bytes == 0) return cudaSuccess;
    if (!dst || !src) return ret(cudaErrorInvalidValue);
    bool pd = false, ps = false;
    const bool dd = find_alloc(dst, bytes, &pd) != nullptr, sd = find_alloc(src, bytes, &ps) != nullptr;
    if (pd || ps) return ret(cudaErrorInvalidValue); /* runs past the end of an allocation */
    const bool dst_dev = dd, src_dev = sd;
    bool ok = false;
    switch (kind) {
    case cudaMemcpyHostToDevice: ok = dst_dev && !src_dev; break;
    case cudaMemcpyDeviceToHost: ok = src_dev && !dst_dev; break;
    case cudaMemcpyDeviceToDevice: ok = src_dev && dst_dev; break;
    case cudaMemcpyHostToHost: ok = !src_dev && !dst_dev; break;
    case cudaMemcpyDefault: ok = true; break;
    }
    if (!ok) return ret(cudaErrorInvalidValue);
    std::memmove(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemset(void *ptr, int value, size_t bytes)
{
    ENTER();
    if (bytes == 0) return cudaSuccess;
    bool partial = false;
    if (!find_alloc(ptr, bytes, &partial)) return ret(cudaErrorInvalidValue);
    std::memset(ptr, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    ENTER();
    if (!free_bytes || !total_bytes) return ret(cudaErrorInvalidValue);
    *free_bytes = dev.total - dev.used;
    *total_bytes = dev.total;
    return cudaSuccess;
}

/* Events: a launch is synchronous, so an event's time is the host clock when recorded. */
struct CUevent_st {
    double ms;
};

cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    ENTER();
    if (!e) return ret(cudaErrorInvalidValue);
    *e = new CUevent_st{0};
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    delete e;
    return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t)
{
    ENTER();
    if (!e) return ret(cudaErrorInvalidValue);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    e->ms = 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? cudaSuccess : cudaErrorInvalidValue; }

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    if (!ms || !start || !end) return cudaErrorInvalidValue;
    *ms = (float)(end->ms - start->ms);
    return cudaSuccess;
}

cudaError_t dlm_emu_func_get_attributes(cudaFuncAttributes *fa, const void *func)
{
    ENTER();
    if (!fa || !func) return ret(cudaErrorInvalidDeviceFunction);
    std::memset(fa, 0, sizeof *fa);
    bool jit;
    auto md = dev.max_dyn.find(func_key(func, &jit));
    fa->sharedSizeBytes = STATIC_SHARED;
    fa->maxThreadsPerBlock = jit ? JIT_MAX_THREADS : 1024;
    fa->numRegs = REGS_PER_THREAD;
    fa->ptxVersion = fa->binaryVersion = 90;
    fa->maxDynamicSharedSizeBytes = md == dev.max_dyn.end() ? DEFAULT_SHARED : md->second;
    fa->preferredShmemCarveout = -1;
    return cudaSuccess;
}

cudaError_t dlm_emu_func_set_attribute(const void *func, cudaFuncAttribute attr, int value)
{
    ENTER();
    if (!func) return ret(cudaErrorInvalidDeviceFunction);
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
        if (value < 0 || (size_t)value + STATIC_SHARED > (size_t)OPTIN_SHARED)
            return ret(cudaErrorInvalidValue);
        bool jit;
        dev.max_dyn[func_key(func, &jit)] = value;
        return cudaSuccess;
    }
    if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
    return ret(cudaErrorInvalidValue);
}

cudaError_t dlm_emu_occupancy(int *blocks, const void *func, int block_threads, size_t dyn_shmem)
{
    ENTER();
    if (!blocks || !func || block_threads <= 0) return ret(cudaErrorInvalidValue);
    *blocks = 0;
    bool jit;
    const void *key = func_key(func, &jit);
    if (block_threads > (jit ? JIT_MAX_THREADS : 1024)) return cudaSuccess;
    auto md = dev.max_dyn.find(key);
    const size_t max_dyn = md == dev.max_dyn.end() ? DEFAULT_SHARED : (size_t)md->second;
    if (dyn_shmem > max_dyn) return cudaSuccess;
    const int warps = (block_threads + 31) / 32;
    int n = SM_BLOCKS;
    n = n < SM_THREADS / (warps * 32) ? n : SM_THREADS / (warps * 32);
    n = n < SM_REGS / (warps * 32 * REGS_PER_THREAD) ? n : SM_REGS / (warps * 32 * REGS_PER_THREAD);
    const size_t per_block = dyn_shmem + STATIC_SHARED + 1024; /* 1 KiB reserved per block */
    const int by_shared = (int)(SM_SHARED / per_block);
    *blocks = n < by_shared ? n : by_shared;
    return cudaSuccess;
}

cudaError_t cudaFuncGetAttributes(cudaFuncAttributes *fa, const void *func)
{
    return dlm_emu_func_get_attributes(fa, func);
}

cudaError_t cudaFuncSetAttribute(const void *func, cudaFuncAttribute attr, int value)
{
    return dlm_emu_func_set_attribute(func, attr, value);
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, const void *func,
                                                          int block_threads, size_t dyn_shmem)
{
    return dlm_emu_occupancy(blocks, func, block_threads, dyn_shmem);
}

// ---------------------------------------------------------------- libraries (JIT)

/* The code is an ELF shared object (the emulated NVRTC's "cubin"): written to a
 * temporary file, opened with dlopen (it calls into this emulation, which the
 * executable exports: emulated binaries are linked with -rdynamic), and the file
 * removed. No option is emulated: numJitOptions and numLibraryOptions must be 0. */
cudaError_t cudaLibraryLoadData(cudaLibrary_t *library, const void *code, cudaJitOption *,
                                void **, unsigned int numJitOptions, cudaLibraryOption *,
                                void **, unsigned int numLibraryOptions)
{
    ENTER();
    if (!library || !code || numJitOptions || numLibraryOptions) return ret(cudaErrorInvalidValue);
    *library = nullptr;
    const size_t n = elf_size(code);
    if (n == 0) return ret(cudaErrorInvalidKernelImage);
    const char *t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/dlm-emu-lib-XXXXXX";
    std::vector<char> path(tmpl.begin(), tmpl.end());
    path.push_back(0);
    const int fd = mkstemp(path.data());
    if (fd < 0) return ret(cudaErrorMemoryAllocation);
    const char *p = static_cast<const char *>(code);
    size_t at = 0;
    while (at < n) {
        const ssize_t w = write(fd, p + at, n - at);
        if (w <= 0) break;
        at += (size_t)w;
    }
    close(fd);
    void *dl = at == n ? dlopen(path.data(), RTLD_NOW | RTLD_LOCAL) : nullptr;
    unlink(path.data());
    if (!dl) {
        if (at == n) std::fprintf(stderr, "cuda emulation: cudaLibraryLoadData: %s\n", dlerror());
        return ret(at == n ? cudaErrorInvalidKernelImage : cudaErrorMemoryAllocation);
    }
    CUlib_st *l = new CUlib_st;
    l->dl = dl;
    dev.libs.insert(l);
    *library = l;
    return cudaSuccess;
}

/* The kernel NAME needs NAME and its launcher NAME_emu in the library. */
cudaError_t cudaLibraryGetKernel(cudaKernel_t *kernel, cudaLibrary_t library, const char *name)
{
    ENTER();
    if (!kernel || !name) return ret(cudaErrorInvalidValue);
    if (!dev.libs.count(library)) return ret(cudaErrorInvalidResourceHandle);
    for (CUkern_st *k : library->kernels)
        if (k->name == name) {
            *kernel = k;
            return cudaSuccess;
        }
    void *fn = dlsym(library->dl, name);
    void *launch = dlsym(library->dl, (std::string(name) + "_emu").c_str());
    if (!fn || !launch) return ret(cudaErrorSymbolNotFound);
    CUkern_st *k = new CUkern_st;
    k->lib = library;
    k->name = name;
    std::memcpy(&k->launch, &launch, sizeof k->launch);
    k->fn = fn;
    library->kernels.push_back(k);
    dev.kernels[k] = k;
    *kernel = k;
    return cudaSuccess;
}

/* Its kernels' handles and attributes go with it. */
cudaError_t cudaLibraryUnload(cudaLibrary_t library)
{
    ENTER();
    auto it = dev.libs.find(library);
    if (it == dev.libs.end()) return ret(cudaErrorInvalidResourceHandle);
    for (CUkern_st *k : library->kernels) {
        dev.max_dyn.erase(k->fn);
        dev.kernels.erase(k);
        delete k;
    }
    dlclose(library->dl);
    dev.libs.erase(it);
    delete library;
    return cudaSuccess;
}

/* A loaded kernel only; checked here as the runtime does, the rest by run_grid (through
 * the kernel's launcher, which the emulation's lock must not be held across). */
cudaError_t cudaLaunchKernel(const void *func, dim3 grid, dim3 block, void **args, size_t shmem,
                             cudaStream_t)
{
    dlm_emu_jit_launcher launch;
    {
        ENTER();
        auto k = dev.kernels.find(func);
        if (k == dev.kernels.end()) return ret(cudaErrorInvalidDeviceFunction);
        if (!args) return ret(cudaErrorInvalidValue);
        const uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
        if (nthreads > (uint64_t)JIT_MAX_THREADS && nthreads <= 1024)
            return ret(cudaErrorLaunchOutOfResources); /* more than its __launch_bounds__ */
        launch = k->second->launch;
    }
    launch(grid, block, shmem, args);
    std::lock_guard<std::mutex> lock(dev.mu);
    return dev.grid_result;
}

// ---------------------------------------------------------------- dlm_emu.h

int dlm_emu_reset(void)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    if (!dev.allocs.empty()) return -1;
    if (!dev.configured) std::atexit(leak_check);
    configure();
    dev.max_dyn.clear();
    dev.last = cudaSuccess;
    return 0;
}

size_t dlm_emu_launch_count(void)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    return dev.log_count;
}

int dlm_emu_launch_get(size_t i, dlm_emu_launch_rec *r)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    if (i >= dev.log.size() || !r) return -1;
    *r = dev.log[i];
    return 0;
}

void dlm_emu_launch_clear(void)
{
    std::lock_guard<std::mutex> lock(dev.mu);
    dev.log.clear();
    dev.log_count = 0;
}

} // extern "C"
