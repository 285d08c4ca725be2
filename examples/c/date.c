/* The last example of Python's asyncio subprocess documentation, in C: read
 * one line from a child's stdout. The guest has no sys.executable: it runs
 * `python3`, which date.toml allows.
 *
 *     proc = await asyncio.create_subprocess_exec(
 *         sys.executable, '-c', code, stdout=asyncio.subprocess.PIPE)
 *     data = await proc.stdout.readline()
 *     line = data.decode('ascii').rstrip()
 *     await proc.wait()
 */
#include <stdio.h>

#include "procgate.h"

int main(void) {
    const char *args[] = {"-c", "import datetime; print(datetime.datetime.now())", NULL};

    /* Create the subprocess; redirect the standard output into a pipe. */
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    pg_process *proc;
    pg_error err;
    if (pg_create_subprocess_exec("python3", args, &opts, &proc, &err) != PG_OK) {
        fprintf(stderr, "date: %s: %s\n", pg_code_name(err.code), err.message);
        return 1;
    }

    /* Read one line of output. */
    pg_bytes line;
    if (pg_readline(pg_stdout(proc), &line, &err) != PG_OK) {
        fprintf(stderr, "date: %s: %s\n", pg_code_name(err.code), err.message);
        pg_free(proc);
        return 1;
    }
    size_t len = line.len;
    while (len > 0 && (line.data[len - 1] == '\n' || line.data[len - 1] == ' ')) len--;

    /* Wait for the subprocess exit. */
    pg_wait(proc, NULL, &err);
    printf("Current date: %.*s\n", (int)len, (const char *)line.data);
    pg_bytes_free(&line);
    pg_free(proc);
    return 0;
}
