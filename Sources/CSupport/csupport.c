#define _GNU_SOURCE
#include "csupport.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int csupport_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csupport_o_path(void) { return O_PATH; }

void csupport_line_buffered_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

int csupport_cloexec_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) return -1;
    int own = dirfd(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd < lowest || fd == own) continue;
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
    closedir(dir);
    return 0;
}

/* The marker and 47 NUL bytes, in .data (not const, so no compiler folds its value): a release
 * build (scripts/release.sh) writes the commit after the marker in the linked binary. */
char csupport_build_stamp[64] = "updatectl-commit:";

const char *csupport_build_commit(void) { return csupport_build_stamp + 17; }

/* The command line, as glibc hands it to the executable's initialisers. Swift's static runtime
 * reads its arguments from /proc/self/cmdline, which is missing where /proc is not mounted (an
 * initramfs early on, a bare chroot): there updatectl would see no arguments at all. */
static int captured_argc;
static char **captured_argv;

__attribute__((constructor)) static void csupport_capture_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    captured_argc = argc;
    captured_argv = argv;
}

int csupport_argc(void) { return captured_argc; }

char **csupport_argv(void) { return captured_argv; }

