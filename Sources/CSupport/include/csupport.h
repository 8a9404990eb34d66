#ifndef CSUPPORT_H
#define CSUPPORT_H

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec atomically, so a command spawned by another
/// thread never inherits them.
int csupport_pipe_cloexec(int fds[2]);

/// O_PATH, which Swift's Glibc module hides behind _GNU_SOURCE.
int csupport_o_path(void);

#endif
