#include "process_guard.h"

#include <sys/prctl.h>

int atlas_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

int atlas_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
