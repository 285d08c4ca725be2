/* The guest's exit status reaches the host (guests/c/start.c): `main`
 * returns 3 by default; with an argument N it calls exit(N) from a
 * function below main, after writing a line that only exit's stdio flush
 * sends. */
#include <stdio.h>
#include <stdlib.h>

static void leave(int status) {
    printf("leaving with %d", status);
    exit(status);
}

int main(int argc, char **argv) {
    if (argc > 1) leave(atoi(argv[1]));
    printf("returning 3\n");
    return 3;
}
