/* The cross-language cases, in C (guests/c/procgate.h): the same cases,
 * printing the same lines, as tests/guests/src/bin/cases.rs. The table of
 * expected output is in tests/tests/guests/languages.rs. argv[1] names the
 * case; gather takes a FIFO's path in argv[2]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procgate.h"

/* Prints data with its newlines shown as \n. */
static void shown(const pg_bytes *data) {
    for (size_t i = 0; i < data->len; i++) {
        if (data->data[i] == '\n') {
            fputs("\\n", stdout);
        } else {
            putchar(data->data[i]);
        }
    }
}

static int failed(const pg_error *err) {
    printf("error: %s: %s\n", pg_code_name(err->code), err->message);
    return 1;
}

/* The native error for a denial: the code PG_DENIED with the rule. */
static int denied_or_failed(const pg_error *err) {
    if (err->code != PG_DENIED) return failed(err);
    printf("denied: %s\n", err->message);
    return 0;
}

static int print_output(pg_process *proc, pg_bytes *out) {
    printf("stdout: ");
    shown(out);
    printf("\nreturncode: %d\n", pg_returncode(proc));
    pg_bytes_free(out);
    pg_free(proc);
    return 0;
}

static int exec_case(void) {
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    const char *args[] = {"hello from exec", NULL};
    pg_process *proc;
    pg_error err;
    pg_bytes out;
    if (pg_create_subprocess_exec("echo", args, &opts, &proc, &err)) return failed(&err);
    if (pg_communicate(proc, NULL, 0, &out, NULL, &err)) return failed(&err);
    return print_output(proc, &out);
}

static int shell_case(void) {
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    pg_process *proc;
    pg_error err;
    pg_bytes out;
    if (pg_create_subprocess_shell("echo hello from the shell", &opts, &proc, &err)) {
        return denied_or_failed(&err);
    }
    if (pg_communicate(proc, NULL, 0, &out, NULL, &err)) return failed(&err);
    return print_output(proc, &out);
}

static int denied_case(void) {
    const char *args[] = {"/etc/hostname", NULL};
    pg_process *proc;
    pg_error err;
    if (pg_create_subprocess_exec("cat", args, NULL, &proc, &err)) return denied_or_failed(&err);
    printf("started %u\n", pg_pid(proc));
    pg_free(proc);
    return 0;
}

static int communicate_case(void) {
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdin_ = PG_PIPE;
    opts.stdout_ = PG_PIPE;
    pg_process *proc;
    pg_error err;
    pg_bytes out;
    if (pg_create_subprocess_exec("cat", NULL, &opts, &proc, &err)) return failed(&err);
    const char *input = "one\ntwo\n";
    if (pg_communicate(proc, (const uint8_t *)input, strlen(input), &out, NULL, &err)) {
        return failed(&err);
    }
    return print_output(proc, &out);
}

static const char LINES[] =
    "import time\nfor word in ['alpha', 'beta', 'gamma']:\n    print(word, flush=True)\n"
    "    time.sleep(0.05)\n";

static int readline_case(void) {
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    const char *args[] = {"-c", LINES, NULL};
    pg_process *proc;
    pg_error err;
    if (pg_create_subprocess_exec("python3", args, &opts, &proc, &err)) return failed(&err);
    for (;;) {
        pg_bytes line;
        if (pg_readline(pg_stdout(proc), &line, &err)) return failed(&err);
        if (line.len == 0) {
            pg_bytes_free(&line);
            break;
        }
        printf("line: ");
        shown(&line);
        printf("\n");
        pg_bytes_free(&line);
    }
    printf("eof\n");
    int32_t code;
    if (pg_wait(proc, &code, &err)) return failed(&err);
    printf("returncode: %d\n", code);
    pg_free(proc);
    return 0;
}

static int kill_case(void) {
    const char *args[] = {"60", NULL};
    pg_process *proc;
    pg_error err;
    if (pg_create_subprocess_exec("sleep", args, NULL, &proc, &err)) return failed(&err);
    if (pg_kill(proc, &err)) return failed(&err);
    int32_t code;
    if (pg_wait(proc, &code, &err)) return failed(&err);
    printf("returncode: %d\n", code);
    if (pg_kill(proc, &err) == PG_PROCESS_EXITED) {
        printf("kill after exit: process exited\n");
    } else {
        printf("kill after exit: %s\n", pg_code_name(err.code));
    }
    pg_free(proc);
    return 0;
}

static int gather_case(const char *fifo) {
    /* The first can only finish once the second runs: run one after the
     * other, they would wait for each other forever. */
    char cmds[2][512];
    snprintf(cmds[0], sizeof cmds[0], "echo ping > %s; echo a done", fifo);
    snprintf(cmds[1], sizeof cmds[1], "read line < %s; echo \"b got $line\"", fifo);
    pg_options opts = PG_OPTIONS_INIT;
    opts.stdout_ = PG_PIPE;
    pg_process *procs[2];
    pg_bytes outs[2];
    pg_error err;
    for (int i = 0; i < 2; i++) {
        if (pg_create_subprocess_shell(cmds[i], &opts, &procs[i], &err)) return failed(&err);
        if (pg_communicate_start(procs[i], NULL, 0, &err)) return failed(&err);
    }
    /* asyncio.gather: finish each as it becomes ready. */
    for (int done = 0; done < 2; done++) {
        size_t ready;
        if (pg_poll(procs, 2, &ready, &err)) return failed(&err);
        if (pg_communicate_finish(procs[ready], &outs[ready], NULL, &err)) return failed(&err);
    }
    for (int i = 0; i < 2; i++) {
        printf("[%d] returncode %d: ", i, pg_returncode(procs[i]));
        shown(&outs[i]);
        printf("\n");
        pg_bytes_free(&outs[i]);
        pg_free(procs[i]);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "";
    if (!strcmp(name, "exec")) return exec_case();
    if (!strcmp(name, "shell")) return shell_case();
    if (!strcmp(name, "denied")) return denied_case();
    if (!strcmp(name, "communicate")) return communicate_case();
    if (!strcmp(name, "readline")) return readline_case();
    if (!strcmp(name, "kill")) return kill_case();
    if (!strcmp(name, "gather") && argc > 2) return gather_case(argv[2]);
    printf("unknown case %s\n", name);
    return 1;
}
