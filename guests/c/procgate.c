/* procgate for C guests: see procgate.h. Wraps wit-bindgen's C bindings of
 * procgate:subprocess (imports.h).
 *
 * Why one file of ~690 lines: the build compiles procgate.c with each C
 * guest (scripts/guests-other-languages.sh, build_c), and its parts (the
 * WIT error mapping, spawning, the process, the readers and writers,
 * communicate) share the private structs and helpers at the top. */
#include "procgate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imports.h"

typedef procgate_subprocess_types_error_t wit_error;

#define DEFAULT_LIMIT (64 * 1024)
#define CHUNK (64 * 1024)

struct pg_reader {
    pg_process *proc;
    bool is_stderr;
    bool taken;
    bool has_stream;
    wasi_io_streams_own_input_stream_t stream;
    uint8_t *buf;
    size_t len, cap;
    bool eof;
    size_t limit;
};

struct pg_writer {
    pg_process *proc;
    bool taken;
    bool has_stream;
    wasi_io_streams_own_output_stream_t stream;
};

struct pg_process {
    procgate_subprocess_types_own_process_t handle;
    uint32_t pid;
    bool exited;
    int32_t returncode;
    bool communicating;
    procgate_subprocess_types_own_future_communicate_t future;
    bool finished; /* a communicate's result was taken */
    pg_reader *out, *err;
    pg_writer *in;
};

static procgate_subprocess_types_borrow_process_t borrow(pg_process *proc) {
    return procgate_subprocess_types_borrow_process(proc->handle);
}

const char *pg_code_name(pg_code code) {
    switch (code) {
    case PG_OK: return "ok";
    case PG_DENIED: return "denied";
    case PG_NOT_FOUND: return "not-found";
    case PG_PERMISSION_DENIED: return "permission-denied";
    case PG_INVALID_ARGUMENT: return "invalid-argument";
    case PG_LIMIT_EXCEEDED: return "limit-exceeded";
    case PG_PROCESS_EXITED: return "process-exited";
    case PG_IO: return "io";
    case PG_CLOSED: return "closed";
    case PG_INCOMPLETE_READ: return "incomplete-read";
    case PG_LIMIT_OVERRUN: return "limit-overrun";
    case PG_NO_MEMORY: return "no-memory";
    }
    return "unknown";
}

static pg_code fail(pg_error *err, pg_code code, const char *message, size_t len) {
    if (err) {
        err->code = code;
        if (len >= sizeof err->message) len = sizeof err->message - 1;
        memcpy(err->message, message, len);
        err->message[len] = 0;
    }
    return code;
}

static pg_code failz(pg_error *err, pg_code code, const char *message) {
    return fail(err, code, message, strlen(message));
}

/* Turns a WIT error into a pg_error, freeing it. */
static pg_code from_wit(pg_error *err, wit_error *e) {
    static const pg_code codes[] = {
        [PROCGATE_SUBPROCESS_TYPES_ERROR_DENIED] = PG_DENIED,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_NOT_FOUND] = PG_NOT_FOUND,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_PERMISSION_DENIED] = PG_PERMISSION_DENIED,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_INVALID_ARGUMENT] = PG_INVALID_ARGUMENT,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_LIMIT_EXCEEDED] = PG_LIMIT_EXCEEDED,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_PROCESS_EXITED] = PG_PROCESS_EXITED,
        [PROCGATE_SUBPROCESS_TYPES_ERROR_IO] = PG_IO,
    };
    pg_code code = e->tag <= PROCGATE_SUBPROCESS_TYPES_ERROR_IO ? codes[e->tag] : PG_IO;
    if (e->tag == PROCGATE_SUBPROCESS_TYPES_ERROR_PROCESS_EXITED) {
        return failz(err, code, "the process has exited");
    }
    /* Every other case carries a string, at the same place in the union. */
    fail(err, code, (const char *)e->val.denied.ptr, e->val.denied.len);
    procgate_subprocess_types_error_free(e);
    return code;
}

/* A stream error: PG_CLOSED for `closed`, PG_IO with the text otherwise. */
static pg_code from_stream_error(pg_error *err, wasi_io_streams_stream_error_t *e) {
    if (e->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED) {
        return failz(err, PG_CLOSED, "the stream is closed");
    }
    imports_string_t text;
    wasi_io_error_method_error_to_debug_string(
        wasi_io_error_borrow_error(e->val.last_operation_failed), &text);
    fail(err, PG_IO, (const char *)text.ptr, text.len);
    imports_string_free(&text);
    wasi_io_error_error_drop_own(e->val.last_operation_failed);
    return PG_IO;
}

void pg_bytes_free(pg_bytes *bytes) {
    if (bytes) {
        free(bytes->data);
        bytes->data = NULL;
        bytes->len = 0;
        bytes->present = false;
    }
}

static void set_bytes(pg_bytes *out, uint8_t *data, size_t len, bool present) {
    if (out) {
        out->data = data;
        out->len = len;
        out->present = present;
    } else {
        free(data);
    }
}

/* ------------------------------------------------------------ creating */

static procgate_subprocess_types_stdio_t wit_stdio(pg_stdio s) {
    procgate_subprocess_types_stdio_t out;
    switch (s) {
    case PG_PIPE: out.tag = PROCGATE_SUBPROCESS_TYPES_STDIO_PIPE; break;
    case PG_DEVNULL: out.tag = PROCGATE_SUBPROCESS_TYPES_STDIO_DEVNULL; break;
    case PG_STDOUT: out.tag = PROCGATE_SUBPROCESS_TYPES_STDIO_STDOUT; break;
    default: out.tag = PROCGATE_SUBPROCESS_TYPES_STDIO_INHERIT; break;
    }
    return out;
}

/* Fills `o` (borrowing the strings of `options`); `env` is its env list,
 * to free with free(). */
static pg_code wit_options(const pg_options *options, procgate_subprocess_types_options_t *o,
                           pg_error *err) {
    static const pg_options defaults = PG_OPTIONS_INIT;
    if (!options) options = &defaults;
    memset(o, 0, sizeof *o);
    o->stdin_ = wit_stdio(options->stdin_);
    o->stdout_ = wit_stdio(options->stdout_);
    o->stderr_ = wit_stdio(options->stderr_);
    o->limit.is_some = true;
    o->limit.val = options->limit ? options->limit : DEFAULT_LIMIT;
    if (options->cwd) {
        o->cwd.is_some = true;
        imports_string_set(&o->cwd.val, options->cwd);
    }
    size_t n = 0;
    while (options->env && options->env[n]) n++;
    if (n) {
        o->env.ptr = calloc(n, sizeof *o->env.ptr);
        if (!o->env.ptr) return failz(err, PG_NO_MEMORY, "out of memory");
        o->env.len = n;
        for (size_t i = 0; i < n; i++) {
            const char *kv = options->env[i];
            const char *eq = strchr(kv, '=');
            if (!eq) {
                free(o->env.ptr);
                return failz(err, PG_INVALID_ARGUMENT, "env entries must be NAME=value");
            }
            o->env.ptr[i].f0.ptr = (uint8_t *)kv;
            o->env.ptr[i].f0.len = (size_t)(eq - kv);
            imports_string_set(&o->env.ptr[i].f1, eq + 1);
        }
    }
    o->start_new_session = options->start_new_session;
    return PG_OK;
}

static pg_code new_process(procgate_subprocess_types_own_process_t handle,
                           const pg_options *options, pg_process **out, pg_error *err) {
    pg_process *proc = calloc(1, sizeof *proc);
    if (!proc) {
        procgate_subprocess_types_process_drop_own(handle);
        return failz(err, PG_NO_MEMORY, "out of memory");
    }
    proc->handle = handle;
    proc->pid = procgate_subprocess_types_method_process_pid(borrow(proc));
    size_t limit = options && options->limit ? options->limit : DEFAULT_LIMIT;
    if (options && options->stdin_ == PG_PIPE) {
        proc->in = calloc(1, sizeof *proc->in);
        if (proc->in) proc->in->proc = proc;
    }
    if (options && options->stdout_ == PG_PIPE) {
        proc->out = calloc(1, sizeof *proc->out);
        if (proc->out) {
            proc->out->proc = proc;
            proc->out->limit = limit;
        }
    }
    if (options && options->stderr_ == PG_PIPE) {
        proc->err = calloc(1, sizeof *proc->err);
        if (proc->err) {
            proc->err->proc = proc;
            proc->err->is_stderr = true;
            proc->err->limit = limit;
        }
    }
    *out = proc;
    return PG_OK;
}

pg_code pg_create_subprocess_exec(const char *program, const char *const *args,
                                  const pg_options *options, pg_process **proc, pg_error *err) {
    procgate_subprocess_types_options_t o;
    pg_code code = wit_options(options, &o, err);
    if (code) return code;
    size_t n = 0;
    while (args && args[n]) n++;
    imports_list_string_t list = {n ? calloc(n, sizeof(imports_string_t)) : NULL, n};
    if (n && !list.ptr) {
        free(o.env.ptr);
        return failz(err, PG_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < n; i++) imports_string_set(&list.ptr[i], args[i]);
    imports_string_t name;
    imports_string_set(&name, program);
    procgate_subprocess_types_own_process_t handle;
    wit_error e;
    bool ok = procgate_subprocess_subprocess_create_subprocess_exec(&name, &list, &o, &handle, &e);
    free(list.ptr);
    free(o.env.ptr);
    if (!ok) return from_wit(err, &e);
    return new_process(handle, options, proc, err);
}

pg_code pg_create_subprocess_shell(const char *cmd, const pg_options *options,
                                   pg_process **proc, pg_error *err) {
    procgate_subprocess_types_options_t o;
    pg_code code = wit_options(options, &o, err);
    if (code) return code;
    imports_string_t text;
    imports_string_set(&text, cmd);
    procgate_subprocess_types_own_process_t handle;
    wit_error e;
    bool ok = procgate_subprocess_subprocess_create_subprocess_shell(&text, &o, &handle, &e);
    free(o.env.ptr);
    if (!ok) return from_wit(err, &e);
    return new_process(handle, options, proc, err);
}

static void release_reader(pg_reader *r) {
    if (r && r->has_stream) {
        wasi_io_streams_input_stream_drop_own(r->stream);
        r->has_stream = false;
    }
}

static void release_writer(pg_writer *w) {
    if (w && w->has_stream) {
        wasi_io_streams_output_stream_drop_own(w->stream);
        w->has_stream = false;
    }
    if (w) w->taken = true;
}

void pg_free(pg_process *proc) {
    if (!proc) return;
    /* Streams and the pending communicate before the process. */
    release_writer(proc->in);
    release_reader(proc->out);
    release_reader(proc->err);
    if (proc->out) free(proc->out->buf);
    if (proc->err) free(proc->err->buf);
    free(proc->in);
    free(proc->out);
    free(proc->err);
    if (proc->communicating) {
        procgate_subprocess_types_future_communicate_drop_own(proc->future);
    }
    procgate_subprocess_types_process_drop_own(proc->handle);
    free(proc);
}

uint32_t pg_pid(const pg_process *proc) { return proc->pid; }

int32_t pg_returncode(pg_process *proc) {
    if (!proc->exited) {
        int32_t code;
        if (procgate_subprocess_types_method_process_returncode(borrow(proc), &code)) {
            proc->exited = true;
            proc->returncode = code;
        }
    }
    return proc->exited ? proc->returncode : PG_RUNNING;
}

static void block_on(wasi_io_poll_own_pollable_t pollable) {
    wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(pollable));
    wasi_io_poll_pollable_drop_own(pollable);
}

pg_code pg_wait(pg_process *proc, int32_t *code, pg_error *err) {
    if (!proc->exited) {
        wit_error e;
        int32_t rc;
        if (!procgate_subprocess_types_method_process_wait(borrow(proc), &rc, &e)) {
            return from_wit(err, &e);
        }
        proc->exited = true;
        proc->returncode = rc;
    }
    if (code) *code = proc->returncode;
    return PG_OK;
}

/* ------------------------------------------------------------ streams */

static pg_code writer_stream(pg_writer *w, pg_error *err) {
    if (!w->taken) {
        w->taken = true;
        wit_error e;
        if (!procgate_subprocess_types_method_process_stdin(borrow(w->proc), &w->stream, &e)) {
            return from_wit(err, &e);
        }
        w->has_stream = true;
    }
    if (!w->has_stream) return failz(err, PG_CLOSED, "stdin is closed");
    return PG_OK;
}

pg_code pg_write(pg_writer *w, const uint8_t *data, size_t len, pg_error *err) {
    pg_code code = writer_stream(w, err);
    if (code) return code;
    wasi_io_streams_borrow_output_stream_t s = wasi_io_streams_borrow_output_stream(w->stream);
    wasi_io_streams_stream_error_t e;
    while (len > 0) {
        uint64_t permit;
        if (!wasi_io_streams_method_output_stream_check_write(s, &permit, &e)) {
            return from_stream_error(err, &e);
        }
        if (permit == 0) {
            block_on(wasi_io_streams_method_output_stream_subscribe(s));
            continue;
        }
        size_t n = len < permit ? len : (size_t)permit;
        imports_list_u8_t chunk = {(uint8_t *)data, n};
        if (!wasi_io_streams_method_output_stream_write(s, &chunk, &e)) {
            return from_stream_error(err, &e);
        }
        data += n;
        len -= n;
    }
    if (!wasi_io_streams_method_output_stream_blocking_flush(s, &e)) {
        return from_stream_error(err, &e);
    }
    return PG_OK;
}

void pg_close(pg_writer *w) {
    if (!w) return;
    if (!w->taken) {
        /* Taking stdin and dropping it closes it. */
        wit_error e;
        w->taken = true;
        if (procgate_subprocess_types_method_process_stdin(borrow(w->proc), &w->stream, &e)) {
            w->has_stream = true;
        } else {
            procgate_subprocess_types_error_free(&e);
        }
    }
    release_writer(w);
}

pg_reader *pg_stdout(pg_process *proc) { return proc->out; }
pg_reader *pg_stderr(pg_process *proc) { return proc->err; }
pg_writer *pg_stdin(pg_process *proc) { return proc->in; }

/* Reads more into the buffer, blocking; sets eof at the end. */
static pg_code fill(pg_reader *r, pg_error *err) {
    if (r->eof) return PG_OK;
    if (!r->taken) {
        r->taken = true;
        wit_error e;
        bool ok = r->is_stderr
            ? procgate_subprocess_types_method_process_stderr(borrow(r->proc), &r->stream, &e)
            : procgate_subprocess_types_method_process_stdout(borrow(r->proc), &r->stream, &e);
        if (!ok) return from_wit(err, &e);
        r->has_stream = true;
    }
    if (!r->has_stream) {
        r->eof = true;
        return PG_OK;
    }
    imports_list_u8_t data;
    wasi_io_streams_stream_error_t e;
    if (!wasi_io_streams_method_input_stream_blocking_read(
            wasi_io_streams_borrow_input_stream(r->stream), CHUNK, &data, &e)) {
        r->eof = true;
        release_reader(r);
        if (e.tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED) return PG_OK;
        return from_stream_error(err, &e);
    }
    if (r->len + data.len > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + data.len) cap *= 2;
        uint8_t *buf = realloc(r->buf, cap);
        if (!buf) {
            imports_list_u8_free(&data);
            return failz(err, PG_NO_MEMORY, "out of memory");
        }
        r->buf = buf;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data.ptr, data.len);
    r->len += data.len;
    imports_list_u8_free(&data);
    return PG_OK;
}

/* Moves the first n buffered bytes into *out. */
static pg_code take(pg_reader *r, size_t n, pg_bytes *out, pg_error *err) {
    uint8_t *data = malloc(n ? n : 1);
    if (!data) return failz(err, PG_NO_MEMORY, "out of memory");
    memcpy(data, r->buf, n);
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
    set_bytes(out, data, n, true);
    return PG_OK;
}

bool pg_at_eof(pg_reader *r) { return r->eof && r->len == 0; }

pg_code pg_read(pg_reader *r, ssize_t n, pg_bytes *data, pg_error *err) {
    pg_code code;
    if (n < 0) {
        while (!r->eof) {
            if ((code = fill(r, err))) return code;
        }
        return take(r, r->len, data, err);
    }
    if (r->len == 0 && n > 0 && (code = fill(r, err))) return code;
    return take(r, (size_t)n < r->len ? (size_t)n : r->len, data, err);
}

pg_code pg_readexactly(pg_reader *r, size_t n, pg_bytes *data, pg_error *err) {
    pg_code code;
    while (r->len < n) {
        if (r->eof) {
            take(r, r->len, data, NULL);
            return failz(err, PG_INCOMPLETE_READ, "EOF before the bytes asked for");
        }
        if ((code = fill(r, err))) return code;
    }
    return take(r, n, data, err);
}

static ssize_t find(const uint8_t *hay, size_t len, size_t from, const uint8_t *needle, size_t n) {
    for (size_t i = from; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) return (ssize_t)i;
    }
    return -1;
}

pg_code pg_readuntil(pg_reader *r, const uint8_t *sep, size_t sep_len, pg_bytes *data,
                     pg_error *err) {
    if (sep_len == 0) return failz(err, PG_INVALID_ARGUMENT, "empty separator");
    size_t offset = 0;
    ssize_t index;
    pg_code code;
    for (;;) {
        if (r->len - offset >= sep_len) {
            index = find(r->buf, r->len, offset, sep, sep_len);
            if (index >= 0) break;
            offset = r->len + 1 - sep_len;
            if (offset > r->limit) {
                return failz(err, PG_LIMIT_OVERRUN, "separator is not found, and chunk exceed the limit");
            }
        }
        if (r->eof) {
            take(r, r->len, data, NULL);
            return failz(err, PG_INCOMPLETE_READ, "EOF before the separator");
        }
        if ((code = fill(r, err))) return code;
    }
    if ((size_t)index > r->limit) {
        return failz(err, PG_LIMIT_OVERRUN, "separator is found, but chunk is longer than limit");
    }
    return take(r, (size_t)index + sep_len, data, err);
}

pg_code pg_readline(pg_reader *r, pg_bytes *line, pg_error *err) {
    pg_code code = pg_readuntil(r, (const uint8_t *)"\n", 1, line, err);
    if (code == PG_INCOMPLETE_READ) return PG_OK; /* the partial line */
    if (code == PG_LIMIT_OVERRUN) {
        /* asyncio drops the over-long line. */
        ssize_t nl = find(r->buf, r->len, 0, (const uint8_t *)"\n", 1);
        size_t n = nl >= 0 ? (size_t)nl + 1 : r->len;
        memmove(r->buf, r->buf + n, r->len - n);
        r->len -= n;
    }
    return code;
}

/* ------------------------------------------------------------ communicate */

pg_code pg_communicate_start(pg_process *proc, const uint8_t *input, size_t input_len,
                             pg_error *err) {
    if (proc->communicating || proc->finished) {
        return failz(err, PG_INVALID_ARGUMENT, "communicate was already started");
    }
    wit_error e;
    pg_writer *w = proc->in;
    if (w && !w->taken) {
        /* The host feeds stdin and closes it. */
        imports_list_u8_t data = {(uint8_t *)input, input_len};
        if (!procgate_subprocess_types_method_process_start_communicate(
                borrow(proc), input ? &data : NULL, &proc->future, &e)) {
            return from_wit(err, &e);
        }
        w->taken = true;
    } else {
        /* The guest holds stdin: the host reads while we write. */
        if (!procgate_subprocess_types_method_process_start_communicate(borrow(proc), NULL,
                                                                         &proc->future, &e)) {
            return from_wit(err, &e);
        }
        if (w) {
            if (input && w->has_stream) {
                pg_error ignored; /* a broken pipe is ignored, as in asyncio */
                pg_write(w, input, input_len, &ignored);
            }
            release_writer(w);
        }
    }
    proc->communicating = true;
    return PG_OK;
}

/* Hands what a reader buffered, then the host's data, to *out. */
static pg_code merge(pg_reader *r, imports_option_list_u8_t *host, pg_bytes *out, pg_error *err) {
    if (!r) {
        if (host->is_some) imports_list_u8_free(&host->val);
        set_bytes(out, NULL, 0, false);
        return PG_OK;
    }
    size_t extra = host->is_some ? host->val.len : 0;
    uint8_t *data = malloc(r->len + extra + 1);
    if (!data) {
        if (host->is_some) imports_list_u8_free(&host->val);
        return failz(err, PG_NO_MEMORY, "out of memory");
    }
    memcpy(data, r->buf, r->len);
    if (extra) memcpy(data + r->len, host->val.ptr, extra);
    size_t len = r->len + extra;
    r->len = 0;
    r->eof = true;
    if (host->is_some) imports_list_u8_free(&host->val);
    set_bytes(out, data, len, true);
    return PG_OK;
}

pg_code pg_communicate_finish(pg_process *proc, pg_bytes *out, pg_bytes *errout, pg_error *err) {
    if (!proc->communicating) return failz(err, PG_INVALID_ARGUMENT, "no communicate was started");
    procgate_subprocess_types_borrow_future_communicate_t f =
        procgate_subprocess_types_borrow_future_communicate(proc->future);
    procgate_subprocess_types_result_communicate_output_error_t result;
    while (!procgate_subprocess_types_method_future_communicate_get(f, &result)) {
        block_on(procgate_subprocess_types_method_future_communicate_subscribe(f));
    }
    procgate_subprocess_types_future_communicate_drop_own(proc->future);
    proc->communicating = false;
    proc->finished = true;
    if (result.is_err) return from_wit(err, &result.val.err);
    procgate_subprocess_types_communicate_output_t *o = &result.val.ok;
    proc->exited = true;
    proc->returncode = o->returncode;
    pg_code code = merge(proc->out, &o->stdout_, out, err);
    pg_code code2 = merge(proc->err, &o->stderr_, errout, code ? NULL : err);
    return code ? code : code2;
}

pg_code pg_communicate(pg_process *proc, const uint8_t *input, size_t input_len, pg_bytes *out,
                       pg_bytes *errout, pg_error *err) {
    pg_code code = pg_communicate_start(proc, input, input_len, err);
    if (code) return code;
    return pg_communicate_finish(proc, out, errout, err);
}

pg_code pg_poll(pg_process *const *procs, size_t n, size_t *ready, pg_error *err) {
    wasi_io_poll_own_pollable_t *owned = calloc(n ? n : 1, sizeof *owned);
    wasi_io_poll_borrow_pollable_t *borrowed = calloc(n ? n : 1, sizeof *borrowed);
    size_t *index = calloc(n ? n : 1, sizeof *index);
    if (!owned || !borrowed || !index) {
        free(owned);
        free(borrowed);
        free(index);
        return failz(err, PG_NO_MEMORY, "out of memory");
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        pg_process *p = procs[i];
        if (!p || p->finished) continue;
        if (p->communicating) {
            owned[count] = procgate_subprocess_types_method_future_communicate_subscribe(
                procgate_subprocess_types_borrow_future_communicate(p->future));
        } else if (p->exited) {
            continue;
        } else {
            owned[count] = procgate_subprocess_types_method_process_subscribe(borrow(p));
        }
        borrowed[count] = wasi_io_poll_borrow_pollable(owned[count]);
        index[count] = i;
        count++;
    }
    pg_code code = PG_OK;
    if (count == 0) {
        code = failz(err, PG_INVALID_ARGUMENT, "no process to wait for");
    } else {
        wasi_io_poll_list_borrow_pollable_t list = {borrowed, count};
        imports_list_u32_t result;
        wasi_io_poll_poll(&list, &result);
        *ready = index[result.ptr[0]];
        imports_list_u32_free(&result);
    }
    for (size_t i = 0; i < count; i++) wasi_io_poll_pollable_drop_own(owned[i]);
    free(owned);
    free(borrowed);
    free(index);
    return code;
}

/* ------------------------------------------------------------ signals */

pg_code pg_send_signal(pg_process *proc, int signum, pg_error *err) {
    static const int8_t wit[32] = {
        -1, PROCGATE_SUBPROCESS_TYPES_SIGNAL_HUP, PROCGATE_SUBPROCESS_TYPES_SIGNAL_INT,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_QUIT, PROCGATE_SUBPROCESS_TYPES_SIGNAL_ILL,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_TRAP, PROCGATE_SUBPROCESS_TYPES_SIGNAL_ABRT,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_BUS, PROCGATE_SUBPROCESS_TYPES_SIGNAL_FPE,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_KILL, PROCGATE_SUBPROCESS_TYPES_SIGNAL_USR1,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_SEGV, PROCGATE_SUBPROCESS_TYPES_SIGNAL_USR2,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_PIPE, PROCGATE_SUBPROCESS_TYPES_SIGNAL_ALRM,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_TERM, -1, PROCGATE_SUBPROCESS_TYPES_SIGNAL_CHLD,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_CONT, PROCGATE_SUBPROCESS_TYPES_SIGNAL_STOP,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_TSTP, PROCGATE_SUBPROCESS_TYPES_SIGNAL_TTIN,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_TTOU, PROCGATE_SUBPROCESS_TYPES_SIGNAL_URG,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_XCPU, PROCGATE_SUBPROCESS_TYPES_SIGNAL_XFSZ,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_VTALRM, PROCGATE_SUBPROCESS_TYPES_SIGNAL_PROF,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_WINCH, PROCGATE_SUBPROCESS_TYPES_SIGNAL_IO,
        PROCGATE_SUBPROCESS_TYPES_SIGNAL_PWR, PROCGATE_SUBPROCESS_TYPES_SIGNAL_SYS,
    };
    if (signum <= 0 || signum >= 32 || wit[signum] < 0) {
        return failz(err, PG_INVALID_ARGUMENT, "unsupported signal");
    }
    wit_error e;
    if (!procgate_subprocess_types_method_process_send_signal(borrow(proc), (uint8_t)wit[signum],
                                                              &e)) {
        return from_wit(err, &e);
    }
    return PG_OK;
}

pg_code pg_terminate(pg_process *proc, pg_error *err) {
    wit_error e;
    if (!procgate_subprocess_types_method_process_terminate(borrow(proc), &e)) {
        return from_wit(err, &e);
    }
    return PG_OK;
}

pg_code pg_kill(pg_process *proc, pg_error *err) {
    wit_error e;
    if (!procgate_subprocess_types_method_process_kill(borrow(proc), &e)) {
        return from_wit(err, &e);
    }
    return PG_OK;
}
