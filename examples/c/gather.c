/* The second example of Python's asyncio subprocess documentation, in C:
 * two shell commands at once. Both are started, each `communicate` is
 * started, and pg_poll (one wasi:io/poll.poll over both) says which is done
 * first: about 1 s in all, not 2. Run it with gather.toml (a shell granted).
 *
 *     async def main():
 *         await asyncio.gather(
 *             run('ls /zzz'),
 *             run('sleep 1; echo "hello"'))
 */
#include <stdio.h>

#include "procgate.h"

#define N 2

int main(void) {
    const char *cmds[N] = {"ls /zzz", "sleep 1; echo \"hello\""};
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    opts.stderr_ = PG_PIPE;
    pg_process *procs[N] = {NULL};
    pg_error err;
    int status = 0;

    for (int i = 0; i < N; i++) {
        if (pg_create_subprocess_shell(cmds[i], &opts, &procs[i], &err) != PG_OK ||
            pg_communicate_start(procs[i], NULL, 0, &err) != PG_OK) {
            fprintf(stderr, "gather: %s: %s\n", pg_code_name(err.code), err.message);
            return 1;
        }
    }

    /* Print each result as it comes, as each run() of the example does. */
    for (int done = 0; done < N; done++) {
        size_t i;
        pg_bytes out, errout;
        if (pg_poll(procs, N, &i, &err) != PG_OK ||
            pg_communicate_finish(procs[i], &out, &errout, &err) != PG_OK) {
            fprintf(stderr, "gather: %s: %s\n", pg_code_name(err.code), err.message);
            status = 1;
            break;
        }
        printf("['%s' exited with %d]\n", cmds[i], pg_returncode(procs[i]));
        if (out.len) printf("[stdout]\n%.*s\n", (int)out.len, (const char *)out.data);
        if (errout.len) printf("[stderr]\n%.*s\n", (int)errout.len, (const char *)errout.data);
        pg_bytes_free(&out);
        pg_bytes_free(&errout);
    }

    for (int i = 0; i < N; i++) pg_free(procs[i]);
    return status;
}
