/* The command entry point, as newer wasi-libc's crt1-command.c has it, and
 * the guest's exit status.
 *
 * Debian's wasi-libc (2022) comes with an older crt1-command.o whose
 * `_start` does not call `__wasm_call_ctors` itself, so wasm-ld wraps every
 * export of a command in constructor and destructor calls, `cabi_realloc`
 * included: the first list the host returns would then run the destructors
 * (flushing stdio) in the middle of a host call, which traps ("cannot leave
 * component instance"). Calling the constructors here, and linking with
 * -nostartfiles, makes wasm-ld leave the exports alone.
 *
 * The exit status: the WASI preview1 adapter turns proc_exit(n) into
 * wasi:cli/exit.exit(err) for every n other than 0, so the host would see
 * 1. Returning n from main, or exit(n) anywhere (wasi-libc's exit runs the
 * atexit handlers, flushes stdio, then calls _Exit, which calls
 * __wasi_proc_exit), ends here instead: the guest is linked with
 * -Wl,--wrap=__wasi_proc_exit, and this calls
 * wasi:cli/exit.exit-with-code(n & 0xff), as a POSIX exit status keeps the
 * low 8 bits. */
#include <stdint.h>
#include <wasi/api.h>

#include "imports.h"

extern void __wasm_call_ctors(void);
extern void __wasm_call_dtors(void);
extern int __main_void(void);

__attribute__((noreturn)) void __wrap___wasi_proc_exit(__wasi_exitcode_t code) {
    wasi_cli_exit_exit_with_code((uint8_t)(code & 0xff));
    __builtin_unreachable();
}

__attribute__((export_name("_start"))) void _start(void) {
    static volatile int started = 0;
    if (started != 0) __builtin_trap();
    started = 1;
    __wasm_call_ctors();
    int r = __main_void();
    __wasm_call_dtors();
    if (r != 0) __wrap___wasi_proc_exit((__wasi_exitcode_t)r);
}
