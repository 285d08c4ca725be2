/* The command entry point, as newer wasi-libc's crt1-command.c has it.
 *
 * Debian's wasi-libc (2022) comes with an older crt1-command.o whose
 * `_start` does not call `__wasm_call_ctors` itself, so wasm-ld wraps every
 * export of a command in constructor and destructor calls, `cabi_realloc`
 * included: the first list the host returns would then run the destructors
 * (flushing stdio) in the middle of a host call, which traps ("cannot leave
 * component instance"). Calling the constructors here, and linking with
 * -nostartfiles, makes wasm-ld leave the exports alone. */
#include <wasi/api.h>

extern void __wasm_call_ctors(void);
extern void __wasm_call_dtors(void);
extern int __main_void(void);

__attribute__((export_name("_start"))) void _start(void) {
    static volatile int started = 0;
    if (started != 0) __builtin_trap();
    started = 1;
    __wasm_call_ctors();
    int r = __main_void();
    __wasm_call_dtors();
    if (r != 0) __wasi_proc_exit(r);
}
