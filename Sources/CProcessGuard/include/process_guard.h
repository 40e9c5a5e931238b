#ifndef ATLAS_PROCESS_GUARD_H
#define ATLAS_PROCESS_GUARD_H

/// Marks the process not dumpable (prctl PR_SET_DUMPABLE 0): no core file, and other processes
/// of the same user can neither ptrace it nor read /proc/PID/mem or /proc/PID/environ.
/// Returns 0, or -1 with errno set. (prctl is variadic, so Swift calls it through this.)
int atlas_set_not_dumpable(void);

/// prctl PR_GET_DUMPABLE: 1 when dumpable, 0 when not, -1 with errno set on error.
int atlas_get_dumpable(void);

#endif
