/* procgate for C guests: Python's asyncio.subprocess API as blocking calls,
 * served by the host's procgate:subprocess interfaces.
 *
 * Build with wit-bindgen's C bindings for the world
 * procgate:subprocess/imports (imports.h, imports.c,
 * imports_component_type.o) and this library (procgate.c), for
 * wasm32-wasi, then make a component with the WASI preview1 command
 * adapter; scripts/guests-other-languages.sh shows the commands.
 *
 *     pg_process *proc;
 *     pg_error err;
 *     pg_options opts = PG_OPTIONS_INIT;
 *     opts.stdout_ = PG_PIPE;
 *     if (pg_create_subprocess_shell("ls /zzz", &opts, &proc, &err) != PG_OK) {
 *         fprintf(stderr, "%s: %s\n", pg_code_name(err.code), err.message);
 *         return 1;
 *     }
 *     pg_bytes out, errout;
 *     pg_communicate(proc, NULL, 0, &out, &errout, &err);
 *     printf("exited with %d\n", pg_returncode(proc));
 *     pg_bytes_free(&out);
 *     pg_free(proc);
 *
 * Every call that can fail returns a pg_code (PG_OK is 0) and fills a
 * pg_error: its code and a message (for PG_DENIED, the policy rule that
 * refused the request). Several processes are waited for at once with
 * pg_communicate_start on each, then pg_poll (one wasi:io/poll.poll over
 * their pollables) and pg_communicate_finish: asyncio's gather.
 */
#ifndef PROCGATE_H
#define PROCGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong: the WIT error's cases, then the library's own. */
typedef enum pg_code {
    PG_OK = 0,
    PG_DENIED,            /* the host's policy refused: message names the rule */
    PG_NOT_FOUND,         /* no such program (Python's FileNotFoundError) */
    PG_PERMISSION_DENIED, /* the OS refused to start it (PermissionError) */
    PG_INVALID_ARGUMENT,  /* a malformed request (ValueError) */
    PG_LIMIT_EXCEEDED,    /* a limit of the host's policy */
    PG_PROCESS_EXITED,    /* signalling an exited process (ProcessLookupError) */
    PG_IO,                /* any other OS error */
    PG_CLOSED,            /* writing to a closed stdin (BrokenPipeError) */
    PG_INCOMPLETE_READ,   /* EOF before pg_readexactly/pg_readuntil got enough */
    PG_LIMIT_OVERRUN,     /* a line longer than the reader's limit */
    PG_NO_MEMORY,
} pg_code;

typedef struct pg_error {
    pg_code code;
    char message[512];
} pg_error;

/* The name of a code: "denied", "not-found", ... */
const char *pg_code_name(pg_code code);

/* Where a standard stream goes: asyncio's None, PIPE, DEVNULL, STDOUT. */
typedef enum pg_stdio { PG_INHERIT = 0, PG_PIPE, PG_DEVNULL, PG_STDOUT } pg_stdio;

/* The keyword arguments of create_subprocess_exec/shell. (The fields end
 * with `_` because stdio.h makes stdin, stdout and stderr macros.) */
typedef struct pg_options {
    pg_stdio stdin_, stdout_, stderr_;
    uint32_t limit;             /* stream readers' limit; 0: 64 KiB */
    const char *cwd;            /* NULL: the policy's default */
    const char *const *env;     /* NULL-terminated "NAME=value" list, or NULL */
    bool start_new_session;
} pg_options;

#define PG_OPTIONS_INIT {PG_INHERIT, PG_INHERIT, PG_INHERIT, 0, NULL, NULL, false}

/* Bytes the library allocated (free with pg_bytes_free). `present` is false
 * for a stream that was not created with PG_PIPE (Python's None). */
typedef struct pg_bytes {
    uint8_t *data;
    size_t len;
    bool present;
} pg_bytes;

void pg_bytes_free(pg_bytes *bytes);

typedef struct pg_process pg_process;

/* asyncio's create_subprocess_exec: `args` is NULL-terminated and excludes
 * the program; `options` may be NULL. The policy decides first: a name
 * without a slash is looked up on the policy's search path. */
pg_code pg_create_subprocess_exec(const char *program, const char *const *args,
                                  const pg_options *options, pg_process **proc, pg_error *err);

/* asyncio's create_subprocess_shell: PG_DENIED unless the policy grants a
 * shell. Quoting is the caller's job. */
pg_code pg_create_subprocess_shell(const char *cmd, const pg_options *options,
                                   pg_process **proc, pg_error *err);

/* Let go of the process: the host kills it if it still runs, and reaps it. */
void pg_free(pg_process *proc);

uint32_t pg_pid(const pg_process *proc);

/* The exit code (-N if killed by signal N), or PG_RUNNING while running. */
#define PG_RUNNING INT32_MIN
int32_t pg_returncode(pg_process *proc);

/* Wait for the process to exit; its return code in *code. Can deadlock
 * with PG_PIPE output nobody reads: use pg_communicate then. */
pg_code pg_wait(pg_process *proc, int32_t *code, pg_error *err);

/* asyncio's communicate: send `input` (if not NULL) to stdin, close stdin,
 * read stdout and stderr to EOF, wait for the exit. `out`/`errout` may be
 * NULL. A broken pipe while writing the input is ignored. */
pg_code pg_communicate(pg_process *proc, const uint8_t *input, size_t input_len,
                       pg_bytes *out, pg_bytes *errout, pg_error *err);

/* The two halves of pg_communicate, to run several at once: start, then
 * pg_poll until it is ready, then pg_communicate_finish (which blocks until
 * the result is there, so calling it directly is pg_communicate). */
pg_code pg_communicate_start(pg_process *proc, const uint8_t *input, size_t input_len,
                             pg_error *err);
pg_code pg_communicate_finish(pg_process *proc, pg_bytes *out, pg_bytes *errout, pg_error *err);

/* Wait until one of `procs` is ready: its started communicate has its
 * result, or (with none started) it has exited. Processes whose communicate
 * was finished, and NULL entries, are skipped. *ready is the index of a
 * ready one. PG_INVALID_ARGUMENT if none is left to wait for. */
pg_code pg_poll(pg_process *const *procs, size_t n, size_t *ready, pg_error *err);

/* Signals, by their Linux number (9 is SIGKILL). PG_PROCESS_EXITED once
 * the process has exited. */
pg_code pg_send_signal(pg_process *proc, int signum, pg_error *err);
pg_code pg_terminate(pg_process *proc, pg_error *err);
pg_code pg_kill(pg_process *proc, pg_error *err);

/* Streams: asyncio's StreamReader (stdout, stderr) and StreamWriter
 * (stdin), blocking. NULL unless the stream was created with PG_PIPE. */
typedef struct pg_reader pg_reader;
typedef struct pg_writer pg_writer;
pg_reader *pg_stdout(pg_process *proc);
pg_reader *pg_stderr(pg_process *proc);
pg_writer *pg_stdin(pg_process *proc);

/* Up to n bytes (n < 0: until EOF); empty at EOF. */
pg_code pg_read(pg_reader *reader, ssize_t n, pg_bytes *data, pg_error *err);
/* One line with its '\n'; the partial line at EOF, empty at the end. */
pg_code pg_readline(pg_reader *reader, pg_bytes *line, pg_error *err);
/* Up to and including `sep`; PG_INCOMPLETE_READ at EOF without it (the
 * partial data in *data), PG_LIMIT_OVERRUN past the limit. */
pg_code pg_readuntil(pg_reader *reader, const uint8_t *sep, size_t sep_len, pg_bytes *data,
                     pg_error *err);
/* Exactly n bytes; PG_INCOMPLETE_READ (the partial data in *data) at EOF. */
pg_code pg_readexactly(pg_reader *reader, size_t n, pg_bytes *data, pg_error *err);
bool pg_at_eof(pg_reader *reader);

/* Write all of `data` and flush (write + drain). PG_CLOSED if the child
 * closed its stdin. */
pg_code pg_write(pg_writer *writer, const uint8_t *data, size_t len, pg_error *err);
/* Close the child's stdin. */
void pg_close(pg_writer *writer);

#ifdef __cplusplus
}
#endif

#endif
