/* nvrtc.cc — the CUDA emulation's NVRTC (tests only; what it does: nvrtc.h).
 *
 * A program is its source and name; nvrtcCompileProgram runs, in a fresh temporary
 * directory, sed (rewrite.sed on the program and on include/dlm_jit_cuda.h), the
 * compiler's preprocessor (for the cache's key) and the compiler, each with
 * posix_spawnp and its output to a file, and keeps the shared object's bytes as the
 * program's "CUBIN". State lives only in the programs.
 */
#include "nvrtc.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char **environ;

#ifndef DLM_EMU_SRC_DIR
#error "DLM_EMU_SRC_DIR: the source tree's absolute path (test/cuda_emu/emu.mk)"
#endif
#ifndef DLM_EMU_CXX
#define DLM_EMU_CXX "g++"
#endif

struct _nvrtcProgram {
    uint64_t magic;
    std::string src, name, log, cubin;
    bool compiled; /* the last compile succeeded: cubin holds its shared object */
};

namespace {

constexpr uint64_t PROGRAM_MAGIC = 0x6e76727463656d75ull; /* "nvrtcemu" */

bool valid(nvrtcProgram p) { return p && p->magic == PROGRAM_MAGIC; }

uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *b = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}
uint64_t fnv1a(uint64_t h, const std::string &s) { return fnv1a(h, s.c_str(), s.size() + 1); }

bool read_file(const std::string &path, std::string *out)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out->clear();
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    const bool ok = !std::ferror(f);
    std::fclose(f);
    return ok;
}

bool write_fd(int fd, const std::string &data)
{
    for (size_t at = 0; at < data.size();) {
        const ssize_t n = write(fd, data.data() + at, data.size() - at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        at += (size_t)n;
    }
    return true;
}

bool write_file(const std::string &path, const std::string &data)
{
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return false;
    const bool ok = write_fd(fd, data);
    return close(fd) == 0 && ok;
}

/* Runs argv with stdout to out_path (or, when null, to the log), stderr to log_path;
 * true when it exited 0. The log is appended to *log. */
bool run_tool(const std::vector<std::string> &args, const char *out_path,
              const std::string &log_path, std::string *log)
{
    std::vector<char *> argv;
    for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out_path)
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    else
        posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    const int e = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) {
        *log += "nvrtc (emulated): cannot run " + args[0] + ": " + std::strerror(e) + "\n";
        return false;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return false;
    std::string out;
    if (read_file(log_path, &out)) *log += out;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* mkdir -p */
bool make_dirs(const std::string &dir)
{
    for (size_t i = 1; i <= dir.size(); i++)
        if (i == dir.size() || dir[i] == '/') {
            const std::string d = dir.substr(0, i);
            if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) return false;
        }
    struct stat sb;
    return stat(dir.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The temporary directory of one compile, removed with its files. */
struct scratch {
    std::string dir;
    std::vector<std::string> files;
    scratch()
    {
        const char *t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t && *t ? t : "/tmp") + "/dlm-nvrtc-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back(0);
        if (mkdtemp(buf.data())) dir = buf.data();
    }
    std::string file(const char *name)
    {
        files.push_back(dir + "/" + name);
        return files.back();
    }
    ~scratch()
    {
        if (dir.empty()) return;
        for (const std::string &f : files) unlink(f.c_str());
        rmdir(dir.c_str());
    }
};

/* The program's options as compiler arguments (the -D and -U), or false and a message. */
bool translate_options(int n, const char *const *opts, std::vector<std::string> *defs,
                       std::string *why)
{
    for (int i = 0; i < n; i++) {
        const std::string o = opts[i];
        std::string flag, arg;
        bool split = false;
        if (o == "-D" || o == "-U" || o == "--define-macro" || o == "--undefine-macro") {
            flag = o == "-U" || o == "--undefine-macro" ? "-U" : "-D";
            split = true;
        } else if (o.compare(0, 2, "-D") == 0 || o.compare(0, 2, "-U") == 0) {
            flag = o.substr(0, 2);
            arg = o.substr(2);
        } else if (o.compare(0, 15, "--define-macro=") == 0) {
            flag = "-D";
            arg = o.substr(15);
        } else if (o.compare(0, 17, "--undefine-macro=") == 0) {
            flag = "-U";
            arg = o.substr(17);
        } else if (!o.empty() && o[0] == '-') {
            continue; /* an NVRTC option without meaning here */
        } else {
            *why = "nvrtc (emulated): error: invalid option '" + o + "'\n";
            return false;
        }
        if (split) {
            if (i + 1 >= n) {
                *why = "nvrtc (emulated): error: option '" + o + "' needs an argument\n";
                return false;
            }
            arg = opts[++i];
        }
        if (arg.empty()) {
            *why = "nvrtc (emulated): error: option '" + o + "' without a macro name\n";
            return false;
        }
        defs->push_back(flag + arg);
    }
    return true;
}

/* rewrite.sed over in, to out, after a #line naming `shown` (messages name it). */
bool rewrite(scratch &s, const std::string &in, const std::string &out, const std::string &shown,
             std::string *log)
{
    const std::string body = s.file("sed.out");
    if (!run_tool({"sed", "-E", "-f", DLM_EMU_SRC_DIR "/test/cuda_emu/rewrite.sed", in},
                  body.c_str(), s.file("sed.log"), log))
        return false;
    std::string text;
    if (!read_file(body, &text)) return false;
    return write_file(out, "#line 1 \"" + shown + "\"\n" + text);
}

nvrtcResult compile(nvrtcProgram p, const std::vector<std::string> &defs)
{
    scratch s;
    if (s.dir.empty()) {
        p->log = "nvrtc (emulated): cannot create a temporary directory\n";
        return NVRTC_ERROR_INTERNAL_ERROR;
    }
    const std::string cu = s.file("program.cu"), cc = s.file("program.cc");
    if (!write_file(cu, p->src) ||
        !rewrite(s, cu, cc, p->name, &p->log) ||
        !rewrite(s, DLM_EMU_SRC_DIR "/include/dlm_jit_cuda.h", s.file("dlm_jit_cuda.h"),
                 DLM_EMU_SRC_DIR "/include/dlm_jit_cuda.h", &p->log)) {
        p->log += "nvrtc (emulated): cannot rewrite the program in " + s.dir + "\n";
        return NVRTC_ERROR_INTERNAL_ERROR;
    }
    /* everything but the scratch directory enters the cache's key */
    std::vector<std::string> flags = {
        "-std=c++17", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-DDLM_CUDA_EMU=1",
        "-D__CUDA_ARCH__=900", "-DDLM_HAVE_CUDA=1", "-I" DLM_EMU_SRC_DIR "/test/cuda_emu",
        "-I" DLM_EMU_SRC_DIR "/include", "-include", DLM_EMU_SRC_DIR "/test/cuda_emu/cuda_runtime.h"};
    flags.insert(flags.end(), defs.begin(), defs.end());
    std::vector<std::string> pre;
    for (const char *c = DLM_EMU_CXX; *c;) { /* "ccache g++" is two words */
        const size_t n = std::strcspn(c, " ");
        if (n) pre.push_back(std::string(c, n));
        c += n + (c[n] == ' ');
    }
    const size_t scratch_at = pre.size();
    pre.push_back("-I" + s.dir);
    pre.insert(pre.end(), flags.begin(), flags.end());
    /* -O0: the emulation checks what the program computes, not how fast (test_cuda's
     * gen:mult:16 compiles in 6 s instead of 2-3 minutes at -O1); -Bsymbolic: the
     * program's own symbols bind inside it, never to an executable's (or an earlier
     * library's) of the same name */
    const std::vector<std::string> link = {"-O0", "-fPIC", "-shared", "-Wl,-Bsymbolic"};

    /* the cache's key: the preprocessed program (every header, #line-mapped to stable
     * names, -P: no line markers naming the scratch directory) and the arguments */
    const char *cache = std::getenv("DLM_EMU_JIT_CACHE");
    std::string cached;
    if (cache && *cache) {
        std::string key_text;
        const std::string ii = s.file("program.ii");
        std::vector<std::string> cpp = pre;
        cpp.insert(cpp.end(), {"-E", "-P", cc});
        if (!run_tool(cpp, ii.c_str(), s.file("cpp.log"), &p->log)) return NVRTC_ERROR_COMPILATION;
        if (!read_file(ii, &key_text)) return NVRTC_ERROR_INTERNAL_ERROR;
        uint64_t h = fnv1a(0xcbf29ce484222325ull, key_text);
        for (size_t i = 0; i < pre.size(); i++)
            if (i != scratch_at) h = fnv1a(h, pre[i]); /* not -I<scratch> */
        for (const std::string &f : link) h = fnv1a(h, f);
        h = fnv1a(h, std::string(__VERSION__)); /* the compiler that built the emulation */
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
        cached = std::string(cache) + "/" + hex + ".so";
        if (read_file(cached, &p->cubin) && !p->cubin.empty()) {
            p->compiled = true;
            return NVRTC_SUCCESS;
        }
    }
    const std::string so = s.file("program.so");
    std::vector<std::string> cxx = pre;
    cxx.insert(cxx.end(), link.begin(), link.end());
    cxx.insert(cxx.end(), {cc, "-o", so});
    if (!run_tool(cxx, nullptr, s.file("cxx.log"), &p->log)) return NVRTC_ERROR_COMPILATION;
    if (!read_file(so, &p->cubin) || p->cubin.empty()) {
        p->log += "nvrtc (emulated): cannot read " + so + "\n";
        return NVRTC_ERROR_INTERNAL_ERROR;
    }
    p->compiled = true;
    if (!cached.empty() && make_dirs(cache)) { /* best effort: a failure only costs time */
        std::string tmpl = cached + ".XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back(0);
        const int fd = mkstemp(buf.data());
        if (fd >= 0) {
            const bool ok = write_fd(fd, p->cubin) && fchmod(fd, 0644) == 0;
            if (close(fd) != 0 || !ok || rename(buf.data(), cached.c_str()) != 0) unlink(buf.data());
        }
    }
    return NVRTC_SUCCESS;
}

} // namespace

extern "C" {

const char *nvrtcGetErrorString(nvrtcResult r)
{
    switch (r) {
    case NVRTC_SUCCESS: return "NVRTC_SUCCESS";
    case NVRTC_ERROR_OUT_OF_MEMORY: return "NVRTC_ERROR_OUT_OF_MEMORY";
    case NVRTC_ERROR_PROGRAM_CREATION_FAILURE: return "NVRTC_ERROR_PROGRAM_CREATION_FAILURE";
    case NVRTC_ERROR_INVALID_INPUT: return "NVRTC_ERROR_INVALID_INPUT";
    case NVRTC_ERROR_INVALID_PROGRAM: return "NVRTC_ERROR_INVALID_PROGRAM";
    case NVRTC_ERROR_INVALID_OPTION: return "NVRTC_ERROR_INVALID_OPTION";
    case NVRTC_ERROR_COMPILATION: return "NVRTC_ERROR_COMPILATION";
    case NVRTC_ERROR_BUILTIN_OPERATION_FAILURE: return "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE";
    case NVRTC_ERROR_INTERNAL_ERROR: return "NVRTC_ERROR_INTERNAL_ERROR";
    }
    return "NVRTC_ERROR unknown";
}

nvrtcResult nvrtcVersion(int *major, int *minor)
{
    if (!major || !minor) return NVRTC_ERROR_INVALID_INPUT;
    *major = 13;
    *minor = 0;
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name,
                               int numHeaders, const char *const *headers,
                               const char *const *includeNames)
{
    if (!prog || !src || numHeaders < 0) return NVRTC_ERROR_INVALID_INPUT;
    if (numHeaders > 0 && (!headers || !includeNames)) return NVRTC_ERROR_INVALID_INPUT;
    nvrtcProgram p = new _nvrtcProgram;
    p->magic = PROGRAM_MAGIC;
    p->src = src;
    p->name = name && *name ? name : "default_program";
    p->compiled = false;
    *prog = p;
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog)
{
    if (!prog || !valid(*prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    (*prog)->magic = 0;
    delete *prog;
    *prog = nullptr;
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char *const *options)
{
    if (!valid(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (numOptions < 0 || (numOptions > 0 && !options)) return NVRTC_ERROR_INVALID_INPUT;
    for (int i = 0; i < numOptions; i++)
        if (!options[i]) return NVRTC_ERROR_INVALID_INPUT;
    prog->log.clear();
    prog->cubin.clear();
    prog->compiled = false;
    std::vector<std::string> defs;
    if (!translate_options(numOptions, options, &defs, &prog->log)) return NVRTC_ERROR_INVALID_OPTION;
    return compile(prog, defs);
}

nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *size)
{
    if (!valid(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    if (!prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    *size = prog->cubin.size();
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *cubin)
{
    if (!valid(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!cubin) return NVRTC_ERROR_INVALID_INPUT;
    if (!prog->compiled) return NVRTC_ERROR_INVALID_PROGRAM;
    std::memcpy(cubin, prog->cubin.data(), prog->cubin.size());
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *size)
{
    if (!valid(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!size) return NVRTC_ERROR_INVALID_INPUT;
    *size = prog->log.size() + 1;
    return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log)
{
    if (!valid(prog)) return NVRTC_ERROR_INVALID_PROGRAM;
    if (!log) return NVRTC_ERROR_INVALID_INPUT;
    std::memcpy(log, prog->log.c_str(), prog->log.size() + 1);
    return NVRTC_SUCCESS;
}

} // extern "C"
