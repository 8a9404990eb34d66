#ifndef CSUPPORT_H
#define CSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec atomically, so a command spawned by another
/// thread never inherits them.
int csupport_pipe_cloexec(int fds[2]);

/// Marks every descriptor from `lowest` up close-on-exec (close_range(2) with
/// CLOSE_RANGE_CLOEXEC, else one by one from /proc/self/fd): what this process inherited is
/// not passed on to the commands it runs. Returns 0, or -1 when neither way worked.
int csupport_cloexec_from(int lowest);

/// O_PATH, which Swift's Glibc module hides behind _GNU_SOURCE.
int csupport_o_path(void);

/// The process's argc and argv as glibc passed them to the initialisers (0 and NULL elsewhere).
int csupport_argc(void);
char **csupport_argv(void);

/// The commit a release build was made from ("" in a build that scripts/release.sh did not stamp).
const char *csupport_build_commit(void);

/// Makes standard output line-buffered, so that a long-running process's log reaches a pipe
/// (a supervisor's journal) a line at a time instead of when the buffer fills.
void csupport_line_buffered_stdout(void);

#endif
