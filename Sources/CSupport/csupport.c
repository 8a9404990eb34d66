#define _GNU_SOURCE
#include "csupport.h"

#include <fcntl.h>
#include <unistd.h>

int csupport_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int csupport_o_path(void) { return O_PATH; }
