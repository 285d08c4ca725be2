/* The first example of Python's asyncio subprocess documentation, in C with
 * procgate's blocking calls. Run it with shell.toml (a shell granted); an
 * argument replaces `ls /zzz`.
 *
 *     async def run(cmd):
 *         proc = await asyncio.create_subprocess_shell(
 *             cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
 *         stdout, stderr = await proc.communicate()
 *         print(f'[{cmd!r} exited with {proc.returncode}]')
 *         ...
 */
#include <stdio.h>

#include "procgate.h"

static int run(const char *cmd) {
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    opts.stderr_ = PG_PIPE;
    pg_process *proc;
    pg_error err;
    if (pg_create_subprocess_shell(cmd, &opts, &proc, &err) != PG_OK) {
        fprintf(stderr, "shell: %s: %s\n", pg_code_name(err.code), err.message);
        return 1;
    }

    pg_bytes out, errout;
    if (pg_communicate(proc, NULL, 0, &out, &errout, &err) != PG_OK) {
        fprintf(stderr, "shell: %s: %s\n", pg_code_name(err.code), err.message);
        pg_free(proc);
        return 1;
    }

    printf("['%s' exited with %d]\n", cmd, pg_returncode(proc));
    if (out.len) printf("[stdout]\n%.*s\n", (int)out.len, (const char *)out.data);
    if (errout.len) printf("[stderr]\n%.*s\n", (int)errout.len, (const char *)errout.data);
    pg_bytes_free(&out);
    pg_bytes_free(&errout);
    pg_free(proc);
    return 0;
}

int main(int argc, char **argv) {
    return run(argc > 1 ? argv[1] : "ls /zzz");
}
